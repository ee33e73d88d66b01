/**
 * A minimal fake GitHub REST API on 127.0.0.1 (port 0) for the action's force-push detection:
 *
 * - `GET /repos/{owner}/{repo}/compare/{base}...{head}`, answered from `compare`
 *   (key `${owner}/${repo}:${base}...${head}`);
 * - `GET /repos/{owner}/{repo}/commits/{ref}`, answered from `commits` (key `${owner}/${repo}:${ref}`).
 *
 * A map entry that is a number is answered with that HTTP status. Anything unknown is 404
 * `{message:'Not Found'}`; a request without an `authorization` header is 401.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export type CompareStatus = 'ahead' | 'behind' | 'diverged' | 'identical'

export interface CompareEntry {
  status: CompareStatus
  /** Defaults: 1 when the status implies commits on that side, else 0. */
  aheadBy?: number
  behindBy?: number
}

export interface CommitEntry {
  authorDate: string
  committerDate: string
}

export interface GitHubRequest {
  method: string
  path: string
  headers: http.IncomingHttpHeaders
}

const DOCS = 'https://docs.github.com/rest'

export class FakeGitHub {
  readonly url: string
  readonly compare = new Map<string, CompareEntry | number>()
  readonly commits = new Map<string, CommitEntry | number>()
  readonly requests: GitHubRequest[] = []
  private closed = false

  private constructor(private readonly server: http.Server) {
    const { port } = server.address() as AddressInfo
    this.url = `http://127.0.0.1:${port}`
  }

  static async start(): Promise<FakeGitHub> {
    const server = http.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    const fake = new FakeGitHub(server)
    server.on('request', (req, res) => fake.handle(req, res))
    return fake
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const closing = new Promise<void>(resolve => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closing
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    req.resume()
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const path = url.pathname
    this.requests.push({ method, path, headers: { ...req.headers } })
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body)
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text)
      })
      res.end(text)
    }
    const notFound = (): void => send(404, { message: 'Not Found', documentation_url: DOCS })
    const failWith = (status: number): void =>
      send(status, {
        message: http.STATUS_CODES[status] ?? 'Error',
        documentation_url: DOCS,
        status: String(status)
      })

    if (!req.headers.authorization) {
      send(401, { message: 'Requires authentication', documentation_url: DOCS })
      return
    }
    if (method !== 'GET') return notFound()

    const compare = /^\/repos\/([^/]+)\/([^/]+)\/compare\/(.+)$/.exec(path)
    const commit = /^\/repos\/([^/]+)\/([^/]+)\/commits\/(.+)$/.exec(path)
    try {
      if (compare) {
        const [owner, repo, basehead] = compare.slice(1).map(decodeURIComponent) as [
          string,
          string,
          string
        ]
        const split = basehead.indexOf('...')
        if (split <= 0 || split + 3 >= basehead.length) return notFound()
        const base = basehead.slice(0, split)
        const head = basehead.slice(split + 3)
        const entry = this.compare.get(`${owner}/${repo}:${base}...${head}`)
        if (entry === undefined) return notFound()
        if (typeof entry === 'number') return failWith(entry)
        return send(200, this.compareBody(owner, repo, base, head, entry))
      }
      if (commit) {
        const [owner, repo, ref] = commit.slice(1).map(decodeURIComponent) as [
          string,
          string,
          string
        ]
        const entry = this.commits.get(`${owner}/${repo}:${ref}`)
        if (entry === undefined) return notFound()
        if (typeof entry === 'number') return failWith(entry)
        return send(200, this.commitBody(owner, repo, ref, entry))
      }
    } catch {
      return notFound() // malformed percent-encoding
    }
    notFound()
  }

  private compareBody(
    owner: string,
    repo: string,
    base: string,
    head: string,
    entry: CompareEntry
  ): unknown {
    const aheadBy =
      entry.aheadBy ?? (entry.status === 'ahead' || entry.status === 'diverged' ? 1 : 0)
    const behindBy =
      entry.behindBy ?? (entry.status === 'behind' || entry.status === 'diverged' ? 1 : 0)
    const api = `${this.url}/repos/${owner}/${repo}`
    return {
      url: `${api}/compare/${base}...${head}`,
      html_url: `https://github.com/${owner}/${repo}/compare/${base}...${head}`,
      permalink_url: `https://github.com/${owner}/${repo}/compare/${owner}:${base}...${owner}:${head}`,
      diff_url: `https://github.com/${owner}/${repo}/compare/${base}...${head}.diff`,
      patch_url: `https://github.com/${owner}/${repo}/compare/${base}...${head}.patch`,
      status: entry.status,
      ahead_by: aheadBy,
      behind_by: behindBy,
      total_commits: aheadBy,
      commits: [],
      files: []
    }
  }

  private commitBody(owner: string, repo: string, ref: string, entry: CommitEntry): unknown {
    const api = `${this.url}/repos/${owner}/${repo}`
    return {
      sha: ref,
      node_id: `C_${Buffer.from(ref).toString('base64url')}`,
      url: `${api}/commits/${ref}`,
      html_url: `https://github.com/${owner}/${repo}/commit/${ref}`,
      commit: {
        author: { name: 'Octo Cat', email: 'octocat@example.com', date: entry.authorDate },
        committer: { name: 'GitHub', email: 'noreply@github.com', date: entry.committerDate },
        message: 'Update prompt',
        tree: { sha: '0'.repeat(40), url: `${api}/git/trees/${'0'.repeat(40)}` },
        comment_count: 0
      },
      parents: [],
      files: []
    }
  }
}

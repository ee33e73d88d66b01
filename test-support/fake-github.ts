/**
 * A minimal fake GitHub REST API on 127.0.0.1 (port 0) for the action's force-push detection:
 *
 * - `GET /repos/{owner}/{repo}/compare/{base}...{head}`, answered from `compare`
 *   (key `${owner}/${repo}:${base}...${head}`);
 * - `GET /repos/{owner}/{repo}/commits/{ref}`, answered from `commits` (key `${owner}/${repo}:${ref}`).
 *
 * - `GET /repos/{owner}/{repo}/issues/{number}/comments` (`per_page` ≤ 100, default 30, `page`,
 *   with a `Link` header as GitHub sends), `POST` there to create a comment, and
 *   `PATCH /repos/{owner}/{repo}/issues/comments/{id}` to update one, on `comments`
 *   (key `${owner}/${repo}#${number}`). With `writable` false, writes answer 403 as GitHub does
 *   for a read-only token (a fork's); a body over 65,536 characters answers 422.
 *
 * A map entry that is a number is answered with that HTTP status. Anything unknown is 404
 * `{message:'Not Found'}`; a request without an `authorization` header is 401. Faults (`inject`)
 * apply to any request first: a status (401 as GitHub words it for a bad token), a hang, or a
 * body given as it is (an HTML page, bad JSON, a shape GitHub never sends).
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
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  body: string
}

export interface IssueComment {
  id: number
  body: string
}

export interface GitHubFault {
  /** Match only this method; any if absent. */
  method?: string
  /** Matched against the pathname: a string as a substring, a RegExp with `test`; any if absent. */
  path?: string | RegExp
  /** Answer with this status and GitHub's error body (or `raw`, when given). */
  status?: number
  /**
   * Answer with this text as the body, as it is: an HTML page, JSON that does not parse, or JSON
   * in a shape GitHub never sends. With `status` (default 200) and `contentType` (default JSON).
   */
  raw?: string
  contentType?: string
  /** Never answer, until the server closes. */
  hang?: boolean
  /** How many matching requests this fault hits; default 1, `Infinity` allowed. */
  times?: number
}

/** GitHub's limit on a comment body, in characters. */
export const COMMENT_MAX_CHARS = 65_536

const DOCS = 'https://docs.github.com/rest'

export class FakeGitHub {
  readonly url: string
  readonly compare = new Map<string, CompareEntry | number>()
  readonly commits = new Map<string, CommitEntry | number>()
  readonly requests: GitHubRequest[] = []
  /** Pull request comments by `${owner}/${repo}#${number}`, oldest first. */
  readonly comments = new Map<string, IssueComment[]>()
  /** Whether the token may write comments; false answers writes 403, like a fork's token. */
  writable = true
  private nextCommentId = 1_000
  private closed = false
  private readonly faults: (GitHubFault & { remaining: number })[] = []

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
    server.on('request', (req, res) => void fake.handle(req, res))
    return fake
  }

  /** Adds comments with these bodies to a pull request; their IDs, in order. */
  addComments(owner: string, repo: string, number: number, bodies: string[]): number[] {
    const key = `${owner}/${repo}#${number}`
    const list = this.comments.get(key) ?? []
    const added = bodies.map(body => ({ id: this.nextCommentId++, body }))
    list.push(...added)
    this.comments.set(key, list)
    return added.map(comment => comment.id)
  }

  /** Adds a fault; the first injected that matches wins. */
  inject(fault: GitHubFault): void {
    const remaining = fault.times ?? 1
    if (!(remaining > 0)) throw new RangeError('fault.times must be > 0')
    this.faults.push({ ...fault, remaining })
  }

  private takeFault(method: string, path: string): GitHubFault | undefined {
    const index = this.faults.findIndex(
      fault =>
        (!fault.method || fault.method.toUpperCase() === method) &&
        (fault.path === undefined ||
          (typeof fault.path === 'string' ? path.includes(fault.path) : fault.path.test(path)))
    )
    const fault = this.faults[index]
    if (!fault) return undefined
    fault.remaining -= 1
    if (fault.remaining <= 0) this.faults.splice(index, 1)
    return fault
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    const closing = new Promise<void>(resolve => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closing
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const path = url.pathname
    const requestBody = Buffer.concat(chunks).toString('utf8')
    this.requests.push({
      method,
      path,
      query: url.searchParams,
      headers: { ...req.headers },
      body: requestBody
    })
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(body)
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(text),
        ...headers
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

    const fault = this.takeFault(method, path)
    if (fault?.hang) return // ended by close()
    if (fault?.raw !== undefined) {
      res.writeHead(fault.status ?? 200, {
        'content-type': fault.contentType ?? 'application/json; charset=utf-8',
        'content-length': Buffer.byteLength(fault.raw)
      })
      res.end(fault.raw)
      return
    }
    if (fault?.status === 401) {
      send(401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' })
      return
    }
    if (fault?.status !== undefined) return failWith(fault.status)
    if (!req.headers.authorization) {
      send(401, { message: 'Requires authentication', documentation_url: DOCS })
      return
    }
    const issueComments = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(path)
    if (issueComments) {
      const [, owner, repo, number] = issueComments as unknown as [string, string, string, string]
      const key = `${owner}/${repo}#${number}`
      if (method === 'GET') return this.listComments(key, url, send)
      if (method !== 'POST') return notFound()
      const body = this.commentBody(requestBody, send)
      if (body === undefined) return
      const [id] = this.addComments(owner, repo, Number(number), [body])
      return send(201, this.commentJson(owner, repo, { id: id!, body }))
    }
    const oneComment = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(path)
    if (oneComment && method === 'PATCH') {
      const [, owner, repo, id] = oneComment as unknown as [string, string, string, string]
      const comment = [...this.comments.entries()]
        .filter(([key]) => key.startsWith(`${owner}/${repo}#`))
        .flatMap(([, list]) => list)
        .find(c => c.id === Number(id))
      if (!comment) return notFound()
      const body = this.commentBody(requestBody, send)
      if (body === undefined) return
      comment.body = body
      return send(200, this.commentJson(owner, repo, comment))
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

  private listComments(
    key: string,
    url: URL,
    send: (status: number, body: unknown, headers?: Record<string, string>) => void
  ): void {
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30))
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1)
    const all = this.comments.get(key) ?? []
    const last = Math.max(1, Math.ceil(all.length / perPage))
    const [owner, repo] = key.split('#')[0]!.split('/') as [string, string]
    const link = (n: number, rel: string) => {
      const target = new URL(url.pathname, this.url)
      target.searchParams.set('per_page', String(perPage))
      target.searchParams.set('page', String(n))
      return `<${target}>; rel="${rel}"`
    }
    const links = page < last ? [link(page + 1, 'next'), link(last, 'last')] : []
    const slice = all.slice((page - 1) * perPage, page * perPage)
    send(
      200,
      slice.map(comment => this.commentJson(owner, repo, comment)),
      links.length ? { link: links.join(', ') } : {}
    )
  }

  /** The body of a comment write, or undefined once an error was sent. */
  private commentBody(
    text: string,
    send: (status: number, body: unknown) => void
  ): string | undefined {
    if (!this.writable) {
      send(403, {
        message: 'Resource not accessible by integration',
        documentation_url: `${DOCS}/issues/comments#create-an-issue-comment`,
        status: '403'
      })
      return undefined
    }
    let body: unknown
    try {
      body = (JSON.parse(text) as { body?: unknown }).body
    } catch {
      body = undefined
    }
    if (typeof body !== 'string' || body.length === 0 || body.length > COMMENT_MAX_CHARS) {
      send(422, {
        message: 'Validation Failed',
        errors: [{ resource: 'IssueComment', code: 'custom', field: 'body' }],
        documentation_url: DOCS,
        status: '422'
      })
      return undefined
    }
    return body
  }

  private commentJson(owner: string, repo: string, comment: IssueComment): unknown {
    return {
      id: comment.id,
      node_id: `IC_${comment.id}`,
      url: `${this.url}/repos/${owner}/${repo}/issues/comments/${comment.id}`,
      html_url: `https://github.com/${owner}/${repo}/pull/0#issuecomment-${comment.id}`,
      body: comment.body,
      user: { login: 'github-actions[bot]', id: 41898282, type: 'Bot' },
      created_at: '2026-11-20T12:00:00Z',
      updated_at: '2026-11-20T12:00:00Z'
    }
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

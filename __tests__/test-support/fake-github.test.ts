import { getOctokit } from '@actions/github'
import { FakeGitHub } from '../../test-support/fake-github.js'

const BASE = 'a'.repeat(40)
const HEAD = 'b'.repeat(40)

let github: FakeGitHub

beforeEach(async () => {
  github = await FakeGitHub.start()
})

afterEach(async () => {
  await github.close()
})

function get(path: string, headers: Record<string, string> = { authorization: 'token t' }) {
  return fetch(`${github.url}${path}`, { headers })
}

describe('FakeGitHub', () => {
  it('serves its API root without a trailing slash', () => {
    expect(github.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })

  it('answers 401 "Requires authentication" without an authorization header', async () => {
    github.compare.set(`octo/repo:${BASE}...${HEAD}`, { status: 'ahead' })
    const response = await get(`/repos/octo/repo/compare/${BASE}...${HEAD}`, {})
    expect(response.status).toBe(401)
    expect(await response.json()).toMatchObject({ message: 'Requires authentication' })
  })

  it('answers a compare with status, ahead_by, behind_by, total_commits, commits and files', async () => {
    const cases = [
      ['ahead', 1, 0],
      ['behind', 0, 1],
      ['diverged', 1, 1],
      ['identical', 0, 0]
    ] as const
    for (const [status, ahead, behind] of cases) {
      github.compare.set(`octo/repo:${BASE}...${HEAD}`, { status })
      const response = await get(`/repos/octo/repo/compare/${BASE}...${HEAD}`)
      expect(response.status).toBe(200)
      expect(await response.json()).toMatchObject({
        status,
        ahead_by: ahead,
        behind_by: behind,
        total_commits: ahead,
        commits: [],
        files: []
      })
    }
  })

  it('answers a commit with its author and committer dates', async () => {
    github.commits.set(`octo/repo:${HEAD}`, {
      authorDate: '2026-01-02T03:04:05Z',
      committerDate: '2026-01-03T00:00:00Z'
    })
    const response = await get(`/repos/octo/repo/commits/${HEAD}`)
    expect(await response.json()).toMatchObject({
      sha: HEAD,
      commit: {
        author: { date: '2026-01-02T03:04:05Z' },
        committer: { date: '2026-01-03T00:00:00Z' }
      }
    })
  })

  it('answers a number entry with that HTTP status', async () => {
    github.compare.set(`octo/repo:${BASE}...${HEAD}`, 500)
    github.commits.set(`octo/repo:${HEAD}`, 403)
    expect((await get(`/repos/octo/repo/compare/${BASE}...${HEAD}`)).status).toBe(500)
    expect((await get(`/repos/octo/repo/commits/${HEAD}`)).status).toBe(403)
  })

  it('answers 404 Not Found for unknown keys and routes', async () => {
    for (const path of [
      `/repos/octo/repo/compare/${BASE}...${HEAD}`,
      `/repos/octo/other/commits/${HEAD}`,
      `/repos/octo/repo/compare/${BASE}`,
      '/user'
    ]) {
      const response = await get(path)
      expect(response.status).toBe(404)
      expect(await response.json()).toMatchObject({ message: 'Not Found' })
    }
  })

  it('answers an injected 401 as GitHub does for a bad token, `times` requests, then serves', async () => {
    github.commits.set('octo/repo:x', {
      authorDate: '2026-01-01T00:00:00Z',
      committerDate: '2026-01-01T00:00:00Z'
    })
    github.inject({ method: 'GET', path: '/commits/', status: 401, times: 2 })
    for (let i = 0; i < 2; i++) {
      const response = await get('/repos/octo/repo/commits/x')
      expect(response.status).toBe(401)
      expect(await response.json()).toMatchObject({ message: 'Bad credentials' })
    }
    expect((await get('/repos/octo/repo/commits/x')).status).toBe(200)
  })

  it('answers an injected raw body as it is, with its status and content type', async () => {
    github.compare.set(`octo/repo:${BASE}...${HEAD}`, { status: 'ahead' })
    github.inject({ path: '/compare/', raw: '<html>Unicorn!</html>', contentType: 'text/html' })
    github.inject({ path: '/compare/', raw: '{"status":', status: 201 })
    const page = await get(`/repos/octo/repo/compare/${BASE}...${HEAD}`)
    expect([page.status, page.headers.get('content-type'), await page.text()]).toEqual([
      200,
      'text/html',
      '<html>Unicorn!</html>'
    ])
    const cut = await get(`/repos/octo/repo/compare/${BASE}...${HEAD}`)
    expect([cut.status, cut.headers.get('content-type'), await cut.text()]).toEqual([
      201,
      'application/json; charset=utf-8',
      '{"status":'
    ])
    expect((await get(`/repos/octo/repo/compare/${BASE}...${HEAD}`)).status).toBe(200)
  })

  it('hangs an injected request without answering until the server closes', async () => {
    github.inject({ path: /\/compare\//, hang: true })
    let settled = false
    const pending = get(`/repos/octo/repo/compare/${BASE}...${HEAD}`).then(
      () => (settled = true),
      () => (settled = true)
    )
    await new Promise(resolve => setTimeout(resolve, 100))
    expect(settled).toBe(false)
    expect(github.requests).toHaveLength(1)
    await github.close()
    await pending
    expect(settled).toBe(true)
  })

  it('records every request with method, path and headers', async () => {
    await (await get('/repos/octo/repo/commits/x', { authorization: 'token abc' })).arrayBuffer()
    expect(github.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/repos/octo/repo/commits/x',
        body: '',
        headers: expect.objectContaining({ authorization: 'token abc' })
      })
    ])
  })

  it("works with @actions/github's Octokit (compareCommitsWithBasehead, getCommit)", async () => {
    github.compare.set(`octo/repo:${BASE}...${HEAD}`, { status: 'diverged', aheadBy: 2 })
    github.commits.set(`octo/repo:${BASE}`, {
      authorDate: '2026-01-02T03:04:05Z',
      committerDate: '2026-01-02T03:04:05Z'
    })
    github.compare.set('octo/repo:main...feature/x', { status: 'identical' })
    const octokit = getOctokit('ghs_faketoken', { baseUrl: github.url })
    const compare = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: 'octo',
      repo: 'repo',
      basehead: `${BASE}...${HEAD}`
    })
    expect(compare.data).toMatchObject({ status: 'diverged', ahead_by: 2, behind_by: 1 })
    const branch = await octokit.rest.repos.compareCommitsWithBasehead({
      owner: 'octo',
      repo: 'repo',
      basehead: 'main...feature/x'
    })
    expect(branch.data.status).toBe('identical')
    const commit = await octokit.rest.repos.getCommit({ owner: 'octo', repo: 'repo', ref: BASE })
    expect(commit.data.commit.committer?.date).toBe('2026-01-02T03:04:05Z')
    await expect(
      octokit.rest.repos.getCommit({ owner: 'octo', repo: 'repo', ref: HEAD })
    ).rejects.toMatchObject({ status: 404 })
    expect(github.requests[0]?.headers.authorization).toBe('token ghs_faketoken')
  })

  describe('pull request comments', () => {
    it('pages comments with a Link header, as octokit.paginate follows it', async () => {
      const ids = github.addComments(
        'octo',
        'repo',
        7,
        Array.from({ length: 130 }, (_, i) => `comment ${i}`)
      )
      const first = await get('/repos/octo/repo/issues/7/comments?per_page=100')
      expect(((await first.json()) as unknown[]).length).toBe(100)
      expect(first.headers.get('link')).toMatch(/[?&]page=2[^>]*>; rel="next"/)
      const octokit = getOctokit('ghs_faketoken', { baseUrl: github.url })
      const all = await octokit.paginate(octokit.rest.issues.listComments, {
        owner: 'octo',
        repo: 'repo',
        issue_number: 7,
        per_page: 100
      })
      expect(all.map(c => c.id)).toEqual(ids)
      expect(all.at(-1)?.body).toBe('comment 129')
    })

    it('creates and updates a comment', async () => {
      const octokit = getOctokit('ghs_faketoken', { baseUrl: github.url })
      const created = await octokit.rest.issues.createComment({
        owner: 'octo',
        repo: 'repo',
        issue_number: 7,
        body: 'first'
      })
      expect(created.status).toBe(201)
      await octokit.rest.issues.updateComment({
        owner: 'octo',
        repo: 'repo',
        comment_id: created.data.id,
        body: 'second'
      })
      expect(github.comments.get('octo/repo#7')).toEqual([{ id: created.data.id, body: 'second' }])
    })

    it('answers writes 403 when not writable, and 422 for a body over 65,536 characters', async () => {
      const octokit = getOctokit('ghs_faketoken', { baseUrl: github.url })
      const write = (body: string) =>
        octokit.rest.issues.createComment({ owner: 'octo', repo: 'repo', issue_number: 7, body })
      await expect(write('x'.repeat(65_537))).rejects.toMatchObject({ status: 422 })
      github.writable = false
      await expect(write('fine')).rejects.toMatchObject({
        status: 403,
        message: expect.stringContaining('Resource not accessible by integration')
      })
      expect(github.comments.get('octo/repo#7')).toBeUndefined()
    })
  })
})

/**
 * The GitHub API calls (the force-push lookups and the sticky comment) over real HTTP against the
 * fake GitHub API: a hung API ends at the timeout, a bad token says so, and only an answer in the
 * documented shape is believed.
 */
import { describeCommentError, upsertComment } from '../../src/github/comment.js'
import { decideSupersede, type GitHubEvent } from '../../src/github/event.js'
import { lookUp } from '../../src/github/lookups.js'
import { FakeGitHub } from '../../test-support/fake-github.js'

const BASE = 'a'.repeat(40)
const HEAD = 'b'.repeat(40)
const TOKEN = 'ghs_faketoken000000000000'
const TARGET = { owner: 'org', repo: 'repo', number: 7 }
let github: FakeGitHub

// @actions/github reads GITHUB_API_URL once, when it is first loaded: one fake for the file.
beforeAll(async () => {
  github = await FakeGitHub.start()
  process.env.GITHUB_API_URL = github.url
})

afterAll(async () => {
  delete process.env.GITHUB_API_URL
  await github.close()
})

beforeEach(() => {
  github.requests.length = 0
  github.compare.clear()
  github.commits.clear()
  github.comments.clear()
})

describe('a hung GitHub API', () => {
  it('ends a lookup at the timeout, and the compare reports it', async () => {
    github.inject({ path: '/compare/', hang: true })
    github.commits.set(`org/repo:${HEAD}`, {
      authorDate: '2026-11-20T12:00:00Z',
      committerDate: '2026-11-20T12:00:00Z'
    })
    const started = Date.now()
    const lookups = await lookUp(
      {
        compare: { owner: 'org', repo: 'repo', base: BASE, head: HEAD },
        headCommit: { owner: 'org', repo: 'repo', sha: HEAD }
      },
      TOKEN,
      { timeoutMs: 300 }
    )
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(lookups.compare).toEqual({
      error: `GitHub compare aaaaaaa...bbbbbbb failed: no answer from the GitHub API in 0.3 s`
    })
    // each request has its own timeout: the next one is answered
    const pushed = Date.parse('2026-11-20T12:00:00Z')
    expect(lookups.headCommitDates).toEqual({
      value: [
        { field: "the head commit's author date", time: pushed },
        { field: "the head commit's committer date", time: pushed }
      ]
    })
  })

  it('ends the comment at the timeout with a warning that says so', async () => {
    github.inject({ method: 'GET', path: '/comments', hang: true })
    const started = Date.now()
    const error = await upsertComment(TOKEN, TARGET, '<!-- m -->', 'body', true, {
      timeoutMs: 300
    }).catch((e: unknown) => e)
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(describeCommentError(error)).toBe(
      'Could not write the pull request comment: no answer from the GitHub API in 0.3 s'
    )
  })
})

describe('a bad token', () => {
  it('says the github-token is invalid or expired when GitHub answers the comment 401', async () => {
    github.inject({ path: '/comments', status: 401 })
    const error = await upsertComment(TOKEN, TARGET, '<!-- m -->', 'body', true).catch(
      (e: unknown) => e
    )
    expect(describeCommentError(error)).toBe(
      'Could not write the pull request comment (HTTP 401 Bad credentials - https://docs.github.com/rest): the github-token is invalid or expired. Pass ${{ github.token }}, or a token that is still valid.'
    )
    expect(github.comments.size).toBe(0)
  })
})

describe('only a clear compare answer counts as a force-push', () => {
  const NEEDED = {
    compare: { owner: 'org', repo: 'repo', base: BASE, head: HEAD },
    headCommit: { owner: 'org', repo: 'repo', sha: HEAD }
  }
  const SYNCHRONIZE: GitHubEvent = {
    name: 'pull_request',
    payload: {
      action: 'synchronize',
      before: BASE,
      after: HEAD,
      pull_request: { updated_at: '2026-11-20T12:00:00Z' },
      repository: { name: 'repo', owner: { login: 'org' } }
    }
  }
  const NOW = Date.parse('2026-11-20T13:00:00Z')
  const body = (fields: Record<string, unknown>) =>
    JSON.stringify({ status: 'diverged', ahead_by: 1, behind_by: 1, commits: [], ...fields })

  beforeEach(() => {
    github.compare.set(`org/repo:${BASE}...${HEAD}`, { status: 'diverged' })
    github.commits.set(`org/repo:${HEAD}`, {
      authorDate: '2026-11-20T11:00:00Z',
      committerDate: '2026-11-20T11:00:00Z'
    })
  })

  it.each(['diverged', 'behind'] as const)(
    'acts on a valid answer whose status is %s',
    async status => {
      github.compare.set(`org/repo:${BASE}...${HEAD}`, { status })
      const lookups = await lookUp(NEEDED, TOKEN)
      expect(lookups.compare).toEqual({ value: status })
      expect(decideSupersede('force-push', SYNCHRONIZE, lookups, NOW)).toMatchObject({
        act: true,
        cutoff: Date.parse('2026-11-20T11:00:00Z')
      })
    }
  )

  it.each([
    [
      'an HTML page',
      {
        raw: '<!DOCTYPE html><html><body>Unicorn! diverged</body></html>',
        contentType: 'text/html'
      },
      'with text, not a JSON object'
    ],
    ['JSON that does not parse', { raw: '{"status":"diverged",' }, 'with text, not a JSON object'],
    ['a 200 with a string body', { raw: '"diverged"' }, 'with text, not a JSON object'],
    ['an unknown status', { raw: body({ status: 'forced' }) }, 'body.status: Invalid type'],
    ['a missing status', { raw: body({ status: undefined }) }, 'body.status: Invalid key'],
    ['a wrongly typed count', { raw: body({ behind_by: '1' }) }, 'body.behind_by: Invalid type'],
    ['counts that contradict the status', { raw: body({ behind_by: 0 }) }, 'disagrees'],
    ['bytes', { raw: 'diverged', contentType: 'application/octet-stream' }, 'not JSON'],
    ['a 204 without a body', { raw: '', status: 204 }, 'with text, not a JSON object']
  ])('cancels nothing and says why on %s', async (_, fault, says) => {
    github.inject({ path: '/compare/', ...fault })
    const lookups = await lookUp(NEEDED, TOKEN)
    expect(lookups.compare).toEqual({
      error: expect.stringMatching(/^GitHub compare aaaaaaa\.\.\.bbbbbbb answered /)
    })
    expect((lookups.compare as { error: string }).error).toContain(says)
    const decision = decideSupersede('force-push', SYNCHRONIZE, lookups, NOW)
    expect(decision).toEqual({
      act: false,
      reason: expect.stringContaining('cannot tell whether the pull request was force-pushed')
    })
  })

  it('does not print a whole error page GitHub answered with', async () => {
    github.inject({ path: '/compare/', raw: `<html>${'x'.repeat(100_000)}</html>`, status: 502 })
    const lookups = await lookUp(NEEDED, TOKEN)
    const { error } = lookups.compare as { error: string }
    expect(error).toMatch(/^GitHub compare aaaaaaa\.\.\.bbbbbbb failed: HTTP 502 <html>x+…$/)
    expect(error.length).toBeLessThan(300)
  })

  it('reads a commit answer in an unexpected shape as no date', async () => {
    github.inject({ path: '/commits/', raw: JSON.stringify({ commit: { author: { date: 7 } } }) })
    const lookups = await lookUp(NEEDED, TOKEN)
    expect(lookups.headCommitDates).toEqual({
      error: expect.stringContaining(
        'GitHub commit bbbbbbb answered in an unexpected shape: body.commit.author.date'
      )
    })
  })
})

/**
 * The GitHub API calls (the force-push lookups and the sticky comment) over real HTTP against the
 * fake GitHub API: a hung API ends at the timeout, and a bad token says so.
 */
import { describeCommentError, upsertComment } from '../../src/github/comment.js'
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
    expect(lookups.headCommitDates).toEqual({ value: [pushed, pushed] })
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

/**
 * Hostile answers and events, end to end: dist/index.js run as the runner runs it, against the
 * fake Adaline and GitHub APIs over real HTTP. One case or more for each class of issue 11 this
 * part closes: only a clear compare answer is a force-push (2), only a believable cutoff cancels
 * (3), figures that cannot be added up exactly are an expected error (4), and the key never shows
 * in any form (5).
 */
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { FakeGitHub } from '../../test-support/fake-github.js'
import { givesAway, transformedForms } from '../../test-support/key-forms.js'
import { runAction, type ActionRun } from '../../test-support/run-action.js'

const PROMPT = fakeId('prm', 1)
const HOUR = 3_600_000
const BASE = 'a'.repeat(40)
const HEAD = 'b'.repeat(40)
const TOKEN = 'ghs_faketoken000000000000'

let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return { 'api-key': api.apiKey, 'prompt-id': PROMPT, 'base-url': api.url, ...extra }
}

/** Evaluations running for the last hours, which a believed new commit would supersede. */
function seedRunning(): string[] {
  const now = Date.now()
  const evaluations = [1, 2, 3].map(n =>
    makeEvaluation({ n, status: 'running', submittedAt: now - n * HOUR })
  )
  api.addPrompt(PROMPT, evaluations)
  return evaluations.map(e => e.runId)
}

function cancelRequests() {
  return api.requests.filter(r => r.method === 'POST' && r.path.endsWith('/cancel'))
}

/** What the run printed or wrote, but the mask commands, which the runner reads and never shows. */
function shown(run: ActionRun): string[] {
  return [
    run.stdout.replace(/^::add-mask::.*$/gm, ''),
    run.stderr,
    run.summary,
    ...Object.values(run.outputs)
  ]
}

/** Ended with one ::error line, no stack trace and nothing called unexpected. */
function expectOneExpectedError(run: ActionRun): string {
  expect(run.exitCode).toBe(1)
  expect(run.errors).toHaveLength(1)
  const printed = run.stdout + run.stderr
  expect(printed).not.toMatch(/\n\s+at /)
  expect(printed).not.toContain('Unexpected error')
  expect(printed).not.toContain('RangeError')
  return run.errors[0]!
}

describe('class 2: only a clear compare answer counts as a force-push', () => {
  let github: FakeGitHub
  beforeEach(async () => {
    github = await FakeGitHub.start()
    github.compare.set(`org/repo:${BASE}...${HEAD}`, { status: 'diverged' })
    github.commits.set(`org/repo:${HEAD}`, {
      authorDate: new Date(Date.now() - 60_000).toISOString(),
      committerDate: new Date(Date.now() - 60_000).toISOString()
    })
  })
  afterEach(async () => {
    await github.close()
  })
  const synchronize = () => ({
    name: 'pull_request',
    payload: {
      action: 'synchronize',
      before: BASE,
      after: HEAD,
      pull_request: { number: 7, updated_at: new Date().toISOString(), head: { sha: HEAD } },
      repository: { name: 'repo', owner: { login: 'org' } }
    }
  })
  const run = () =>
    runAction(inputs({ 'cancel-superseded': 'force-push', 'github-token': TOKEN }), {
      event: synchronize(),
      env: { GITHUB_API_URL: github.url }
    })

  it('cancels nothing, and says why, when GitHub answers the compare with an HTML page', async () => {
    seedRunning()
    github.inject({
      path: '/compare/',
      raw: '<!DOCTYPE html><html><body><h1>Unicorn!</h1> status: diverged</body></html>',
      contentType: 'text/html; charset=utf-8'
    })
    const result = await run()
    expect(result.exitCode).toBe(0)
    expect(cancelRequests()).toHaveLength(0)
    expect(result.outputs.cancelled).toBe('[]')
    const why =
      'cannot tell whether the pull request was force-pushed: GitHub compare aaaaaaa...bbbbbbb answered with text, not a JSON object'
    expect(result.stdout).toContain(`Superseded evaluations: nothing to cancel: ${why}`)
    expect(result.summary).toContain(`Nothing cancelled: ${why}`)
  })

  it('cancels nothing on a compare status GitHub does not document', async () => {
    seedRunning()
    github.inject({
      path: '/compare/',
      raw: JSON.stringify({ status: 'force-pushed', ahead_by: 1, behind_by: 1 })
    })
    const result = await run()
    expect(result.exitCode).toBe(0)
    expect(cancelRequests()).toHaveLength(0)
    expect(result.stdout).toContain('answered in an unexpected shape: body.status')
  })

  it('still cancels on a clear diverged answer', async () => {
    const running = seedRunning()
    const result = await run()
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs.cancelled!).sort()).toEqual([...running].sort())
  })
})

describe('class 3: a cutoff must be believable', () => {
  const push = (timestamp: unknown, pushedAt: unknown) => ({
    name: 'push',
    payload: {
      forced: true,
      ref: 'refs/heads/main',
      before: BASE,
      after: HEAD,
      head_commit: { id: HEAD, timestamp },
      repository: { name: 'repo', owner: { login: 'org' }, pushed_at: pushedAt }
    }
  })

  it('cancels nothing on a push from the future with pushed_at in ms, and names both times', async () => {
    seedRunning()
    const future = new Date(Date.now() + 365 * 24 * HOUR).toISOString()
    const result = await runAction(inputs({ 'cancel-superseded': 'force-push' }), {
      event: push(future, Date.now())
    })
    expect(result.exitCode).toBe(0)
    expect(cancelRequests()).toHaveLength(0)
    expect(result.outputs.cancelled).toBe('[]')
    expect(result.stdout).toMatch(
      new RegExp(
        `nothing to cancel: the time of a force-push is not believable: head_commit\\.timestamp ${future.replace(/\./g, '\\.')}, repository\\.pushed_at \\+\\d{6}-\\S+ are all later than this run's clock \\(\\S+\\) plus 5 min`
      )
    )
    expect(result.summary).toContain(
      'Nothing cancelled: the time of a force-push is not believable'
    )
  })

  it('cancels nothing, with no RangeError, on times outside the range of dates', async () => {
    seedRunning()
    const result = await runAction(inputs({ 'cancel-superseded': 'new-commit' }), {
      event: push('+275760-09-13T00:00:01Z', 1e300)
    })
    expect(result.exitCode).toBe(0)
    expect(result.errors).toEqual([])
    expect(cancelRequests()).toHaveLength(0)
    expect(result.stdout).toContain(
      'nothing to cancel: cannot date a force-push: head_commit.timestamp "+275760-09-13T00:00:01Z" is not a time; repository.pushed_at (1e+303 ms (outside the range of dates)) is not a believable time'
    )
  })
})

describe('class 4: expected conditions get expected errors', () => {
  it('ends with one ::error, no verdict, when finite costs add up past the largest number', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, cost: 1.7e308 }),
      makeEvaluation({ n: 2, cost: 1.7e308, evaluatorId: fakeId('evl', 2) })
    ])
    const result = await runAction(inputs({ policy: 'scope: all\nmax-cost: 1' }))
    const error = expectOneExpectedError(result)
    expect(error).toMatch(
      /^The figures Adaline answered cannot be added up exactly: the total of metrics\.totalCost over the judged evaluations is beyond the largest number/
    )
    expect(result.outputs.gate).toBeUndefined()
  })

  it('never passes the gate on a count total past 2^53: refused instead', async () => {
    const FEW_TOKENS = { totalTokenCount: 1, totalLatency: 1 }
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, pass: 0, fail: 2 ** 52, unknown: 0, metrics: FEW_TOKENS }),
      makeEvaluation({
        n: 2,
        pass: 0,
        fail: 2 ** 52 + 1,
        unknown: 0,
        metrics: FEW_TOKENS,
        evaluatorId: fakeId('evl', 2)
      })
    ])
    // 2^53 + 1 would round to 2^53 and meet the limit
    const result = await runAction(
      inputs({ policy: 'scope: all\nmax-fail-runs: 9007199254740992' })
    )
    expect(expectOneExpectedError(result)).toContain('the total of metrics.failRuns')
    expect(result.outputs.gate).toBeUndefined()
  })

  it('refuses a created-after beyond the range of dates as a bad input, before any request', async () => {
    const result = await runAction(inputs({ 'created-after': '99999999999999999' }))
    expect(expectOneExpectedError(result)).toMatch(
      /^Input created-after is 99999999999999999, beyond the last time a date can hold/
    )
    expect(api.requests).toHaveLength(0)
  })
})

describe('class 5: the key never shows, in any form', () => {
  it('keeps transformed echoes of the key out of the ::error line', async () => {
    api.addPrompt(PROMPT, [])
    const forms = transformedForms(api.apiKey)
    const half = Math.floor(api.apiKey.length / 2)
    api.inject({
      method: 'GET',
      status: 400,
      body: {
        error: {
          // split across two fields, the rest in every other form
          code: api.apiKey.slice(0, half),
          message: `${api.apiKey.slice(half)} | ${Object.values(forms).join(' | ')}`
        }
      }
    })
    const result = await runAction(inputs())
    expect(expectOneExpectedError(result)).toContain('answered 400')
    for (const text of shown(result)) expect(givesAway(text, api.apiKey)).toBe(false)
  })

  it('keeps transformed echoes in evaluation fields out of the outputs, summary and log', async () => {
    const forms = transformedForms(api.apiKey)
    const echoes = Object.values(forms).join(' | ')
    const running = makeEvaluation({ n: 1, status: 'running', submittedAt: Date.now() - HOUR })
    const failed = makeEvaluation({ n: 2, fail: 2, evaluatorId: fakeId('evl', 2) })
    // fields the schema does not know: dropped where the answer comes in, never written anywhere
    api.addPrompt(PROMPT, [
      { ...running, echo: forms } as typeof running,
      { ...failed, note: echoes } as typeof failed
    ])
    api.setResults(PROMPT, failed.runId, [
      { id: 'res_1', rowId: 'row_1', grade: 'fail', reason: `the key was ${echoes}` },
      { id: 'res_2', rowId: 'row_2', grade: 'fail', reason: forms['base64 in a blob, aligned']! }
    ])
    const now = Date.now()
    const result = await runAction(
      inputs({ 'cancel-superseded': 'new-commit', 'dry-run': 'true', policy: 'scope: all' }),
      {
        event: {
          name: 'push',
          payload: { head_commit: { timestamp: new Date(now).toISOString() } }
        }
      }
    )
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(`dry-run: would cancel ${running.runId}`)
    const [judged] = JSON.parse(result.outputs.evaluations!) as { note?: string }[]
    expect(judged!.note).toBeUndefined()
    expect(result.summary).toContain('the key was')
    for (const text of shown(result)) expect(givesAway(text, api.apiKey)).toBe(false)
  })

  it("keeps the key out of a redirect's host, in lower case as a URL writes it", async () => {
    await api.close()
    api = await FakeAdaline.start({ apiKey: 'adl_Live_7Qx9K2mP4vR8sT1wY6zB3nC5aZ' })
    api.addPrompt(PROMPT, [])
    api.inject({
      method: 'GET',
      status: 302,
      headers: { location: `https://${api.apiKey}.evil.example/v2/steal` }
    })
    const result = await runAction(inputs())
    expectOneExpectedError(result)
    for (const text of shown(result)) expect(givesAway(text, api.apiKey)).toBe(false)
  })

  it('refuses a one-character api-key without turning the outputs into ***', async () => {
    const result = await runAction(inputs({ 'api-key': 'k' }))
    expect(expectOneExpectedError(result)).toBe(
      'Input api-key is not a workspace API key: a key is 20 or more letters, digits and - . _ ~ + / characters (the value is not shown). Pass the whole key from a secret, e.g. api-key: ${{ secrets.ADALINE_API_KEY }}'
    )
    expect(result.stdout).not.toContain('::add-mask::')
    expect(api.requests).toHaveLength(0)
  })

  it('clips a 5 MB API message to one readable ::error line', async () => {
    api.addPrompt(PROMPT, [])
    api.inject({
      method: 'GET',
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: `${'x'.repeat(5_000_000)}${api.apiKey}` } }
    })
    const result = await runAction(inputs())
    const error = expectOneExpectedError(result)
    // cut where the API's text comes in, before any log line could hold it
    expect(error).toMatch(/^GET \S+ answered 400 BAD_REQUEST: x+…/)
    expect(error.length).toBeLessThan(2_100)
    for (const text of shown(result)) expect(givesAway(text, api.apiKey)).toBe(false)
  })

  it('clips a 5 MB API message in a log line (a refused cancel)', async () => {
    const [runId] = seedRunning()
    api.inject({
      method: 'POST',
      path: `${runId}/cancel`,
      status: 409,
      body: { error: { code: 'CONFLICT', message: `${api.apiKey}${'x'.repeat(5_000_000)}` } }
    })
    const now = Date.now()
    const result = await runAction(inputs({ 'cancel-superseded': 'new-commit' }), {
      event: {
        name: 'push',
        payload: { head_commit: { timestamp: new Date(now).toISOString() } }
      }
    })
    // refused while it still runs: a cancel that did not land fails the step
    expect(result.exitCode).toBe(1)
    expect(result.outputs['cancel-failed']).toBe(JSON.stringify([runId]))
    const warning = result.stdout.split('\n').find(line => line.includes('Could not cancel'))
    expect(warning).toMatch(/answered 409 CONFLICT: \*\*\*x+…/)
    expect(result.stdout.split('\n').every(line => line.length < 2_200)).toBe(true)
    for (const text of shown(result)) expect(givesAway(text, api.apiKey)).toBe(false)
  })
})

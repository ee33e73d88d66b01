/**
 * Classes of fault no earlier issue listed, end to end: dist/index.js and dist/cli/index.js against
 * the fake API over real HTTP. An evaluation whose own figures contradict each other, a policy
 * whose keys every object inherits, a base-url whose empty query swallowed every path, a report
 * file where the file system will never make one, a redirect with credentials in it, and a listing
 * that ignores its filters: each ends with one expected error naming the endpoint or the input,
 * never a verdict, a hang or a stack. A submit time in Unix seconds is never cancelled on.
 */
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { PUSH_TIME, pushEvent } from '../../test-support/events.js'
import { runAction, runCommand, type ActionRun } from '../../test-support/run-action.js'

const PROMPT = fakeId('prm', 1)
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

/** Ended with one ::error line, no stack trace, nothing called unexpected, the key nowhere. */
function expectOneExpectedError(run: ActionRun): string {
  expect(run.exitCode).toBe(1)
  expect(run.errors).toHaveLength(1)
  const printed = run.stdout.replace(/^::add-mask::.*$/gm, '') + run.stderr
  expect(printed).not.toMatch(/\n\s+at /)
  expect(printed).not.toContain('Unexpected error')
  expect(printed).not.toContain(api.apiKey)
  return run.errors[0]!
}

describe('an evaluation whose figures contradict each other gets no verdict', () => {
  // completed, 100 rows, 1 graded run: min-pass-rate passed on 1 row in 100
  const partial = () =>
    makeEvaluation({
      n: 1,
      pass: 1,
      fail: 0,
      unknown: 0,
      progress: { totalRows: 100, completedRows: 100, failedRows: 0, percent: 100 }
    })
  // 50 graded runs of 10 rows
  const inflated = () =>
    makeEvaluation({
      n: 2,
      pass: 50,
      fail: 0,
      unknown: 0,
      progress: { totalRows: 10, completedRows: 10, failedRows: 0, percent: 100 }
    })

  it.each([
    [
      '1 graded run of 100 completed rows',
      partial,
      '1 graded run (pass, fail and unknown), but its progress counts 100 completed and 0 failed of 100 rows'
    ],
    ['50 graded runs of 10 rows', inflated, '50 graded runs']
  ])('the action: %s', async (_, make, said) => {
    const evaluation = make()
    api.addPrompt(PROMPT, [evaluation])
    const run = await runAction(inputs({ policy: 'min-pass-rate: 90%' }))
    const error = expectOneExpectedError(run)
    expect(error).toContain(
      `The figures Adaline answered for evaluation ${evaluation.runId} contradict each other`
    )
    expect(error).toContain(said)
    expect(error).toContain('(created-after, evaluator-id)')
    expect(run.outputs.gate).toBeUndefined()
  })

  it('the command: exits 3 with the message naming its flags', async () => {
    api.addPrompt(PROMPT, [partial()])
    const run = await runCommand(
      ['--base-url', api.url, '--prompt-id', PROMPT, '--policy', 'min-pass-rate: 90%'],
      { env: { ADALINE_API_KEY: api.apiKey } }
    )
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toContain('contradict each other')
    expect(run.stderr).toContain('(--created-after, --evaluator-id)')
    expect(run.stderr).not.toMatch(/\n\s+at |Unexpected error/)
  })
})

describe('inputs', () => {
  it.each([
    ['constructor: 1', 'has an unknown key "constructor"'],
    ['hasOwnProperty: 1\nmax-fail-runs: 0', 'has an unknown key "hasOwnProperty"'],
    ['max-fail-runs: !!js/function "function () {}"', 'is not valid YAML: Unresolved tag']
  ])('a policy %j is refused naming the input, before any request', async (policy, said) => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    const run = await runAction(inputs({ policy }))
    expect(expectOneExpectedError(run)).toContain(`Input policy ${said}`)
    expect(run.stderr).not.toContain('YAMLWarning')
    expect(api.requests).toHaveLength(0)
  })

  it.each(['?', '#', '/?#'])(
    'a base-url ending in %j is refused before any request',
    async tail => {
      const run = await runAction(inputs({ 'base-url': `${api.url}${tail}` }))
      expect(expectOneExpectedError(run)).toBe(
        'Input base-url must not carry credentials, a query or a fragment'
      )
      expect(api.requests).toHaveLength(0)
    }
  )

  it('a report file the file system will never hold fails at once, naming the input', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    const started = Date.now()
    // Node's recursive mkdir retried /proc/… for ever: the step hung until the runner killed it
    const run = await runAction(inputs({ 'report-file': '/proc/adaline-evals/report.json' }), {
      timeoutMs: 20_000
    })
    expect(Date.now() - started).toBeLessThan(20_000)
    expect(expectOneExpectedError(run)).toContain(
      'Input report-file: cannot write "/proc/adaline-evals/report.json": it cannot be created there (ENOENT)'
    )
    // the report is written before the file fails the step
    expect(run.outputs.gate).toBe('skipped')
  })
})

describe('transport', () => {
  it('a redirect to the API origin with credentials in it is not followed, nor quoted', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 302,
      headers: { location: api.url.replace('//', `//${api.apiKey}:x@`) + '/steal' }
    })
    const run = await runAction(inputs())
    expect(expectOneExpectedError(run)).toBe(
      `GET /prompts/${PROMPT}/evaluations answered 302, a redirect to another origin or to no valid address; not following it with the API key. Check base-url.`
    )
    expect(api.requests).toHaveLength(1)
  })

  it('a corrupt brotli answer is refused at once, not retried as a cut one', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 200,
      body: Buffer.from('not brotli at all'),
      headers: { 'content-encoding': 'br' },
      times: Infinity
    })
    const run = await runAction(inputs())
    expect(expectOneExpectedError(run)).toMatch(
      /answered 200, but its body does not decode as br \(.+\)\. Check base-url\.$/
    )
    expect(api.requests).toHaveLength(1)
  })
})

describe('proxies', () => {
  it.each([
    ['socks5://user:hunter2secret@127.0.0.1:1080', 'a socks5:// proxy'],
    ['http://user:hunter2secret@[::1', 'not a URL']
  ])(
    'HTTPS_PROXY=%s ends with one error saying what to give, never quoting it',
    async (proxy, said) => {
      const run = await runAction(
        {
          'api-key': api.apiKey,
          'prompt-id': PROMPT,
          'base-url': 'https://api.adaline.invalid/v2'
        },
        { env: { HTTPS_PROXY: proxy } }
      )
      // an invalid URL was a TypeError from the proxy set-up: "Unexpected error: Invalid URL"
      expect(expectOneExpectedError(run)).toBe(
        `GET /prompts/${PROMPT}/evaluations was not sent: the runner's proxy setting (HTTPS_PROXY or ALL_PROXY) is ${said}; give an http:// or https:// proxy (http://user:password@host:port), or set NO_PROXY to reach the API directly.`
      )
      expect(run.stdout + run.stderr).not.toContain('hunter2secret')
    }
  )
})

describe('listings', () => {
  it('a listing that ignores its filters is refused: nothing judged, nothing cancelled', async () => {
    const ours = makeEvaluation({ n: 1, status: 'running', submittedAt: PUSH_TIME - 3_600_000 })
    api.addPrompt(PROMPT, [ours])
    const theirs = makeEvaluation({ n: 2, evaluatorId: fakeId('evl', 2) })
    api.inject({
      method: 'GET',
      path: '/evaluations',
      body: { evaluations: [ours, theirs], pagination: { hasMore: false } },
      times: Infinity
    })
    const run = await runAction(
      inputs({ 'evaluator-id': fakeId('evl', 1), 'cancel-superseded': 'new-commit' }),
      { event: pushEvent(false) }
    )
    expect(expectOneExpectedError(run)).toContain(
      `GET /prompts/${PROMPT}/evaluations answered with evaluation ${theirs.runId} (evaluator ${fakeId('evl', 2)}, not ${fakeId('evl', 1)}), which the filters asked for leave out.`
    )
    expect(api.requests.filter(r => r.path.endsWith('/cancel'))).toHaveLength(0)
    expect(run.outputs.gate).toBeUndefined()
  })

  it('an in-flight evaluation whose submit time reads as Unix seconds is never cancelled', async () => {
    // 1970 in ms: before every cutoff, it was cancelled by any new commit, however new it was
    const inSeconds = makeEvaluation({
      n: 1,
      status: 'running',
      submittedAt: Math.floor(PUSH_TIME / 1000) + 60
    })
    const before = makeEvaluation({ n: 2, status: 'running', submittedAt: PUSH_TIME - 3_600_000 })
    api.addPrompt(PROMPT, [inSeconds, before])
    const run = await runAction(inputs({ 'cancel-superseded': 'new-commit' }), {
      event: pushEvent(false)
    })
    expect(run.exitCode).toBe(0)
    expect(run.errors).toEqual([])
    const cancels = api.requests.filter(r => r.path.endsWith('/cancel')).map(r => r.path)
    expect(cancels).toEqual([`/v2/prompts/${PROMPT}/evaluations/${before.runId}/cancel`])
  })
})

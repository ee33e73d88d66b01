/**
 * The fault matrix, end to end: dist/index.js on a force-push that supersedes running evaluations,
 * against the fake Adaline API injecting one fault per case. For each case: the verdict and the
 * cancels, or one clear ::error naming the endpoint and nothing cancelled; and the key nowhere in
 * what the action printed or wrote.
 */
import { FakeAdaline, fakeId, makeEvaluation, type Fault } from '../../test-support/fake-adaline.js'
import { runAction, type ActionRun } from '../../test-support/run-action.js'

const PROMPT = fakeId('prm', 1)
const PUSH_TIME = Date.parse('2026-11-20T12:00:00Z')
const SUPERSEDED = [1, 2, 3, 4, 5, 6].map(n => fakeId('run', n))

let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
  api.addPrompt(PROMPT, [
    ...SUPERSEDED.map((runId, i) =>
      makeEvaluation({ n: i + 1, runId, status: 'running', submittedAt: PUSH_TIME - 3_600_000 + i })
    ),
    makeEvaluation({ n: 10, status: 'completed', submittedAt: PUSH_TIME + 60_000 })
  ])
})

afterEach(async () => {
  await api.close()
})

const forcePush = {
  name: 'push',
  payload: {
    forced: true,
    ref: 'refs/heads/main',
    before: 'a'.repeat(40),
    after: 'b'.repeat(40),
    head_commit: { id: 'b'.repeat(40), timestamp: new Date(PUSH_TIME).toISOString() },
    repository: { name: 'repo', owner: { login: 'org' }, pushed_at: PUSH_TIME / 1000 + 5 }
  }
}

function run(): Promise<ActionRun> {
  return runAction(
    {
      'api-key': api.apiKey,
      'prompt-id': PROMPT,
      'base-url': api.url,
      'cancel-superseded': 'force-push',
      policy: 'max-fail-runs: 1'
    },
    { event: forcePush }
  )
}

/** The key appears nowhere the action printed or wrote, but in the mask command. */
function expectNoKey(result: ActionRun) {
  const stdout = result.stdout.replace(`::add-mask::${api.apiKey}`, '')
  for (const text of [stdout, result.stderr, result.summary, JSON.stringify(result.outputs)]) {
    expect(text).not.toContain(api.apiKey)
  }
}

interface PassingCase {
  name: string
  faults: () => Fault[]
  /** the superseded evaluations cancelled in the end; default all */
  cancelled?: string[]
  /** what the log says of the fault */
  log: RegExp
}

const passing: PassingCase[] = [
  {
    name: 'the answer to one cancel lost (a reset after it took effect; the retry hears 409)',
    faults: () => [{ method: 'POST', path: `${SUPERSEDED[1]}/cancel`, dropAnswer: true }],
    log: new RegExp(`cancelled ${SUPERSEDED[1]} .*: already cancelling \\(POST .* answered 409`)
  }
]

describe('a fault the action rides out: the verdict stands and the cancels happen', () => {
  it.each(passing)('$name', async ({ faults, cancelled = SUPERSEDED, log }) => {
    for (const fault of faults()) api.inject(fault)
    const result = await run()
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs.gate).toBe('passed')
    expect(JSON.parse(result.outputs.cancelled!).sort()).toEqual([...cancelled].sort())
    expect(
      api
        .evaluations(PROMPT)
        .filter(e => e.status === 'cancelling')
        .map(e => e.runId)
        .sort()
    ).toEqual([...cancelled].sort())
    expect(result.stdout).toMatch(log)
    expectNoKey(result)
  })
})

/**
 * The comparison stage over real HTTP against the fake API: both sides' rows paired, each fetched
 * once and kept for the JUnit report, the run-wide row budget, and "not compared" with a reason
 * instead of a comparison from partial rows.
 */
import type { Listed } from '../../src/judge/judged-set.js'
import { readSettings } from '../../src/inputs/settings.js'
import { ABORT_TRANSPORT } from '../../src/run/abort.js'
import { comparisonsStage } from '../../src/run/comparisons.js'
import { createContext, type Log } from '../../src/run/context.js'
import { resultsStage } from '../../src/run/results.js'
import { rowsStage } from '../../src/run/rows.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

async function context(policy = 'max-new-failures: 0', extra: Record<string, string> = {}) {
  const given: Record<string, string> = {
    'api-key': api.apiKey,
    'prompt-id': PROMPT,
    'base-url': api.url,
    policy,
    ...extra
  }
  const settings = await readSettings(name => given[name] ?? '', {
    now: Date.now(),
    mask: () => undefined
  })
  const lines: string[] = []
  const log: Log = {
    info: message => void lines.push(message),
    warning: message => void lines.push(`warning: ${message}`),
    group: (_, work) => work()
  }
  return { context: createContext(settings, log, ABORT_TRANSPORT), lines }
}

/** A pair added to the fake, as the engine holds it: judged items and baselines by run ID. */
function addPair(n: number, rows: number, nowFails: number[]) {
  const pair = api.addPairedEvaluations(PROMPT, {
    rows,
    nowFails,
    runId: fakeId('run_judged', n),
    baselineRunId: fakeId('run_baseline', n),
    datasetId: fakeId('dst', n),
    submittedAt: 1_760_000_000_000 - n * 60_000
  })
  const judged: Listed = { promptId: PROMPT, evaluation: pair.judged }
  const baseline: Listed = { promptId: PROMPT, evaluation: pair.baseline }
  return { pair, judged, baseline }
}

function resultPages(runId?: string) {
  return api.requests.filter(
    r => r.path.endsWith('/results') && (runId === undefined || r.path.includes(runId))
  )
}

describe('comparisonsStage', () => {
  it('pairs both sides row by row, and the JUnit stage reuses the rows without a request', async () => {
    const { pair, judged, baseline } = addPair(1, 300, [5, 6, 7])
    const { context: run, lines } = await context(undefined, { 'junit-file': 'junit.xml' })
    const comparisons = await comparisonsStage(
      run,
      [judged],
      new Map([[judged.evaluation.runId, baseline]])
    )
    const comparison = comparisons.get(pair.judged.runId)
    expect(comparison?.compared && comparison.rows.newlyFailing).toBe(3)
    expect(comparison?.compared && comparison.rows.newlyFailingRows.map(r => r.rowId)).toEqual(
      pair.newlyFailing
    )
    expect(resultPages()).toHaveLength(4)
    expect(lines).toContain(
      'Compared 1 evaluation with their baselines row by row: 600 row results, 4 requests for the comparison.'
    )
    await resultsStage(run, [judged])
    expect(resultPages()).toHaveLength(4)
  })

  it('keeps the judged rows whole for the JUnit file and lets go of the baseline rows', async () => {
    const { pair, judged, baseline } = addPair(1, 300, [5, 6, 7])
    const { context: run } = await context(undefined, { 'junit-file': 'junit.xml' })
    await comparisonsStage(run, [judged], new Map([[judged.evaluation.runId, baseline]]))
    expect(run.results.whole(pair.judged.runId)).toHaveLength(300)
    expect(run.results.whole(pair.baseline.runId)).toBeUndefined()
  })

  it('without a JUnit file keeps only the rows the report shows, and the failing rows stage asks for none', async () => {
    const { pair, judged, baseline } = addPair(1, 300, [5, 6, 7])
    const { context: run } = await context()
    await comparisonsStage(run, [judged], new Map([[judged.evaluation.runId, baseline]]))
    expect(run.results.whole(pair.judged.runId)).toBeUndefined()
    const asked = resultPages().length
    const rows = await rowsStage(run, [judged])
    expect(resultPages()).toHaveLength(asked)
    expect(rows.get(pair.judged.runId)?.map(r => r.rowId)).toEqual(pair.newlyFailing)
  })

  it('fetches a baseline two evaluations share once, and counts each request once', async () => {
    const first = addPair(1, 100, [1])
    const second = makeEvaluation({
      runId: fakeId('run_judged', 2),
      datasetId: fakeId('dst', 1),
      status: 'completed',
      submittedAt: first.judged.evaluation.timeline.submittedAt + 60_000,
      pass: 100,
      fail: 0,
      unknown: 0
    })
    api.addEvaluations(PROMPT, [second])
    const secondJudged: Listed = { promptId: PROMPT, evaluation: second }
    const { context: run, lines } = await context()
    const comparisons = await comparisonsStage(
      run,
      [secondJudged, first.judged],
      new Map([
        [second.runId, first.baseline],
        [first.judged.evaluation.runId, first.baseline]
      ])
    )
    expect([...comparisons.values()].map(c => c.compared)).toEqual([true, true])
    expect(resultPages(first.pair.baseline.runId)).toHaveLength(1)
    expect(resultPages()).toHaveLength(3)
    expect(lines).toContain(
      'Compared 2 evaluations with their baselines row by row: 400 row results, 3 requests for the comparison.'
    )
  })

  it('compares newest first only while both sides fit the run-wide budget, and says so for the rest', async () => {
    const first = addPair(1, 100, [1])
    const second = addPair(2, 100, [1])
    const { context: run, lines } = await context()
    const baselines = new Map([
      [first.judged.evaluation.runId, first.baseline],
      [second.judged.evaluation.runId, second.baseline]
    ])
    const comparisons = await comparisonsStage(run, [first.judged, second.judged], baselines, 300)
    expect(comparisons.get(first.pair.judged.runId)?.compared).toBe(true)
    expect(comparisons.get(second.pair.judged.runId)).toEqual({
      compared: false,
      baselineRunId: second.pair.baseline.runId,
      reason: "the run's limit of 300 row results fetched for comparisons was reached"
    })
    expect(resultPages(second.pair.judged.runId)).toHaveLength(0)
    expect(lines).toContain(
      `warning: ${second.pair.judged.runId} was not compared with its baseline ${second.pair.baseline.runId} row by row: the run's limit of 300 row results fetched for comparisons was reached.`
    )
  })

  it('does not compare an evaluation still running: its rows are not all graded', async () => {
    const { judged, baseline } = addPair(1, 10, [])
    const running: Listed = { ...judged, evaluation: { ...judged.evaluation, status: 'running' } }
    const { context: run } = await context()
    const comparisons = await comparisonsStage(
      run,
      [running],
      new Map([[running.evaluation.runId, baseline]])
    )
    expect(comparisons.get(running.evaluation.runId)).toMatchObject({
      compared: false,
      reason: 'it is running, so its rows are not all graded yet'
    })
    expect(resultPages()).toHaveLength(0)
  })

  it('does not compare from partial rows: an API that cuts a side short leaves it not compared', async () => {
    const { pair, judged, baseline } = addPair(1, 400, [1])
    api.inject({
      path: `/evaluations/${pair.baseline.runId}/results`,
      status: 500,
      times: Infinity
    })
    const { context: run } = await context()
    const comparisons = await comparisonsStage(
      run,
      [judged],
      new Map([[judged.evaluation.runId, baseline]])
    )
    const comparison = comparisons.get(pair.judged.runId)
    expect(comparison?.compared).toBe(false)
    expect(!comparison?.compared && comparison?.reason).toMatch(
      new RegExp(`^the rows of ${pair.baseline.runId} could not be fetched: `)
    )
  })
})

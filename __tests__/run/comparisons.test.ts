/**
 * The comparison stage over real HTTP against the fake API: both sides' rows paired, each fetched
 * once and kept for the JUnit report, the run-wide row budget, and "not compared" with a reason
 * instead of a comparison from partial rows.
 */
import type { Listed } from '../../src/judge/judged-set.js'
import { comparisonsStage } from '../../src/run/comparisons.js'
import { resultsStage } from '../../src/run/results.js'
import { rowsStage } from '../../src/run/rows.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { stageContext } from '../../test-support/stage-context.js'

const PROMPT = fakeId('prm', 1)
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

/** A run's context on the fake under `policy`, with the log kept. */
function context(policy = 'max-new-failures: 0', extra: Record<string, string> = {}) {
  return stageContext(api, { 'prompt-id': PROMPT, policy, ...extra })
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

  describe('never a comparison from rows that disagree with the evaluation', () => {
    /** One page with these results, saying no more follow: the listing as a faulty API ends it. */
    function serveOnly(runId: string, results: unknown[]) {
      api.inject({
        path: `/evaluations/${runId}/results`,
        body: { results, pagination: { hasMore: false, nextCursor: null } },
        times: Infinity
      })
    }

    async function compareOne(judged: Listed, baseline: Listed) {
      const { context: run, lines } = await context()
      const comparisons = await comparisonsStage(
        run,
        [judged],
        new Map([[judged.evaluation.runId, baseline]])
      )
      return { comparison: comparisons.get(judged.evaluation.runId), lines }
    }

    it('a results listing that ends early (fewer rows than the run counts) is not compared', async () => {
      const { pair, judged, baseline } = addPair(1, 300, [5])
      // the baseline's rows stop at 150 of 300, and the 150 left out include no change at all
      serveOnly(pair.baseline.runId, api.results(PROMPT, pair.baseline.runId).slice(0, 150))
      const { comparison, lines } = await compareOne(judged, baseline)
      expect(comparison?.compared).toBe(false)
      expect(!comparison?.compared && comparison?.reason).toBe(
        `the results of ${pair.baseline.runId} list 150 distinct rows, but its metrics count 300 graded runs (the listing ended early)`
      )
      expect(lines).toContainEqual(
        expect.stringMatching(new RegExp(`^warning: ${pair.judged.runId} was not compared`))
      )
    })

    it('a side whose rowIds repeat in place of rows it leaves out is not compared', async () => {
      const { pair, judged, baseline } = addPair(1, 100, [5])
      const rows = api.results(PROMPT, pair.judged.runId)
      // as many results as runs, but the first 10 rows twice and the last 10 missing
      serveOnly(pair.judged.runId, [...rows.slice(0, 10), ...rows.slice(0, 90)])
      const { comparison } = await compareOne(judged, baseline)
      expect(comparison?.compared).toBe(false)
      expect(!comparison?.compared && comparison?.reason).toMatch(
        /list 90 distinct rows, but its metrics count 100 graded runs/
      )
    })

    it('a side whose metrics fall short of its progress is not compared', async () => {
      const { pair, baseline } = addPair(1, 100, [5])
      // the listing and the run counts agree on 100, but progress says 120 rows were completed
      const shortMetrics: Listed = {
        promptId: PROMPT,
        evaluation: {
          ...pair.judged,
          progress: { ...pair.judged.progress, totalRows: 120, completedRows: 120 }
        }
      }
      const { comparison } = await compareOne(shortMetrics, baseline)
      expect(comparison?.compared).toBe(false)
      expect(!comparison?.compared && comparison?.reason).toMatch(
        /list 100 distinct rows, but its progress counts 120 completed rows/
      )
    })

    it('a page longer than asked for, cut at the limit, leaves it not compared', async () => {
      const { pair, judged, baseline } = addPair(1, 300, [5])
      // 300 results on one page asked for 200, saying none follow: 100 would be silently lost
      serveOnly(pair.baseline.runId, api.results(PROMPT, pair.baseline.runId))
      const { comparison } = await compareOne(judged, baseline)
      expect(comparison?.compared).toBe(false)
      expect(!comparison?.compared && comparison?.reason).toBe(
        `the results listing of ${pair.baseline.runId} stopped after 200 rows though more were said to follow (a page longer than asked for)`
      )
    })

    it('a side whose grades disagree with its metrics is not compared', async () => {
      const { pair, judged, baseline } = addPair(1, 100, [5])
      // the newly failing row reads pass in the listing, though the metrics count it as failed
      const rows = api.results(PROMPT, pair.judged.runId).map(r => ({ ...r, grade: 'pass' }))
      serveOnly(pair.judged.runId, rows)
      const { comparison } = await compareOne(judged, baseline)
      expect(comparison?.compared).toBe(false)
      expect(!comparison?.compared && comparison?.reason).toMatch(
        /^the grades in the results of .* \(100 pass, 0 fail, 0 unknown\) disagree with its metrics \(99 pass, 1 fail, 0 unknown\)$/
      )
    })

    it('a result with a grade outside pass, fail and unknown leaves it not compared', async () => {
      const { pair, judged, baseline } = addPair(1, 50, [5])
      const rows = api.results(PROMPT, pair.judged.runId)
      serveOnly(pair.judged.runId, [{ ...rows[0], grade: 'PASS' }, ...rows.slice(1)])
      const { comparison } = await compareOne(judged, baseline)
      expect(comparison?.compared).toBe(false)
      expect(!comparison?.compared && comparison?.reason).toMatch(/results\[0\]\.grade/)
    })

    it('a baseline whose rows share no rowId with the judged one (another dataset) is not compared', async () => {
      const { pair, judged, baseline } = addPair(1, 60, [])
      const rows = api.results(PROMPT, pair.baseline.runId)
      serveOnly(
        pair.baseline.runId,
        rows.map(r => ({ ...r, rowId: `other-dataset-${r.rowId}` }))
      )
      const { comparison } = await compareOne(judged, baseline)
      expect(comparison?.compared).toBe(false)
      expect(!comparison?.compared && comparison?.reason).toBe(
        `no row of ${pair.judged.runId} pairs with a row of ${pair.baseline.runId} (no rowId in common: another dataset?)`
      )
    })

    it('a results cursor that repeats ends the listing and leaves it not compared', async () => {
      const { pair, judged, baseline } = addPair(1, 500, [5])
      const rows = api.results(PROMPT, pair.baseline.runId)
      api.inject({
        path: `/evaluations/${pair.baseline.runId}/results`,
        body: { results: rows.slice(0, 200), pagination: { hasMore: true, nextCursor: 'again' } },
        times: Infinity
      })
      const { comparison } = await compareOne(judged, baseline)
      expect(comparison?.compared).toBe(false)
      expect(!comparison?.compared && comparison?.reason).toMatch(/repeated a cursor on page 2/)
      expect(resultPages(pair.baseline.runId)).toHaveLength(2)
    })

    it('a 10 kB reason on a newly failing row is kept for the report, which cuts it', async () => {
      const { pair, judged, baseline } = addPair(1, 20, [3])
      const rows = api.results(PROMPT, pair.judged.runId).map(r => ({
        ...r,
        reason: r.grade === 'fail' ? 'x'.repeat(10_000) : r.reason
      }))
      serveOnly(pair.judged.runId, rows)
      const { comparison } = await compareOne(judged, baseline)
      expect(comparison?.compared && comparison.rows.newlyFailing).toBe(1)
    })
  })
})

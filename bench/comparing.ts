/**
 * Rows 10 to 12: what the names stage (issue 14) and the row-by-row comparisons (issue 16) cost.
 * Requests counted at the fake against the floor each stage has (row 10), memory and time of
 * comparisons at the run's row budget (row 11), and growth with the evaluations listed when both
 * stages run (row 12).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { performance } from 'node:perf_hooks'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MAX_PAGE_SIZE, type Evaluation } from '../src/adaline/schema.js'
import { COMPARISON_ROWS_CAP } from '../src/run/comparisons.js'
import { RESULTS_CAP } from '../src/run/results-cache.js'
import {
  FakeAdaline,
  fakeId,
  makeEvaluation,
  type RecordedRequest
} from '../test-support/fake-adaline.js'
import { runAction, type ActionRun } from '../test-support/run-action.js'
import { median } from './intervals.js'
import { peakResidentBytes } from './memory.js'
import { CPU_TIMED, cpuMs } from './scaling.js'
import { count, mebibytes, ratio, seconds, type Figure } from './table.js'
import { isEvaluatorsRequest } from './workload.js'

const RUN_TIMEOUT_MS = 240_000

/** pages of the API's largest size that `items` take */
const pages = (items: number) => Math.ceil(items / MAX_PAGE_SIZE)

/** A page of every row result (failing rows are asked for by grade). */
function isResultsPage(request: RecordedRequest): boolean {
  return request.path.endsWith('/results') && !request.query.has('grade')
}

function isGradeRequest(request: RecordedRequest): boolean {
  return request.path.endsWith('/results') && request.query.has('grade')
}

/** Requests for a page asked for before: the same path, query and cursor. */
function repeats(requests: readonly RecordedRequest[]): number {
  const seen = new Set<string>()
  let again = 0
  for (const { path, query } of requests) {
    const key = `${path}?${[...query].sort().join('&')}`
    if (seen.has(key)) again += 1
    seen.add(key)
  }
  return again
}

function failed(run: ActionRun, what: string): Error {
  return new Error(
    `${what}: the action exited ${run.exitCode}: ${run.errors.join('; ') || run.stderr.slice(-2_000)}`
  )
}

// --- Row 10a: evaluator names -------------------------------------------------------------

/** Evaluators in the report of the first prompt: three pages of them. */
export const MANY_EVALUATORS = 450
/** Evaluators in the report of the second prompt, the first it lists of MANY_EVALUATORS. */
export const FEW_EVALUATORS = 3
const NAMES_PROMPTS = [fakeId('prm_bench_names', 1), fakeId('prm_bench_names', 2)] as const

/**
 * Two prompts judged in one run: the first with an evaluation of each of its 450 evaluators (3
 * pages), the second with evaluations of 3 of its 450 evaluators, the first 3 it lists (1 page:
 * the stage reads no further than the report needs). Evaluator listings: 3 + 1, each page once.
 */
export async function namesFigure(): Promise<Figure> {
  const [many, few] = NAMES_PROMPTS
  const api = await FakeAdaline.start()
  try {
    api.addPrompt(
      many,
      passing(MANY_EVALUATORS, i => fakeId('evl_bench_many', i), 'run_many')
    )
    api.addPrompt(
      few,
      passing(FEW_EVALUATORS, i => fakeId('evl_bench_few', i), 'run_few')
    )
    api.setEvaluators(
      few,
      Array.from({ length: MANY_EVALUATORS }, (_, i) => ({
        id: i < FEW_EVALUATORS ? fakeId('evl_bench_few', i + 1) : fakeId('evl_bench_unused', i + 1)
      }))
    )
    const run = await runAction({
      'api-key': api.apiKey,
      'base-url': api.url,
      'prompt-id': NAMES_PROMPTS.join(','),
      policy: 'max-fail-runs: 0\n'
    })
    const named = MANY_EVALUATORS + FEW_EVALUATORS
    if (run.exitCode !== 0) throw failed(run, 'names')
    const line = `Evaluator names: ${count(named)} of ${count(named)} evaluators named`
    if (!run.stdout.includes(line)) throw new Error(`names: the log does not say "${line}"`)
    const listings = api.requests.filter(isEvaluatorsRequest)
    const of = (promptId: string) => listings.filter(r => r.path.includes(promptId)).length
    const expected = pages(MANY_EVALUATORS) + pages(FEW_EVALUATORS)
    const again = repeats(listings)
    return {
      id: '10a',
      what: `evaluator names, 2 prompts: ${count(MANY_EVALUATORS)} and ${FEW_EVALUATORS} (listed first of ${count(MANY_EVALUATORS)}) evaluators in the report: requests`,
      measured: `${listings.length} (${of(many)} + ${of(few)})${again > 0 ? `, ${again} repeated` : ''}`,
      goal: `= ${expected} (⌈${MANY_EVALUATORS}/200⌉ + ⌈${FEW_EVALUATORS}/200⌉), none repeated`,
      met: listings.length === expected && again === 0,
      gatesQuick: true
    }
  } finally {
    await api.close()
  }
}

/** `count` completed evaluations that pass every run, the i-th (from 1) of evaluator `evaluator(i)`. */
function passing(count: number, evaluator: (i: number) => string, runKind: string): Evaluation[] {
  return Array.from({ length: count }, (_, i) =>
    makeEvaluation({
      n: i + 1,
      runId: fakeId(runKind, i + 1),
      evaluatorId: evaluator(i + 1),
      status: 'completed',
      pass: 10,
      fail: 0,
      unknown: 0
    })
  )
}

// --- Row 10b–10d: row results, each page once, none unasked --------------------------------

const PAIRS_PROMPT = fakeId('prm_bench_pairs', 1)
/** Judged evaluations, each with a baseline of the same evaluator and dataset. */
export const PAIRS = 3
/** Rows of each: three pages a side. */
export const PAIR_ROWS = 450
/** Rows that pass in the baseline and fail now, in each pair: the failing rows the report shows. */
const NEWLY_FAILING = 10

/** PAIRS pairs of `rows` rows on PAIRS_PROMPT, each with `newlyFailing` newly failing rows. */
function addPairs(api: FakeAdaline, pairs: number, rows: number, newlyFailing: number): void {
  const minute = 60_000
  for (let p = 0; p < pairs; p += 1) {
    api.addPairedEvaluations(PAIRS_PROMPT, {
      rows,
      nowFails: Array.from({ length: newlyFailing }, (_, i) => i * 7),
      evaluatorId: fakeId('evl_bench_pair', p + 1),
      datasetId: fakeId('dst_bench_pair', p + 1),
      runId: fakeId('run_bench_judged', p + 1),
      baselineRunId: fakeId('run_bench_baseline', p + 1),
      submittedAt: 1_750_000_000_000 + p * minute
    })
  }
}

interface RowScenario {
  id: string
  what: string
  policy: string
  junit: boolean
  /** pages of every row result the scenario needs */
  expectedPages: number
}

/**
 * Three runs over the same pairs: rows compared (max-new-failures) with a JUnit file and failing
 * rows, which all read the judged rows (each page once: both sides, the judged rows reused); a
 * JUnit file only (the judged side); neither (no page of every row: only the failing rows, by grade).
 */
export async function rowRequestFigures(): Promise<Figure[]> {
  const sidePages = pages(PAIR_ROWS)
  const scenarios: RowScenario[] = [
    {
      id: '10b',
      what: 'max-new-failures, JUnit and failing rows',
      policy: 'max-new-failures: 1000\n',
      junit: true,
      expectedPages: PAIRS * 2 * sidePages
    },
    {
      id: '10c',
      what: 'JUnit and failing rows, no rule reads rows',
      policy: 'max-pass-rate-drop: 50%\n',
      junit: true,
      expectedPages: PAIRS * sidePages
    },
    {
      id: '10d',
      what: 'failing rows only, no rule reads rows',
      policy: 'max-pass-rate-drop: 50%\n',
      junit: false,
      expectedPages: 0
    }
  ]
  const api = await FakeAdaline.start()
  const dir = await mkdtemp(join(tmpdir(), 'adaline-evals-bench-'))
  try {
    addPairs(api, PAIRS, PAIR_ROWS, NEWLY_FAILING)
    const figures: Figure[] = []
    for (const scenario of scenarios) {
      api.clearRequests()
      const run = await runAction(
        {
          'api-key': api.apiKey,
          'base-url': api.url,
          'prompt-id': PAIRS_PROMPT,
          policy: scenario.policy,
          ...(scenario.junit ? { 'junit-file': 'junit.xml' } : {})
        },
        { cwd: dir }
      )
      if (run.exitCode !== 0) throw failed(run, scenario.what)
      const resultPages = api.requests.filter(isResultsPage)
      const byGrade = api.requests.filter(isGradeRequest).length
      const again = repeats(api.requests.filter(r => r.path.endsWith('/results')))
      // failing rows come from the pages when they were fetched, else one request by grade each
      const expectedByGrade = scenario.expectedPages > 0 ? 0 : PAIRS
      figures.push({
        id: scenario.id,
        what: `${PAIRS} pairs of ${PAIR_ROWS} rows, ${scenario.what}: result requests`,
        measured:
          `${resultPages.length} pages + ${byGrade} by grade` +
          (again > 0 ? `, ${again} repeated` : ''),
        goal:
          scenario.expectedPages > 0
            ? `= ${scenario.expectedPages} pages (${sidePages} a side${scenario.expectedPages < PAIRS * 2 * sidePages ? ', judged side only' : ''}) + 0, none repeated`
            : `= 0 pages + ${expectedByGrade} (one per section of failing rows)`,
        met:
          resultPages.length === scenario.expectedPages &&
          byGrade === expectedByGrade &&
          again === 0,
        gatesQuick: true
      })
    }
    return figures
  } finally {
    await api.close()
    await rm(dir, { recursive: true, force: true })
  }
}

// --- Row 11: at the run's row budget ------------------------------------------------------

/** Pairs of RESULTS_CAP rows a side that fill COMPARISON_ROWS_CAP exactly: 10. */
export const BUDGET_PAIRS = COMPARISON_ROWS_CAP / (2 * RESULTS_CAP)
/**
 * The V8 heap the comparing run must finish in. Its rows alone are about 60 MB as JSON; the
 * build that held all 200,000 to the end ran out of heap at 90 and 110 MiB, the one that lets go
 * of them finished at 90.
 */
export const BUDGET_HEAP_MIB = 100
const COMPARING = 'max-new-failures: 100000\n'
const NOT_COMPARING = 'max-pass-rate-drop: 50%\n'

interface BudgetRun {
  exitCode: number | null
  peakBytes: number
  cpuMs: number
  wallMs: number
  requests: number
}

/**
 * BUDGET_PAIRS pairs of RESULTS_CAP rows a side, 200,000 row results in all: the most one run
 * compares. With max-new-failures and V8's heap capped at BUDGET_HEAP_MIB, which only a run that
 * does not hold every row to its end finishes (a peak RSS says less: V8 leaves garbage until it
 * must collect): its requests and whether it finished. With `full`, also the run with a JUnit
 * file too, at the default heap (peak resident set, CPU and wall time), and the same with a rule
 * that reads no rows (the JUnit file then fetches the judged side alone). Runs interleaved, medians.
 */
export async function budgetFigures(runs: number, full: boolean): Promise<Figure[]> {
  const api = await FakeAdaline.start()
  const dir = await mkdtemp(join(tmpdir(), 'adaline-evals-bench-'))
  try {
    addPairs(api, BUDGET_PAIRS, RESULTS_CAP, 100)
    const expectedRequests = BUDGET_PAIRS * 2 * pages(RESULTS_CAP)
    const comparing: BudgetRun[] = []
    const notComparing: BudgetRun[] = []
    const capped: BudgetRun[] = []
    for (let run = 0; run < runs; run += 1) {
      capped.push(await budgetRun(api, dir, COMPARING, false, BUDGET_HEAP_MIB))
      if (!full) continue
      comparing.push(await budgetRun(api, dir, COMPARING, true))
      notComparing.push(await budgetRun(api, dir, NOT_COMPARING, true))
    }
    const requests = Math.max(...capped.concat(comparing).map(r => r.requests))
    const finished = capped.filter(r => r.exitCode === 0)
    const of = runs > 1 ? ` (median of ${runs})` : ''
    const figures: Figure[] = [
      {
        id: '11a',
        what: `${BUDGET_PAIRS} pairs of ${count(RESULTS_CAP)} rows (${count(COMPARISON_ROWS_CAP)}, the budget), max-new-failures: result requests`,
        measured: count(requests),
        goal: `= ${count(expectedRequests)} (${pages(RESULTS_CAP)} a side)`,
        met: requests === expectedRequests,
        gatesQuick: true
      },
      {
        id: '11b',
        what: `the same, V8 heap capped at ${BUDGET_HEAP_MIB} MiB: runs finished`,
        measured:
          `${finished.length}/${capped.length}` +
          (finished.length > 0
            ? ` (peak RSS ${mebibytes(median(finished.map(r => r.peakBytes)))})`
            : ''),
        goal: `${capped.length}/${capped.length}`,
        met: finished.length === capped.length,
        gatesQuick: true
      }
    ]
    if (!full) return figures
    const versus = (pick: (r: BudgetRun) => number, show: (value: number) => string) =>
      `${show(median(comparing.map(pick)))} vs ${show(median(notComparing.map(pick)))}`
    figures.push(
      {
        id: '11c',
        what: `the same with a JUnit file, default heap: peak RSS, vs a rule that reads no rows${of}`,
        measured: versus(r => r.peakBytes, mebibytes),
        goal: '—',
        gatesQuick: false
      },
      {
        id: '11d',
        what: `the same: CPU time, vs a rule that reads no rows; wall time comparing${of}`,
        measured: `${versus(r => r.cpuMs, seconds)}; ${seconds(median(comparing.map(r => r.wallMs)))}`,
        goal: '—',
        gatesQuick: false
      }
    )
    return figures
  } finally {
    await api.close()
    await rm(dir, { recursive: true, force: true })
  }
}

async function budgetRun(
  api: FakeAdaline,
  dir: string,
  policy: string,
  junit: boolean,
  heapMiB?: number
): Promise<BudgetRun> {
  api.clearRequests()
  let peak: Promise<number> | undefined
  const started = performance.now()
  const heap = heapMiB === undefined ? '' : ` --max-old-space-size=${heapMiB}`
  const run = await runAction(
    {
      'api-key': api.apiKey,
      'base-url': api.url,
      'prompt-id': PAIRS_PROMPT,
      policy,
      ...(junit ? { 'junit-file': 'junit.xml' } : {})
    },
    {
      cwd: dir,
      env: { NODE_OPTIONS: `${CPU_TIMED.NODE_OPTIONS}${heap}` },
      timeoutMs: RUN_TIMEOUT_MS,
      onStart: child => (peak = peakResidentBytes(child))
    }
  )
  const wallMs = performance.now() - started
  // a run out of heap is a figure (11c), not an error of the benchmark
  if (heapMiB === undefined && (run.exitCode !== 0 || !peak))
    throw failed(run, `at the budget (${policy.trim()})`)
  return {
    exitCode: run.exitCode,
    peakBytes: (await peak) ?? 0,
    cpuMs: run.exitCode === 0 ? cpuMs(run) : 0,
    wallMs,
    requests: api.requests.filter(isResultsPage).length
  }
}

// --- Row 12: growth with names and comparisons on -------------------------------------------

/** Evaluations of each evaluator (one dataset): the first has no baseline, the others do. */
const PER_EVALUATOR = 10
const GROWTH_PROMPT = fakeId('prm_bench_growth', 1)
/** The same goal as row 7: at sizes four times apart linear is 4, n log n 4.7 to 4.9, quadratic 16. */
export const COMPARING_GROWTH_GOAL = 5

export interface ComparingGrowthOptions {
  small: number
  large: number
  runs: number
}

/**
 * `scope: all` with max-new-failures at two sizes four times apart: every evaluation judged, named
 * (an evaluator per PER_EVALUATOR evaluations) and, but the first of each evaluator, compared row
 * by row with the one before (one row each, so the run fetches one page per evaluation). CPU time
 * of the action's process, medians of interleaved runs; each run's requests are checked.
 */
export async function comparingGrowthFigure({
  small,
  large,
  runs
}: ComparingGrowthOptions): Promise<Figure> {
  const smallApi = await growthApi(small)
  const largeApi = await growthApi(large)
  try {
    const smallMs: number[] = []
    const largeMs: number[] = []
    for (let run = 0; run < runs; run += 1) {
      const pair = [
        async () => smallMs.push(await compareAll(smallApi, small)),
        async () => largeMs.push(await compareAll(largeApi, large))
      ]
      if (run % 2 === 1) pair.reverse()
      for (const step of pair) await step()
    }
    const growth = median(largeMs) / median(smallMs)
    return {
      id: '12',
      what: `scope: all, names + max-new-failures, ${count(small)} → ${count(large)} evaluations: CPU time ratio (median of ${runs})`,
      measured: `${ratio(growth)} (${seconds(median(smallMs))} → ${seconds(median(largeMs))})`,
      goal: `≤ ${ratio(COMPARING_GROWTH_GOAL)}`,
      met: growth <= COMPARING_GROWTH_GOAL,
      gatesQuick: true
    }
  } finally {
    await smallApi.close()
    await largeApi.close()
  }
}

async function growthApi(evaluations: number): Promise<FakeAdaline> {
  const api = await FakeAdaline.start()
  api.addPrompt(
    GROWTH_PROMPT,
    Array.from({ length: evaluations }, (_, i) =>
      makeEvaluation({
        n: i + 1,
        evaluatorId: fakeId('evl_bench_growth', 1 + (i % (evaluations / PER_EVALUATOR))),
        status: 'completed',
        pass: 1,
        fail: 0,
        unknown: 0
      })
    )
  )
  return api
}

async function compareAll(api: FakeAdaline, evaluations: number): Promise<number> {
  api.clearRequests()
  const run = await runAction(
    {
      'api-key': api.apiKey,
      'base-url': api.url,
      'prompt-id': GROWTH_PROMPT,
      policy: 'scope: all\nmax-fail-runs: 0\nmax-new-failures: 0\n'
    },
    { timeoutMs: RUN_TIMEOUT_MS, env: CPU_TIMED }
  )
  if (run.exitCode !== 0 || run.outputs['evaluation-count'] !== String(evaluations))
    throw failed(run, `growth at ${count(evaluations)}`)
  const evaluators = evaluations / PER_EVALUATOR
  const resultPages = api.requests.filter(isResultsPage).length
  const listings = api.requests.filter(isEvaluatorsRequest).length
  if (resultPages !== evaluations || listings !== pages(evaluators))
    throw new Error(
      `growth at ${count(evaluations)}: ${resultPages} result pages (not ${evaluations}) and ${listings} evaluator listings (not ${pages(evaluators)})`
    )
  return cpuMs(run)
}

/**
 * The lifecycle and per-row results of the fake Adaline's evaluations, as pure functions of the
 * clock: the state of an evaluation is computed from its start time and `now` whenever it is read,
 * so no timer runs, nothing leaks, and a test can move time forward instantly.
 *
 * queued (queuedMs) → running (one row after another, rowMs each) → completed | failed;
 * a cancel → cancelling until the row running at that moment has finished (and at least
 * cancellingMs) → cancelled, with its rows frozen from then on.
 */
import { createHash } from 'node:crypto'
import type { Evaluation, EvaluationStatus, Grade, Result } from '../src/adaline/schema.js'

/** What became of one dataset row: a grade, or 'error' for a row that failed to run (no result). */
export type RowOutcome = Grade | 'error'

export interface LifecycleOptions {
  /** Time from submission to the first row starting; default 800 ms. */
  queuedMs?: number
  /** Time each row takes, one row after another; default 200 ms (20 rows: ~4.8 s in all). */
  rowMs?: number
  /**
   * Least time from a cancel to 'cancelled'; default 200 ms. The row running when the cancel
   * arrives still finishes (and counts) before the evaluation is cancelled.
   */
  cancellingMs?: number
  /** The outcome of row `row` (0-based); default {@link defaultOutcome}. */
  outcome?: (row: number) => RowOutcome
  /** The status once every row is done; default 'completed'. */
  finalStatus?: 'completed' | 'failed'
  /** Rows in the dataset; default 20. */
  totalRows?: number
  /** USD per run, around which each row's cost varies by ±15 % (deterministically); default 0.00105. */
  rowCost?: number
  /** Milliseconds per run, varied by ±25 %; default 1150. */
  rowLatencyMs?: number
  /** Tokens per run, varied by ±10 %; default 1300. */
  rowTokens?: number
}

export type ResolvedLifecycle = Required<LifecycleOptions>

/**
 * The default outcome of a row: every 10th row from row 6 fails (6, 16, ...), row 11 of every 20
 * is unknown, row 14 of every 20 errors; the rest pass. 20 rows: 16 pass, 2 fail, 1 unknown, 1
 * failed row.
 */
export function defaultOutcome(row: number): RowOutcome {
  if (row % 10 === 6) return 'fail'
  if (row % 20 === 11) return 'unknown'
  if (row % 20 === 14) return 'error'
  return 'pass'
}

export const DEFAULT_LIFECYCLE: ResolvedLifecycle = {
  queuedMs: 800,
  rowMs: 200,
  cancellingMs: 200,
  outcome: defaultOutcome,
  finalStatus: 'completed',
  totalRows: 20,
  rowCost: 0.00105,
  rowLatencyMs: 1150,
  rowTokens: 1300
}

/** Later layers win; a field that is absent or undefined leaves the one below in place. */
export function resolveLifecycle(...layers: (LifecycleOptions | undefined)[]): ResolvedLifecycle {
  const resolved: Record<string, unknown> = { ...DEFAULT_LIFECYCLE }
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer ?? {})) {
      if (value !== undefined) resolved[key] = value
    }
  }
  const plan = resolved as unknown as ResolvedLifecycle
  for (const key of ['queuedMs', 'rowMs', 'cancellingMs', 'rowCost', 'rowLatencyMs'] as const) {
    if (!Number.isFinite(plan[key]) || plan[key] < 0) {
      throw new RangeError(`lifecycle.${key} must be a finite number >= 0`)
    }
  }
  for (const key of ['totalRows', 'rowTokens'] as const) {
    if (!Number.isSafeInteger(plan[key]) || plan[key] < 0) {
      throw new RangeError(`lifecycle.${key} must be an integer >= 0`)
    }
  }
  if (plan.finalStatus !== 'completed' && plan.finalStatus !== 'failed') {
    throw new RangeError(`lifecycle.finalStatus must be 'completed' or 'failed'`)
  }
  if (typeof plan.outcome !== 'function')
    throw new TypeError('lifecycle.outcome must be a function')
  return plan
}

/** An evaluation whose state follows the clock. */
export interface Animation {
  /** the clock time it was submitted: the queue starts here */
  startAt: number
  plan: ResolvedLifecycle
  /** the clock time a cancel was accepted */
  cancelAt?: number
  /** seeds the per-row variation */
  seed: number
  /** the state, once it can no longer change */
  settled?: LifecycleState
}

/** An animation and the stored evaluation it writes its state into. */
export interface AnimatedEvaluation extends Animation {
  target: Evaluation
}

export interface CompletedRow {
  row: number
  outcome: RowOutcome
  completedAt: number
  cost: number
  latency: number
  tokenCount: number
}

export interface LifecycleState {
  status: EvaluationStatus
  progress: Evaluation['progress']
  metrics: Evaluation['metrics']
  startedAt: number | null
  finishedAt: number | null
  /** the rows done so far, in order */
  rows: CompletedRow[]
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/** A 32-bit FNV-1a hash. */
export function hash32(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h >>> 0
}

/** A deterministic number in [0, 1) for (seed, n). */
function unit(seed: number, n: number): number {
  let t = (seed ^ Math.imul(n + 1, 0x9e3779b1)) >>> 0
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
}

function rowMeasures(
  animation: Animation,
  row: number
): Pick<CompletedRow, 'cost' | 'latency' | 'tokenCount'> {
  const { plan, seed } = animation
  const u = unit(seed, row)
  return {
    cost: round(plan.rowCost * (0.85 + 0.3 * u), 6),
    latency: Math.round(plan.rowLatencyMs * (0.75 + 0.5 * u)),
    tokenCount: Math.round(plan.rowTokens * (0.9 + 0.2 * u))
  }
}

/** The state of an animated evaluation at clock time `now`. */
export function lifecycleState(animation: Animation, now: number): LifecycleState {
  if (animation.settled) return animation.settled
  const { plan, startAt, cancelAt } = animation
  const { totalRows, rowMs } = plan
  const runStart = startAt + plan.queuedMs
  const runEnd = runStart + totalRows * rowMs
  const finishedBy = (t: number): number =>
    t < runStart
      ? 0
      : rowMs <= 0
        ? totalRows
        : Math.min(totalRows, Math.floor((t - runStart) / rowMs))

  let status: EvaluationStatus
  let done: number
  let startedAt: number | null = null
  let finishedAt: number | null = null
  let settled = false
  if (cancelAt !== undefined && cancelAt < runEnd) {
    // rows already running when the cancel arrived still finish
    const begun =
      cancelAt < runStart
        ? 0
        : rowMs <= 0
          ? totalRows
          : Math.min(totalRows, Math.floor((cancelAt - runStart) / rowMs) + 1)
    // a queued evaluation never starts; a running one waits for the row it is running
    const lastRowEnd = begun > 0 ? runStart + begun * rowMs : cancelAt
    const cancelledAt = Math.max(cancelAt + plan.cancellingMs, lastRowEnd)
    done = Math.min(begun, finishedBy(Math.min(now, cancelledAt)))
    startedAt = begun > 0 ? runStart : null
    settled = now >= cancelledAt
    status = settled ? 'cancelled' : 'cancelling'
    finishedAt = settled ? cancelledAt : null
  } else if (now < runStart) {
    status = 'queued'
    done = 0
  } else if (now < runEnd) {
    status = 'running'
    done = finishedBy(now)
    startedAt = runStart
  } else {
    status = plan.finalStatus
    done = totalRows
    startedAt = runStart
    finishedAt = runEnd
    settled = true
  }

  const rows: CompletedRow[] = []
  const counts = { pass: 0, fail: 0, unknown: 0, error: 0 }
  let totalCost = 0
  let totalLatency = 0
  let totalTokenCount = 0
  for (let row = 0; row < done; row++) {
    const outcome = plan.outcome(row)
    const measures =
      outcome === 'error' ? { cost: 0, latency: 0, tokenCount: 0 } : rowMeasures(animation, row)
    counts[outcome] += 1
    totalCost += measures.cost
    totalLatency += measures.latency
    totalTokenCount += measures.tokenCount
    rows.push({ row, outcome, completedAt: runStart + (row + 1) * rowMs, ...measures })
  }
  const completedRows = counts.pass + counts.fail + counts.unknown
  const finished = status === 'completed' || status === 'failed' || status === 'cancelled'
  const percent =
    totalRows === 0
      ? finished
        ? 100
        : 0
      : round(((completedRows + counts.error) / totalRows) * 100, 1)
  const state: LifecycleState = {
    status,
    progress: {
      totalRows,
      completedRows,
      failedRows: counts.error,
      percent: Math.min(100, percent)
    },
    metrics: {
      passRuns: counts.pass,
      failRuns: counts.fail,
      unknownRuns: counts.unknown,
      totalCost: round(totalCost, 6),
      totalLatency,
      totalTokenCount
    },
    startedAt,
    finishedAt,
    rows
  }
  if (settled) animation.settled = state
  return state
}

/** Writes a lifecycle state into a stored evaluation, keeping its IDs, submittedAt and extras. */
export function applyState(evaluation: Evaluation, state: LifecycleState): void {
  evaluation.status = state.status
  evaluation.progress = { ...evaluation.progress, ...state.progress }
  evaluation.metrics = { ...evaluation.metrics, ...state.metrics }
  evaluation.timeline = {
    ...evaluation.timeline,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt
  }
}

// Support tickets of the sample dataset: [ticket, expected category].
// prettier-ignore
const TICKETS: [string, string][] = [
  ['My invoice is wrong', 'billing'],
  ['I was charged twice this month', 'billing'],
  ['Please refund my last order', 'refund'],
  ['The app crashes when I upload a photo', 'bug'],
  ['How do I change my password?', 'account'],
  ['Cancel my subscription please', 'cancellation'],
  ['The package arrived damaged', 'shipping'],
  ['Where is my order? It is a week late', 'shipping'],
  ['Can I get a discount for a yearly plan?', 'sales'],
  ['I cannot log in after the update', 'account'],
  ['Export to CSV gives an empty file', 'bug'],
  ['Why did my price go up?', 'billing'],
  ['I want my money back, the item is broken', 'refund'],
  ['Please delete my account and data', 'account'],
  ['Do you ship to Canada?', 'shipping'],
  ['The VAT number on my receipt is missing', 'billing'],
  ['Dark mode resets every time I restart', 'bug'],
  ['Upgrade me to the team plan', 'sales'],
  ['I returned the shoes, where is my refund?', 'refund'],
  ['Stop renewing my plan automatically', 'cancellation']
]
const CATEGORIES = [...new Set(TICKETS.map(([, category]) => category))]
const UNKNOWN_REASONS = [
  'Judge could not parse the answer',
  'Judge answer was not one of the allowed categories',
  'Judge could not parse the answer'
]

// How later copies of a ticket open, so that rows 20..199 of a large dataset read differently.
const OPENINGS = [
  '',
  'Hi, ',
  'Hello, ',
  'Urgent: ',
  'Quick question: ',
  'Sorry to bother you, ',
  'Second try: ',
  'From my phone: ',
  'Hey team, ',
  'Good morning, '
]

/**
 * The values of dataset row `row`, e.g. `{ ticket: 'My invoice is wrong', expected: 'billing' }`:
 * the same in every evaluation, and different for each of the first 200 rows.
 */
export function rowValues(row: number): { ticket: string; expected: string } {
  const [text, expected] = TICKETS[row % TICKETS.length]!
  const copy = Math.floor(row / TICKETS.length)
  const opening = OPENINGS[copy % OPENINGS.length]!
  const body = opening && !text.startsWith('I ') ? text[0]!.toLowerCase() + text.slice(1) : text
  const ticket = opening + body + (copy >= OPENINGS.length ? ` (ticket ${row + 1})` : '')
  return { ticket, expected }
}

// Hashes are memoised: a large listing asks for the same run's and dataset's hash on every row.
const shortHashes = new Map<string, string>()
function shortHash(text: string): string {
  let hash = shortHashes.get(text)
  if (hash === undefined) {
    hash = createHash('sha256').update(text).digest('hex').slice(0, 12)
    shortHashes.set(text, hash)
  }
  return hash
}

/** The ID of dataset row `row`: the same in every evaluation of the dataset. */
export function rowIdOf(datasetId: string | null | undefined, row: number): string {
  return `row_${shortHash(datasetId ?? 'no-dataset')}_${String(row).padStart(6, '0')}`
}

/** The index of the dataset row a row ID names, or undefined if it is not one of its rows. */
export function rowIndexOf(
  datasetId: string | null | undefined,
  rowId: string
): number | undefined {
  const match = /^row_([0-9a-f]{12})_(\d{6,})$/.exec(rowId)
  if (!match || match[1] !== shortHash(datasetId ?? 'no-dataset')) return undefined
  return Number(match[2])
}

export interface ResultSeed {
  row: number
  grade: Grade
  cost: number
  latency: number
  tokenCount: number
  createdAt: number
}

/** The result of one row, with its row values; IDs are 23 characters and deterministic. */
export function makeResult(
  runId: string,
  datasetId: string | null | undefined,
  seed: ResultSeed
): Result & { row: { values: Record<string, string> } } {
  const values = rowValues(seed.row)
  const pick = hash32(`${runId}:${seed.row}`)
  let reason: string
  let score: number | null
  if (seed.grade === 'pass') {
    score = 1
    reason = `Predicted category '${values.expected}' matches the expected category.`
  } else if (seed.grade === 'fail') {
    score = 0
    const others = CATEGORIES.filter(category => category !== values.expected)
    reason = `Expected category '${values.expected}' but got '${others[pick % others.length]}'`
  } else {
    score = null
    reason = UNKNOWN_REASONS[pick % UNKNOWN_REASONS.length]!
  }
  const index = String(seed.row).padStart(6, '0')
  return {
    id: `res_${shortHash(runId)}_${index}`,
    rowId: rowIdOf(datasetId, seed.row),
    grade: seed.grade,
    score,
    reason,
    cost: seed.cost,
    latency: seed.latency,
    tokenCount: seed.tokenCount,
    createdAt: seed.createdAt,
    row: { values }
  }
}

/** The results of an animated evaluation's rows done so far (failed rows have none). */
export function seedsFromState(state: LifecycleState): ResultSeed[] {
  return state.rows.flatMap(({ outcome, completedAt, ...rest }) =>
    outcome === 'error' ? [] : [{ ...rest, grade: outcome, createdAt: completedAt }]
  )
}

// ---------------------------------------------------------------------------------------------
// Per-row grades: which rows of the dataset pass, fail, are unknown or errored in one evaluation.
// Results are built from them, so they pair by rowId across evaluations of one dataset.

/** What became of each row of an evaluation's dataset, by row index; null: not run (yet). */
export type RowGrades = (RowOutcome | null)[]

/** The grades of an animated evaluation's rows done so far. */
export function gradesFromState(state: LifecycleState): RowGrades {
  const grades: RowGrades = []
  for (const { row, outcome } of state.rows) grades[row] = outcome
  return Array.from(grades, grade => grade ?? null)
}

/**
 * Grades that agree with an evaluation's metrics, for one that neither follows a lifecycle nor
 * had grades set: passRuns + failRuns + unknownRuns + failedRows rows done, from row 0. As with a
 * real judge, mostly the same rows fail in every evaluation of one dataset by one evaluator: each
 * row has a difficulty (higher where `outcome`, the prompt's lifecycle outcome, fails it), and
 * each evaluation adds a little noise (a few rows' worth), so rows near the line flip.
 */
export function derivedGrades(
  evaluation: Evaluation,
  outcome: (row: number) => RowOutcome
): RowGrades {
  const { passRuns, failRuns, unknownRuns } = evaluation.metrics
  const errors = evaluation.progress.failedRows
  const rows = passRuns + failRuns + unknownRuns + errors
  const difficulty = hash32(`${evaluation.datasetId ?? ''}|${evaluation.evaluatorId}`)
  const noise = hash32(evaluation.runId)
  const planned = Array.from({ length: rows }, (_, row) => outcome(row))
  const grades: RowGrades = Array<RowOutcome>(rows).fill('pass')
  let open = Array.from({ length: rows }, (_, row) => row)
  const take = (count: number, as: RowOutcome, score: (row: number) => number): void => {
    const taken = open
      .map(row => ({ row, score: score(row) }))
      .sort((a, b) => b.score - a.score || a.row - b.row)
      .slice(0, count)
      .map(({ row }) => row)
    for (const row of taken) grades[row] = as
    const gone = new Set(taken)
    open = open.filter(row => !gone.has(row))
  }
  const is = (row: number, what: RowOutcome): number => (planned[row] === what ? 1 : 0)
  take(errors, 'error', row => is(row, 'error') + unit(noise ^ 0x5bd1e995, row))
  const jitter = rows > 0 ? Math.min(0.3, 12 / rows) : 0
  take(failRuns, 'fail', row => is(row, 'fail') + unit(difficulty, row) + jitter * unit(noise, row))
  take(unknownRuns, 'unknown', row => is(row, 'unknown') + unit(noise ^ 0x27d4eb2f, row))
  return grades
}

/** Whether grades agree with an evaluation's run counts and failed rows. */
export function gradesAgree(evaluation: Evaluation, grades: RowGrades): boolean {
  const counts = countGrades(grades)
  const { metrics, progress } = evaluation
  return (
    counts.pass === metrics.passRuns &&
    counts.fail === metrics.failRuns &&
    counts.unknown === metrics.unknownRuns &&
    counts.error === progress.failedRows
  )
}

function countGrades(grades: RowGrades): Record<RowOutcome, number> {
  const counts = { pass: 0, fail: 0, unknown: 0, error: 0 }
  for (const grade of grades) if (grade !== null) counts[grade] += 1
  return counts
}

/**
 * The evaluation with metrics and progress that agree with `grades`: the run counts, failed
 * rows, totalRows (at least `grades.length`) and percent; cost, latency and tokens at the same
 * amount per run as before (the lifecycle defaults when it had no runs). Throws if the grades
 * cannot be those of its status: rows done while queued, rows not done when completed.
 */
export function withRowGrades(evaluation: Evaluation, grades: RowGrades): Evaluation {
  const counts = countGrades(grades)
  const runs = counts.pass + counts.fail + counts.unknown
  const done = runs + counts.error
  const totalRows = Math.max(evaluation.progress.totalRows, grades.length)
  const { status, metrics } = evaluation
  if (status === 'queued' && done > 0) {
    throw new RangeError(`a queued evaluation has no rows done, but ${done} are graded`)
  }
  if (status === 'completed' && done < totalRows) {
    throw new RangeError(
      `a completed evaluation has done all ${totalRows} rows, but only ${done} are graded`
    )
  }
  const before = metrics.passRuns + metrics.failRuns + metrics.unknownRuns
  const perRun = (total: number, fallback: number): number =>
    (before > 0 ? total / before : fallback) * runs
  const finished = status === 'completed' || status === 'failed' || status === 'cancelled'
  return {
    ...evaluation,
    progress: {
      ...evaluation.progress,
      totalRows,
      completedRows: runs,
      failedRows: counts.error,
      percent:
        totalRows === 0 ? (finished ? 100 : 0) : Math.min(100, round((done / totalRows) * 100, 1))
    },
    metrics: {
      ...metrics,
      passRuns: counts.pass,
      failRuns: counts.fail,
      unknownRuns: counts.unknown,
      totalCost: round(perRun(metrics.totalCost, DEFAULT_LIFECYCLE.rowCost), 6),
      totalLatency: round(perRun(metrics.totalLatency, DEFAULT_LIFECYCLE.rowLatencyMs), 1),
      totalTokenCount: Math.round(perRun(metrics.totalTokenCount, DEFAULT_LIFECYCLE.rowTokens))
    }
  }
}

/**
 * `total` in shares proportional to `weights`, each a multiple of 10^-digits, that add up to it
 * exactly in those units (cumulative rounding: no share is lost or counted twice).
 */
function split(total: number, weights: number[], digits: number): number[] {
  const factor = 10 ** digits
  const units = Math.round(total * factor)
  const sum = weights.reduce((a, b) => a + b, 0)
  let acc = 0
  let before = 0
  return weights.map((weight, i) => {
    acc += weight
    const upTo = i === weights.length - 1 ? units : Math.min(units, Math.floor((units * acc) / sum))
    const share = upTo - before
    before = upTo
    return share / factor
  })
}

/**
 * The results of an evaluation that does not follow a lifecycle: one per graded row (errored and
 * not-run rows have none), its cost, latency and tokens shared out among them (each row a little
 * different, the sums those of the metrics), created between startedAt and finishedAt in row order.
 */
export function seedsFromGrades(evaluation: Evaluation, grades: RowGrades): ResultSeed[] {
  const { totalCost, totalLatency, totalTokenCount } = evaluation.metrics
  const done = grades.flatMap((grade, row) => (grade === null ? [] : [{ row, grade }]))
  const graded = done.flatMap(({ row, grade }, rank) =>
    grade === 'error' ? [] : [{ row, grade, rank }]
  )
  const seed = hash32(evaluation.runId) ^ 0x68e31da4
  const weights = graded.map(({ row }) => 0.75 + 0.5 * unit(seed, row))
  const costs = split(totalCost, weights, 6)
  const latencies = split(totalLatency, weights, 1)
  const tokens = split(totalTokenCount, weights, 0)
  const start = evaluation.timeline.startedAt ?? evaluation.timeline.submittedAt
  const end = evaluation.timeline.finishedAt
  const spacing =
    end != null && end > start && done.length > 0 ? (end - start) / done.length : 1_200
  return graded.map(({ row, grade, rank }, i) => ({
    row,
    grade,
    cost: costs[i]!,
    latency: latencies[i]!,
    tokenCount: tokens[i]!,
    createdAt: Math.round(start + (rank + 1) * spacing)
  }))
}

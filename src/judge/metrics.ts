/** Totals over a set of evaluations: what the policy judges and the reports show. */
import type { Evaluation } from '../adaline/schema.js'
import { formatCount, plainDecimal, plural, tidy } from '../format.js'

export interface Metrics {
  evaluations: number
  passRuns: number
  failRuns: number
  unknownRuns: number
  /** pass + fail + unknown */
  runs: number
  /** sum of progress.failedRows */
  failedRows: number
  /** USD */
  totalCost: number
  /** milliseconds, summed over runs */
  totalLatency: number
  totalTokens: number
  /** pass / runs; null when there are no runs */
  passRate: number | null
  /** fail / runs; null when there are no runs */
  failRate: number | null
  /** totalLatency / runs; null when there are no runs */
  avgLatency: number | null
}

/**
 * The figures Adaline answered cannot be added up exactly: a count whose total passes 2^53 (past
 * which a number rounds), or amounts whose total passes the largest number. A gate judged on
 * such a total could pass on a rounded figure, so there is no verdict. An expected error: the
 * faces print its message alone.
 */
export class TotalsError extends Error {
  constructor(
    /** the figure as the API names it, e.g. metrics.totalCost */
    readonly figure: string,
    readonly why: string
  ) {
    super('')
    this.message = this.describe(input => input)
    this.name = 'TotalsError'
  }

  /** the message, naming the filters as the face does (`--created-after` on the command line) */
  describe(nameOf: (input: string) => string): string {
    return `The figures Adaline answered cannot be added up exactly: the total of ${this.figure} over the judged evaluations ${this.why}. There is no verdict; check these evaluations' metrics in Adaline, or narrow the judged set (${nameOf('created-after')}, ${nameOf('evaluator-id')}, scope: latest).`
  }
}

/**
 * An evaluation whose own figures contradict each other: more rows completed or failed than it has,
 * or graded runs (one a row, as its results list them) that no reading of its progress allows:
 * more than its rows done at any time, or, once it says it completed, too few to account for them.
 * Its metrics are no whole account of it, so there is no verdict on them: partial data. Its
 * `figure` is the evaluation's run ID.
 */
export class FiguresDisagree extends TotalsError {
  constructor(runId: string, why: string) {
    super(runId, why)
    this.name = 'FiguresDisagree'
  }

  override describe(nameOf: (input: string) => string): string {
    return `The figures Adaline answered for evaluation ${this.figure} contradict each other: ${this.why}. There is no verdict on figures that disagree; check the evaluation in Adaline, or leave it out of the judged set (${nameOf('created-after')}, ${nameOf('evaluator-id')}).`
  }
}

/** Refuses an evaluation whose progress and run counts cannot all be true. Pure. */
export function checkFigures(evaluations: Iterable<Evaluation>): void {
  for (const { runId, status, progress, metrics } of evaluations) {
    const { totalRows, completedRows, failedRows } = progress
    const runs = metrics.passRuns + metrics.failRuns + metrics.unknownRuns
    // Adaline does not document whether failed rows are among the completed ones, nor whether a
    // failed row has a graded run: only what every reading forbids is refused. Each count alone is
    // at most the total; graded runs are at most the rows done (completed and failed, if failed
    // rows are apart and graded unknown), and once completed at least the completed rows that did
    // not fail (if failed rows are among them and have no grade).
    const pastTotal = completedRows > totalRows || failedRows > totalRows
    const gradedDisagree =
      runs > completedRows + failedRows ||
      (status === 'completed' && runs + failedRows < completedRows)
    // the words only for a refusal: formatting them for each of 40,000 evaluations took seconds
    if (!pastTotal && !gradedDisagree) continue
    const rows = `its progress counts ${formatCount(completedRows)} completed and ${formatCount(failedRows)} failed of ${plural(totalRows, 'row')}`
    if (pastTotal) throw new FiguresDisagree(runId, rows)
    throw new FiguresDisagree(
      runId,
      `its metrics count ${plural(runs, 'graded run')} (pass, fail and unknown), but ${rows}`
    )
  }
}

const PAST_SAFE = `passes ${Number.MAX_SAFE_INTEGER.toLocaleString('en-US')}, beyond which counts are rounded`
const PAST_MAX = 'is beyond the largest number (1.8e308)'

/** A count's running total, exact or refused. */
class CountSum {
  private total = 0
  constructor(private readonly figure: string) {}
  add(value: number): void {
    // both safe: an unsafe sum means the exact one passed 2^53 - 1 and may have been rounded
    this.total += value
    if (!Number.isSafeInteger(this.total)) throw new TotalsError(this.figure, PAST_SAFE)
  }
  value(): number {
    return this.total
  }
}

export function totals(evaluations: Iterable<Evaluation>): Metrics {
  let count = 0
  const passRuns = new CountSum('metrics.passRuns')
  const failRuns = new CountSum('metrics.failRuns')
  const unknownRuns = new CountSum('metrics.unknownRuns')
  const failedRows = new CountSum('progress.failedRows')
  const totalTokens = new CountSum('metrics.totalTokenCount')
  const totalCost = new DecimalSum()
  const totalLatency = new DecimalSum()
  for (const { metrics, progress } of evaluations) {
    count += 1
    passRuns.add(metrics.passRuns)
    failRuns.add(metrics.failRuns)
    unknownRuns.add(metrics.unknownRuns)
    failedRows.add(progress.failedRows)
    totalCost.add(metrics.totalCost)
    totalLatency.add(metrics.totalLatency)
    totalTokens.add(metrics.totalTokenCount)
  }
  const runs = new CountSum('runs (passRuns + failRuns + unknownRuns)')
  for (const sum of [passRuns, failRuns, unknownRuns]) runs.add(sum.value())
  const cost = finite(totalCost.value(), 'metrics.totalCost')
  const latency = finite(totalLatency.value(), 'metrics.totalLatency')
  const pass = passRuns.value()
  const fail = failRuns.value()
  const all = runs.value()
  return {
    evaluations: count,
    passRuns: pass,
    failRuns: fail,
    unknownRuns: unknownRuns.value(),
    runs: all,
    failedRows: failedRows.value(),
    totalCost: cost,
    totalLatency: latency,
    totalTokens: totalTokens.value(),
    passRate: all > 0 ? pass / all : null,
    failRate: all > 0 ? fail / all : null,
    // a quotient, judged against a limit: float noise (0.35000000000000003) must not break it
    avgLatency: all > 0 ? tidy(latency / all) : null
  }
}

function finite(total: number, figure: string): number {
  if (!Number.isFinite(total)) throw new TotalsError(figure, PAST_MAX)
  return total
}

/**
 * Refuses totals that are not exact (built elsewhere than by totals): the gate never passes on a
 * rounded or infinite figure.
 */
export function checkTotals(metrics: Metrics): void {
  const counts = [
    'passRuns',
    'failRuns',
    'unknownRuns',
    'runs',
    'failedRows',
    'totalTokens'
  ] as const
  for (const figure of counts) {
    if (!Number.isSafeInteger(metrics[figure])) throw new TotalsError(figure, PAST_SAFE)
  }
  for (const figure of ['totalCost', 'totalLatency'] as const) finite(metrics[figure], figure)
}

/**
 * A sum of numbers as their decimal texts add up, so that 0.1 + 0.2 is 0.3 without rounding any
 * digit away (adding doubles would give 0.30000000000000004; rounding that would cut real digits).
 */
export class DecimalSum {
  /** the sum times 10^scale */
  private scaled = 0n
  private scale = 0

  add(value: number): void {
    const text = plainDecimal(value)
    const negative = text.startsWith('-')
    const [whole, fraction = ''] = (negative ? text.slice(1) : text).split('.')
    if (fraction.length > this.scale) {
      this.scaled *= 10n ** BigInt(fraction.length - this.scale)
      this.scale = fraction.length
    }
    const digits = BigInt(whole + fraction.padEnd(this.scale, '0'))
    this.scaled += negative ? -digits : digits
  }

  /** The nearest double to the exact sum. */
  value(): number {
    const negative = this.scaled < 0n
    const digits = (negative ? -this.scaled : this.scaled).toString().padStart(this.scale + 1, '0')
    const point = digits.length - this.scale
    return Number(`${negative ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point) || '0'}`)
  }
}

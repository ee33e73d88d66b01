/** Totals over a set of evaluations: what the policy judges and the reports show. */
import type { Evaluation } from './adaline/schema.js'
import { plainDecimal, tidy } from './report/format.js'

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

export function totals(evaluations: Iterable<Evaluation>): Metrics {
  let count = 0
  let passRuns = 0
  let failRuns = 0
  let unknownRuns = 0
  let failedRows = 0
  const totalCost = new DecimalSum()
  const totalLatency = new DecimalSum()
  let totalTokens = 0
  for (const { metrics, progress } of evaluations) {
    count += 1
    passRuns += metrics.passRuns
    failRuns += metrics.failRuns
    unknownRuns += metrics.unknownRuns
    failedRows += progress.failedRows
    totalCost.add(metrics.totalCost)
    totalLatency.add(metrics.totalLatency)
    totalTokens += metrics.totalTokenCount
  }
  const runs = passRuns + failRuns + unknownRuns
  return {
    evaluations: count,
    passRuns,
    failRuns,
    unknownRuns,
    runs,
    failedRows,
    totalCost: totalCost.value(),
    totalLatency: totalLatency.value(),
    totalTokens,
    passRate: runs > 0 ? passRuns / runs : null,
    failRate: runs > 0 ? failRuns / runs : null,
    // a quotient, judged against a limit: float noise (0.35000000000000003) must not break it
    avgLatency: runs > 0 ? tidy(totalLatency.value() / runs) : null
  }
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

/** Totals over a set of evaluations: what the policy judges and the reports show. */
import type { Evaluation } from './adaline/schema.js'
import { tidy } from './report/format.js'

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
  let totalCost = 0
  let totalLatency = 0
  let totalTokens = 0
  for (const { metrics, progress } of evaluations) {
    count += 1
    passRuns += metrics.passRuns
    failRuns += metrics.failRuns
    unknownRuns += metrics.unknownRuns
    failedRows += progress.failedRows
    totalCost += metrics.totalCost
    totalLatency += metrics.totalLatency
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
    totalCost: tidy(totalCost),
    totalLatency: tidy(totalLatency),
    totalTokens,
    passRate: runs > 0 ? passRuns / runs : null,
    failRate: runs > 0 ? failRuns / runs : null,
    avgLatency: runs > 0 ? tidy(totalLatency / runs) : null
  }
}

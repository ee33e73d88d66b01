/** The step outputs: plain decimals at full precision, JSON arrays for lists. Pure. */
import { plainDecimal } from '../format.js'
import type { RunReport } from '../run/run-report.js'

/** GitHub keeps at most 1 MB per output; the `evaluations` array is cut to fit, whole items only. */
export const OUTPUT_LIMIT_BYTES = 1_000_000

export interface Outputs {
  values: Record<string, string>
  /** set when `evaluations` had to be cut to fit */
  truncated?: { kept: number; total: number }
}

export function buildOutputs(report: RunReport, limitBytes = OUTPUT_LIMIT_BYTES): Outputs {
  const { metrics, gathered, verdict, cancel } = report
  const { json, kept } = jsonWithin(
    gathered.judged.map(item => item.evaluation),
    limitBytes
  )
  return {
    values: {
      gate: verdict.gate,
      'listed-count': plainDecimal(gathered.listedCount),
      'evaluation-count': plainDecimal(metrics.evaluations),
      'pass-runs': plainDecimal(metrics.passRuns),
      'fail-runs': plainDecimal(metrics.failRuns),
      'unknown-runs': plainDecimal(metrics.unknownRuns),
      'failed-rows': plainDecimal(metrics.failedRows),
      'pass-rate': metrics.passRate === null ? '' : plainDecimal(metrics.passRate),
      'total-cost': plainDecimal(metrics.totalCost),
      'total-latency': plainDecimal(metrics.totalLatency),
      'total-tokens': plainDecimal(metrics.totalTokens),
      cancelled: JSON.stringify(cancel.cancelled),
      'cancel-failed': JSON.stringify(cancel.failed.map(failed => failed.runId)),
      started: JSON.stringify(report.started),
      evaluations: json,
      ...comparisonOutputs(report)
    },
    ...(kept < gathered.judged.length ? { truncated: { kept, total: gathered.judged.length } } : {})
  }
}

/** A JSON array of as many leading items as fit in `limitBytes`. */
function jsonWithin(items: unknown[], limitBytes: number): { json: string; kept: number } {
  const parts: string[] = []
  let size = 2
  for (const item of items) {
    const part = JSON.stringify(item)
    const added = Buffer.byteLength(part) + (parts.length > 0 ? 1 : 0)
    if (size + added > limitBytes) break
    parts.push(part)
    size += added
  }
  return { json: `[${parts.join(',')}]`, kept: parts.length }
}

/**
 * new-failures and new-passes summed over the evaluations compared row by row with their
 * baselines, and the smallest p-value among them; each empty when none was compared.
 */
function comparisonOutputs(report: RunReport): Record<string, string> {
  const compared = [...(report.comparisons?.values() ?? [])].flatMap(c => (c.compared ? [c] : []))
  if (compared.length === 0) return { 'new-failures': '', 'new-passes': '', 'p-value': '' }
  const sum = (pick: (c: (typeof compared)[number]) => number) =>
    plainDecimal(compared.reduce((total, c) => total + pick(c), 0))
  return {
    'new-failures': sum(c => c.rows.newlyFailing),
    'new-passes': sum(c => c.rows.newlyPassing),
    'p-value': plainDecimal(Math.min(...compared.map(c => c.verdict.pValue)))
  }
}

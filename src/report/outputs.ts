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
      evaluations: json
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

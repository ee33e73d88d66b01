/**
 * The JSON report (schemaVersion 1): the object the command's `--format json` prints and
 * `report-file` holds, described field by field in schema/report.schema.json. Pure.
 */
import type { Evaluation, Result } from '../adaline/schema.js'
import { isDateTime, tidy } from '../format.js'
import { totals, type Metrics } from '../judge/metrics.js'
import type { RowComparison, RowGrade } from '../judge/pairing.js'
import type { RuleCheck, Scope } from '../judge/policy.js'
import type { RegressionVerdict } from '../judge/significance.js'
import type { RunReport } from '../run/run-report.js'

/** Raised when a field changes meaning or goes; adding a field keeps it. */
export const JSON_REPORT_SCHEMA_VERSION = 1

export interface JsonReport {
  schemaVersion: typeof JSON_REPORT_SCHEMA_VERSION
  gate: 'passed' | 'failed' | 'skipped'
  rules: RuleCheck[]
  broken: { rule: string; message: string }[]
  /** breaches that did not break the gate (drops within noise) */
  warnings: string[]
  metrics: Metrics
  listedCount: number
  listedByStatus: Partial<Record<Evaluation['status'], number>>
  evaluations: JsonEvaluation[]
  cancelled: string[]
  cancelFailures: { runId: string; promptId: string; message: string }[]
  finishedBeforeCancel: {
    runId: string
    promptId: string
    status: Evaluation['status']
    message: string
  }[]
  started: string[]
  waitedMs: number | null
  stillRunning: string[]
  baselines: Record<string, string>
  run: {
    promptIds: string[]
    scope: Scope
    dryRun: boolean
    supersede: { act: boolean; reason: string }
    startedAt: string | null
    finishedAt: string | null
    durationMs: number | null
  }
}

/** A judged evaluation: the API's fields as the action keeps them, and what the report adds. */
export type JsonEvaluation = Evaluation & {
  promptId: string
  evaluatorTitle: string | null
  passRate: number | null
  avgLatencyMs: number | null
  baseline: JsonBaseline | null
  failingRows: JsonRow[]
  /** its rows paired with its baseline's; null when not looked for or without a baseline */
  comparison: JsonComparison | null
}

/** Newly failing rows a comparison lists at most (its counts have them all). */
export const JSON_NEWLY_FAILING_ROWS = 1_000

interface JsonComparison {
  baselineRunId: string
  pinned: boolean
  compared: boolean
  reason: string | null
  verdict: RegressionVerdict['kind'] | null
  pValue: number | null
  significance: number | null
  counts: Omit<RowComparison, 'duplicates' | 'newlyFailingRows'> | null
  newlyFailingRows: {
    rowId: string
    values: Record<string, unknown> | null
    baseline: Required<RowGrade>
    judged: Required<RowGrade>
  }[]
}

interface JsonBaseline {
  runId: string
  status: Evaluation['status']
  passRate: number | null
  totalCost: number
  avgLatencyMs: number | null
  deltas: {
    /** (pass rate now − baseline's) × 100; null when either has no runs */
    passRatePoints: number | null
    /** cost now − baseline's, USD */
    cost: number
    /** average latency now − baseline's, ms; null when either has no runs */
    avgLatencyMs: number | null
  }
}

interface JsonRow {
  id: string
  rowId: string
  grade: Result['grade']
  score: number | null
  reason: string | null
  latencyMs: number | null
  values: Record<string, unknown> | null
}

export function buildJsonReport(report: RunReport): JsonReport {
  const { verdict, metrics, gathered, cancel, timing } = report
  return {
    schemaVersion: JSON_REPORT_SCHEMA_VERSION,
    gate: verdict.gate,
    rules: verdict.checks,
    broken: verdict.broken.map(({ rule, message }) => ({ rule, message })),
    warnings: verdict.warnings,
    metrics,
    listedCount: gathered.listedCount,
    listedByStatus: gathered.listedByStatus,
    evaluations: gathered.judged.map(({ promptId, evaluation }) =>
      jsonEvaluation(report, promptId, evaluation)
    ),
    cancelled: cancel.cancelled,
    cancelFailures: cancel.failed,
    finishedBeforeCancel: cancel.finished,
    started: report.started,
    waitedMs: report.wait?.waitedMs ?? null,
    stillRunning: report.wait?.timedOut ?? [],
    baselines: Object.fromEntries(
      [...report.baselines].map(([runId, item]) => [runId, item.evaluation.runId])
    ),
    run: {
      promptIds: report.promptIds,
      scope: report.scope,
      dryRun: report.dryRun,
      supersede: { act: report.decision.act, reason: report.decision.reason },
      startedAt: timing ? isoTime(timing.startedAt) : null,
      finishedAt: timing ? isoTime(timing.finishedAt) : null,
      durationMs: timing ? Math.max(0, timing.finishedAt - timing.startedAt) : null
    }
  }
}

/**
 * The report's JSON text: two-space indents and a final newline. `##[` can stand only inside a
 * JSON string, where `\u0023` reads as the same `#` and no runner takes it for a command; U+2028
 * and U+2029, which some readers take for line ends, are escaped the same way. Printed or written,
 * the text is the same.
 */
export function jsonReportText(report: JsonReport): string {
  const text = JSON.stringify(report, null, 2)
    .replace(/##\[/g, '#\\u0023[')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
  return `${text}\n`
}

function jsonEvaluation(report: RunReport, promptId: string, evaluation: Evaluation) {
  const figures = totals([evaluation])
  const baseline = report.baselines.get(evaluation.runId)?.evaluation
  const rows = report.failingRows.get(evaluation.runId) ?? []
  const result: JsonEvaluation = {
    ...evaluation,
    promptId,
    evaluatorTitle: report.evaluatorTitles?.get(evaluation.evaluatorId) ?? null,
    passRate: figures.passRate,
    avgLatencyMs: figures.avgLatency,
    baseline: baseline ? jsonBaseline(figures, baseline) : null,
    failingRows: rows.map(jsonRow),
    comparison: jsonComparison(report, evaluation.runId)
  }
  return result
}

function jsonComparison(report: RunReport, runId: string): JsonComparison | null {
  const comparison = report.comparisons?.get(runId)
  if (!comparison) return null
  const pinned = (report.pinnedBaselines ?? []).includes(comparison.baselineRunId)
  if (!comparison.compared)
    return {
      baselineRunId: comparison.baselineRunId,
      pinned,
      compared: false,
      reason: comparison.reason,
      verdict: null,
      pValue: null,
      significance: null,
      counts: null,
      newlyFailingRows: []
    }
  const { duplicates: _, newlyFailingRows, ...counts } = comparison.rows
  const grade = ({ grade, score, reason }: RowGrade) => ({
    grade,
    score: score ?? null,
    reason: reason ?? null
  })
  return {
    baselineRunId: comparison.baselineRunId,
    pinned,
    compared: true,
    reason: null,
    verdict: comparison.verdict.kind,
    pValue: comparison.verdict.pValue,
    significance: comparison.verdict.significance,
    counts,
    newlyFailingRows: newlyFailingRows.slice(0, JSON_NEWLY_FAILING_ROWS).map(row => ({
      rowId: row.rowId,
      values: row.values ?? null,
      baseline: grade(row.baseline),
      judged: grade(row.judged)
    }))
  }
}

function jsonBaseline(now: Metrics, baseline: Evaluation): JsonBaseline {
  const before = totals([baseline])
  const difference = (a: number | null, b: number | null) =>
    a === null || b === null ? null : tidy(a - b)
  return {
    runId: baseline.runId,
    status: baseline.status,
    passRate: before.passRate,
    totalCost: before.totalCost,
    avgLatencyMs: before.avgLatency,
    deltas: {
      passRatePoints: difference(
        now.passRate === null ? null : now.passRate * 100,
        before.passRate === null ? null : before.passRate * 100
      ),
      cost: tidy(now.totalCost - before.totalCost),
      avgLatencyMs: difference(now.avgLatency, before.avgLatency)
    }
  }
}

function jsonRow(result: Result): JsonRow {
  return {
    id: result.id,
    rowId: result.rowId,
    grade: result.grade,
    score: result.score ?? null,
    reason: result.reason ?? null,
    latencyMs: result.latency ?? null,
    values: (result.row?.values as Record<string, unknown> | undefined) ?? null
  }
}

/** Unix ms as ISO 8601; a time no Date can hold is null rather than an exception. */
function isoTime(ms: number): string | null {
  return isDateTime(ms) ? new Date(ms).toISOString() : null
}

/**
 * The report files other CIs read (JUnit XML, the JSON report, OpenMetrics text): which ones the
 * settings ask for, and each one's text, from what a run produced. Pure; the faces write them.
 */
import type { Evaluation } from '../adaline/schema.js'
import { plainDecimal } from '../format.js'
import type { ReportFileInput, Settings } from '../inputs/settings.js'
import { totals } from '../judge/metrics.js'
import type { RunReport } from '../run/run-report.js'
import { buildJsonReport, jsonReportText } from './json-report.js'
import { buildJUnit, type JUnitEvaluation, type JUnitInput } from './junit.js'
import { buildOpenMetrics, type MetricsInput } from './openmetrics.js'

/** One file to write: the input that asked for it, its path as given, and its text. */
export interface ReportFile {
  input: ReportFileInput
  path: string
  text: string
}

/** The `<testsuites>` name. */
export const JUNIT_NAME = 'adaline-evals'

/** The files the settings ask for, in the order of their inputs. */
export function buildReportFiles(
  report: RunReport,
  paths: Pick<Settings, 'junitFile' | 'reportFile' | 'metricsFile'>
): ReportFile[] {
  const files: ReportFile[] = []
  if (paths.junitFile)
    files.push({ input: 'junit-file', path: paths.junitFile, text: buildJUnit(junitInput(report)) })
  if (paths.reportFile) {
    const text = jsonReportText(buildJsonReport(report))
    files.push({ input: 'report-file', path: paths.reportFile, text })
  }
  if (paths.metricsFile) {
    const text = buildOpenMetrics(metricsInput(report))
    files.push({ input: 'metrics-file', path: paths.metricsFile, text })
  }
  return files
}

/** The JUnit builder's input: the policy suite's rules, and a suite per judged evaluation. */
export function junitInput(report: RunReport): JUnitInput {
  const { judged } = report.gathered
  const names = suiteNames(report)
  return {
    name: JUNIT_NAME,
    time: report.timing ? (report.timing.finishedAt - report.timing.startedAt) / 1000 : undefined,
    rules: report.verdict.checks.map(({ rule, ok, message }) => ({ rule, ok, message })),
    evaluations: judged.map(({ promptId, evaluation }, i): JUnitEvaluation => {
      const fetched = report.rowResults?.get(evaluation.runId)
      const { passRuns: pass, failRuns: fail, unknownRuns: unknown } = evaluation.metrics
      return {
        name: names[i]!,
        properties: properties(report, promptId, evaluation),
        rows: fetched?.ok
          ? fetched.results.map(result => ({
              rowId: result.rowId,
              grade: result.grade,
              score: result.score,
              reason: result.reason,
              latencyMs: result.latency
            }))
          : undefined,
        rowsLeftOut: fetched?.ok ? fetched.leftOut : 0,
        runs: { pass, fail, unknown }
      }
    })
  }
}

/** The metrics builder's input: the totals and each judged evaluation's figures. */
export function metricsInput(report: RunReport): MetricsInput {
  const { metrics } = report
  const compared = [...(report.comparisons?.values() ?? [])].flatMap(c => (c.compared ? [c] : []))
  const comparedTotals =
    compared.length === 0
      ? {}
      : {
          newFailures: compared.reduce((sum, c) => sum + c.rows.newlyFailing, 0),
          newPasses: compared.reduce((sum, c) => sum + c.rows.newlyPassing, 0),
          pValue: Math.min(...compared.map(c => c.verdict.pValue))
        }
  return {
    totals: {
      passRuns: metrics.passRuns,
      failRuns: metrics.failRuns,
      unknownRuns: metrics.unknownRuns,
      passRate: metrics.passRate,
      costUsd: metrics.totalCost,
      avgLatencyMs: metrics.avgLatency,
      tokens: metrics.totalTokens,
      ...comparedTotals
    },
    evaluations: report.gathered.judged.map(({ promptId, evaluation }) => {
      const figures = totals([evaluation])
      return {
        prompt: promptId,
        evaluator: evaluatorName(report, evaluation),
        passRuns: figures.passRuns,
        failRuns: figures.failRuns,
        unknownRuns: figures.unknownRuns,
        passRate: figures.passRate,
        costUsd: figures.totalCost,
        avgLatencyMs: figures.avgLatency,
        tokens: figures.totalTokens,
        ...comparedFigures(report, evaluation.runId)
      }
    })
  }
}

/** An evaluation's row comparison with its baseline as figures; nothing when not compared. */
function comparedFigures(
  report: RunReport,
  runId: string
): { newFailures?: number; newPasses?: number; pValue?: number } {
  const comparison = report.comparisons?.get(runId)
  if (!comparison?.compared) return {}
  return {
    newFailures: comparison.rows.newlyFailing,
    newPasses: comparison.rows.newlyPassing,
    pValue: comparison.verdict.pValue
  }
}

/** The evaluator's title where the report has one, else its ID. */
function evaluatorName(report: RunReport, evaluation: Evaluation): string {
  return report.evaluatorTitles?.get(evaluation.evaluatorId) ?? evaluation.evaluatorId
}

/**
 * Each judged evaluation's suite name, "prompt / evaluator", kept the same from build to build so
 * that Jenkins' and GitLab's test history follows it: the dataset is added only where two share
 * a prompt and evaluator, and " (2)", " (3)"… only where they share the dataset too.
 */
function suiteNames(report: RunReport): string[] {
  const { judged } = report.gathered
  const base = judged.map(
    ({ promptId, evaluation }) => `${promptId} / ${evaluatorName(report, evaluation)}`
  )
  const shared = countOf(base)
  const named = judged.map(({ evaluation }, i) =>
    shared.get(base[i]!)! > 1 ? `${base[i]} / ${evaluation.datasetId ?? 'no dataset'}` : base[i]!
  )
  const twins = countOf(named)
  const seen = new Map<string, number>()
  return named.map(name => {
    if (twins.get(name)! === 1) return name
    const n = (seen.get(name) ?? 0) + 1
    seen.set(name, n)
    return n === 1 ? name : `${name} (${n})`
  })
}

function countOf(names: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>()
  for (const name of names) counts.set(name, (counts.get(name) ?? 0) + 1)
  return counts
}

/** The suite's `<properties>`: what identifies the evaluation, and its figures as plain decimals. */
function properties(
  report: RunReport,
  promptId: string,
  evaluation: Evaluation
): [string, string][] {
  const figures = totals([evaluation])
  const title = report.evaluatorTitles?.get(evaluation.evaluatorId)
  const baseline = report.baselines.get(evaluation.runId)
  const comparison = report.comparisons?.get(evaluation.runId)
  const compared = comparedFigures(report, evaluation.runId)
  const optional = (name: string, value: number | string | null | undefined): [string, string][] =>
    value === null || value === undefined
      ? []
      : [[name, typeof value === 'number' ? plainDecimal(value) : value]]
  return [
    ['runId', evaluation.runId],
    ['promptId', promptId],
    ['evaluatorId', evaluation.evaluatorId],
    ...optional('evaluator', title),
    ...optional('datasetId', evaluation.datasetId),
    ['status', evaluation.status],
    ['passRuns', plainDecimal(figures.passRuns)],
    ['failRuns', plainDecimal(figures.failRuns)],
    ['unknownRuns', plainDecimal(figures.unknownRuns)],
    ...optional('passRate', figures.passRate),
    ['failedRows', plainDecimal(figures.failedRows)],
    ['costUsd', plainDecimal(figures.totalCost)],
    ['totalLatencyMs', plainDecimal(figures.totalLatency)],
    ...optional('avgLatencyMs', figures.avgLatency),
    ['tokens', plainDecimal(figures.totalTokens)],
    ...optional('baselineRunId', baseline?.evaluation.runId),
    ...optional('newFailures', compared?.newFailures),
    ...optional('newPasses', compared?.newPasses),
    ...optional('pValue', compared?.pValue),
    ...optional('notCompared', comparison && !comparison.compared ? comparison.reason : undefined)
  ]
}

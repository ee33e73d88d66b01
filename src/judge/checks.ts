/**
 * Every rule the policy sets, held or broken, with its figure and its limit as report text: what
 * the summary's rules table, the JUnit policy suite and the JSON report all show. Pure.
 */
import type { Evaluation } from '../adaline/schema.js'
import { FIGURE, figureAndLimit, formatCount, formatPercent, type FigureWriter } from '../format.js'
import { totals, type Metrics } from './metrics.js'
import {
  countedDrops,
  dropsPastLimit,
  newFailureTotals,
  significantComparisons,
  type RegressionInput
} from './regressions.js'

/** One rule the policy sets, judged. */
export interface RuleCheck {
  /** the rule's key as the policy spells it, e.g. min-pass-rate */
  rule: string
  ok: boolean
  /** the judged figure as report text, e.g. "82.5%" */
  figure: string
  /** the rule's limit as report text, e.g. "85%" */
  limit: string
  /** the broken rule's message, or the figure against the limit when it holds */
  message: string
  /** a held rule's breach that did not count (a drop within noise): then `message` says so too */
  warning?: string
  /** the judged evaluations that broke it, where the rule is about evaluations */
  runIds?: string[]
}

type Figure = { figure: string; limit: string; runIds?: string[] }

/** What the checks are computed from (the policy's parts they need, so policy.ts can call this). */
export interface CheckInput {
  judged: readonly Evaluation[]
  metrics: Metrics
  limits: Readonly<Record<string, number | undefined>>
  allowed: readonly string[]
  baselines?: ReadonlyMap<string, Evaluation>
  /** the broken rules' messages, by rule */
  broken: ReadonlyMap<string, string>
  /** the held rules' warnings (a breach within noise), by rule */
  warned?: ReadonlyMap<string, string>
  /** the row comparisons and significance the regression rules read */
  regression?: RegressionInput
}

/** Every rule the limits set, in the policy's order, then allow-status. */
export function ruleChecks(input: CheckInput): RuleCheck[] {
  const { judged, metrics, limits, allowed, broken } = input
  const withRuns = (pick: (m: Evaluation['metrics']) => number) =>
    judged.filter(e => pick(e.metrics) > 0).map(e => e.runId)
  const figures: Record<string, (limit: number) => Figure> = {
    'max-fail-runs': limit => ({
      ...against(metrics.failRuns, limit, FIGURE.count),
      runIds: withRuns(m => m.failRuns)
    }),
    'max-unknown-runs': limit => ({
      ...against(metrics.unknownRuns, limit, FIGURE.count),
      runIds: withRuns(m => m.unknownRuns)
    }),
    'max-failed-rows': limit => ({
      ...against(metrics.failedRows, limit, FIGURE.count),
      runIds: judged.filter(e => e.progress.failedRows > 0).map(e => e.runId)
    }),
    'max-tokens': limit => against(metrics.totalTokens, limit, FIGURE.count),
    'max-cost': limit => against(metrics.totalCost, limit, FIGURE.cost),
    'max-fail-rate': limit => against(metrics.failRate, limit, FIGURE.rate),
    'min-pass-rate': limit => against(metrics.passRate, limit, FIGURE.rate),
    'max-avg-latency': limit => against(metrics.avgLatency, limit, FIGURE.duration),
    'max-pass-rate-drop': limit => worstDrop(input, limit),
    'max-new-failures': limit => newFailures(input, limit)
  }
  // with a significance, the regression rules' limits hold only where the drop is beyond chance
  const significance = input.regression?.significance
  const where = (rule: string) =>
    significance !== undefined && (rule === 'max-pass-rate-drop' || rule === 'max-new-failures')
      ? `, where p < ${formatPercent(significance, 2)}`
      : ''
  const checks: RuleCheck[] = []
  for (const [rule, limit] of Object.entries(limits)) {
    const figureOf = figures[rule]
    if (limit === undefined || !figureOf) continue
    const { figure, limit: bare, runIds } = figureOf(limit)
    const shown = `${bare}${where(rule)}`
    // the figure's name as the broken rule's message spells it: max-fail-runs → fail-runs
    const warning = input.warned?.get(rule)
    const held = warning ?? `${rule.replace(/^(max|min)-/, '')} ${figure}, within ${rule} ${shown}`
    const judgedCheck = check(rule, figure, shown, held, broken.get(rule), runIds)
    checks.push(judgedCheck.ok && warning ? { ...judgedCheck, warning } : judgedCheck)
  }
  const outside = judged.filter(e => !allowed.includes(e.status)).map(e => e.runId)
  const inside = `${formatCount(judged.length - outside.length)} of ${formatCount(judged.length)}`
  const limit = allowed.join(', ')
  const noun = judged.length === 1 ? 'evaluation' : 'evaluations'
  checks.push(
    check(
      'allow-status',
      inside,
      limit,
      `${inside} judged ${noun} in allow-status [${limit}]`,
      broken.get('allow-status'),
      outside
    )
  )
  return checks
}

/**
 * A figure and its limit as policy.ts's messages and the totals write them (figureAndLimit); a
 * figure that needs runs reads "no runs" without them.
 */
function against(value: number | null, limit: number, write: FigureWriter): Figure {
  if (value === null) return { figure: 'no runs', limit: write(limit, 0) }
  const [figure, shown] = figureAndLimit(value, limit, write)
  return { figure, limit: shown }
}

/** The judged evaluations that broke a rule, by run ID: their failing rows are shown first. */
export function brokeARule(checks: readonly RuleCheck[]): Set<string> {
  return new Set(checks.filter(c => !c.ok).flatMap(c => c.runIds ?? []))
}

function check(
  rule: string,
  figure: string,
  limit: string,
  held: string,
  brokenMessage: string | undefined,
  runIds: string[] | undefined
): RuleCheck {
  if (brokenMessage === undefined) return { rule, ok: true, figure, limit, message: held }
  return { rule, ok: false, figure, limit, message: brokenMessage, ...(runIds ? { runIds } : {}) }
}

/** Newly failing rows over the compared evaluations, and those that newly fail any. */
function newFailures(input: CheckInput, limit: number): Figure {
  const regression = regressionOf(input)
  const { newlyFailing, compared } = newFailureTotals(regression)
  // with a significance, a breach counts only in significant drops: then the figure is what broke
  // the limit, as the verdict says it
  if (regression.significance !== undefined) {
    const significant = significantComparisons(regression).filter(c => c.rows.newlyFailing > 0)
    const counted = significant.reduce((sum, c) => sum + c.rows.newlyFailing, 0)
    if (counted > limit)
      return {
        figure: formatCount(counted),
        limit: formatCount(limit),
        runIds: significant.map(c => c.runId)
      }
  }
  return {
    figure: compared === 0 ? 'none compared' : formatCount(newlyFailing),
    limit: formatCount(limit),
    runIds: input.judged
      .filter(e => {
        const comparison = regression.comparisons?.get(e.runId)
        return comparison?.compared && comparison.rows.newlyFailing > 0
      })
      .map(e => e.runId)
  }
}

function regressionOf(input: CheckInput): RegressionInput {
  return input.regression ?? { judged: input.judged, baselines: input.baselines }
}

/**
 * The largest fall of a judged evaluation's pass rate below its baseline's, in points; with a
 * significance, the largest that counts against the gate when one does, as the verdict says it.
 */
function worstDrop(input: CheckInput, limit: number): Figure {
  const counted = countedDrops(dropsPastLimit(limit, regressionOf(input)))
  const [worstCounted] = counted
  if (worstCounted) {
    const runIds = new Set(counted.map(d => d.evaluation.runId))
    return {
      ...against(-worstCounted.drop, -limit, FIGURE.points),
      runIds: input.judged.filter(e => runIds.has(e.runId)).map(e => e.runId)
    }
  }
  let worst: number | undefined
  const dropped: string[] = []
  for (const evaluation of input.judged) {
    const baseline = input.baselines?.get(evaluation.runId)
    if (!baseline) continue
    const now = totals([evaluation]).passRate
    const before = totals([baseline]).passRate
    if (now === null || before === null) continue
    const drop = before - now
    if (worst === undefined || drop > worst) worst = drop
    if (drop > limit) dropped.push(evaluation.runId)
  }
  const figure =
    worst === undefined
      ? { figure: 'no baseline', limit: FIGURE.points(-limit, 0) }
      : against(-worst, -limit, FIGURE.points)
  return { ...figure, runIds: dropped }
}

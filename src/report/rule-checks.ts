/**
 * INTERIM (issue 15, until issue 14's `verdict.checks` lands): every rule the policy sets, held or
 * broken, with its figure and limit as report text, for the JUnit policy suite and the JSON
 * report. At the merge, `ruleChecks(report)` becomes `report.verdict.checks` and this file goes.
 * Pure.
 */
import {
  formatCost,
  formatCount,
  formatDuration,
  formatPercent,
  formatPointsDelta
} from '../format.js'
import { totals } from '../judge/metrics.js'
import { DEFAULT_ALLOW_STATUS, type Limits } from '../judge/policy.js'
import type { RunReport } from '../run/run-report.js'

/** One rule the policy sets, judged (the shape of issue 14's RuleCheck). */
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
  /** the judged evaluations that broke it, where the rule is about evaluations */
  runIds?: string[]
}

type Figure = { figure: string; limit: string; runIds?: string[] }

/** Every rule the report's policy sets, in the policy's order, then allow-status. */
export function ruleChecks(report: RunReport): RuleCheck[] {
  const { verdict, policy, metrics } = report
  const broken = new Map(verdict.broken.map(b => [b.rule, b.message]))
  if (verdict.gate === 'skipped') return []
  const judged = report.gathered.judged.map(item => item.evaluation)
  if (judged.length === 0 || !policy) {
    // no evaluations (on-empty decides), or no policy to list: the broken rules alone
    return verdict.broken.map(({ rule, message }) => ({
      rule,
      ok: false,
      figure: '',
      limit: '',
      message
    }))
  }
  const withRuns = (pick: (m: (typeof judged)[number]['metrics']) => number) =>
    judged.filter(e => pick(e.metrics) > 0).map(e => e.runId)
  const rate = (value: number | null) => (value === null ? 'no runs' : formatPercent(value, 2))
  const figures: Record<keyof Limits, (limit: number) => Figure> = {
    'max-fail-runs': limit => ({
      figure: formatCount(metrics.failRuns),
      limit: formatCount(limit),
      runIds: withRuns(m => m.failRuns)
    }),
    'max-unknown-runs': limit => ({
      figure: formatCount(metrics.unknownRuns),
      limit: formatCount(limit),
      runIds: withRuns(m => m.unknownRuns)
    }),
    'max-failed-rows': limit => ({
      figure: formatCount(metrics.failedRows),
      limit: formatCount(limit),
      runIds: judged.filter(e => e.progress.failedRows > 0).map(e => e.runId)
    }),
    'max-tokens': limit => ({
      figure: formatCount(metrics.totalTokens),
      limit: formatCount(limit)
    }),
    'max-cost': limit => ({ figure: formatCost(metrics.totalCost), limit: formatCost(limit) }),
    'max-fail-rate': limit => ({ figure: rate(metrics.failRate), limit: rate(limit) }),
    'min-pass-rate': limit => ({ figure: rate(metrics.passRate), limit: rate(limit) }),
    'max-avg-latency': limit => ({
      figure: metrics.avgLatency === null ? 'no runs' : formatDuration(metrics.avgLatency),
      limit: formatDuration(limit)
    }),
    'max-pass-rate-drop': limit => worstDrop(report, limit)
  }
  const checks: RuleCheck[] = []
  for (const [rule, limit] of Object.entries(policy.limits) as [keyof Limits, number][]) {
    const { figure, limit: shown, runIds } = figures[rule](limit)
    // the figure's name as the broken rule's message spells it: max-fail-runs → fail-runs
    const held = `${rule.replace(/^(max|min)-/, '')} ${figure}, within ${rule} ${shown}`
    checks.push(check(rule, figure, shown, held, broken.get(rule), runIds))
  }
  const allowed = policy.allowStatus ?? DEFAULT_ALLOW_STATUS
  const outside = judged.filter(e => !allowed.includes(e.status)).map(e => e.runId)
  const inside = `${formatCount(judged.length - outside.length)} of ${formatCount(judged.length)}`
  const limit = allowed.join(', ')
  checks.push(
    check(
      'allow-status',
      inside,
      limit,
      `${inside} judged evaluation(s) in allow-status [${limit}]`,
      broken.get('allow-status'),
      outside
    )
  )
  return checks
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

/** The largest fall of a judged evaluation's pass rate below its baseline's, in points. */
function worstDrop(report: RunReport, limit: number): Figure {
  let worst: number | undefined
  const dropped: string[] = []
  for (const { evaluation } of report.gathered.judged) {
    const baseline = report.baselines.get(evaluation.runId)
    if (!baseline) continue
    const now = totals([evaluation]).passRate
    const before = totals([baseline.evaluation]).passRate
    if (now === null || before === null) continue
    const drop = before - now
    if (worst === undefined || drop > worst) worst = drop
    if (drop > limit) dropped.push(evaluation.runId)
  }
  return {
    figure: worst === undefined ? 'no baseline' : formatPointsDelta(-worst),
    limit: formatPointsDelta(-limit),
    runIds: dropped
  }
}

/**
 * The gate policy, applied to the judged set. policy-yaml.ts reads it from the `policy` input's
 * YAML, and is loaded only when a policy is given.
 */
import type { Evaluation, EvaluationStatus } from '../adaline/schema.js'
import { ruleChecks, type RuleCheck } from './checks.js'
import { checkTotals, type Metrics } from './metrics.js'
import {
  countedDrops,
  dropsPastLimit,
  newFailuresRule,
  type Comparison,
  type RegressionInput
} from './regressions.js'
import {
  FIGURE,
  figureAndLimit,
  formatDuration,
  formatPercent,
  plural,
  type FigureWriter
} from '../format.js'

export type Scope = 'latest' | 'all'

/** Limits: a figure above a `max-` limit, or below a `min-` limit, breaks the gate. */
export interface Limits {
  'max-fail-runs'?: number
  'max-unknown-runs'?: number
  'max-failed-rows'?: number
  'max-tokens'?: number
  /** 0..1 */
  'max-fail-rate'?: number
  /** 0..1 */
  'min-pass-rate'?: number
  /** USD, summed over the judged set */
  'max-cost'?: number
  /** milliseconds per run */
  'max-avg-latency'?: number
  /** 0..1: how far a judged evaluation's pass rate may fall below its baseline's */
  'max-pass-rate-drop'?: number
  /** rows that pass in the baseline and fail now, summed over the compared evaluations */
  'max-new-failures'?: number
}

export interface Policy {
  limits: Limits
  /** Statuses a judged evaluation may be in; undefined when the policy does not say (→ completed). */
  allowStatus?: EvaluationStatus[]
  onEmpty: 'fail' | 'pass'
  scope: Scope
  /**
   * 0..1 (exclusive of 0): with it, max-pass-rate-drop and max-new-failures break the gate only
   * where McNemar's p for the drop is below it; a breach within noise is a warning
   */
  significance?: number
}

export const DEFAULT_ALLOW_STATUS: readonly EvaluationStatus[] = ['completed']

/** The policy when none is given: no rules, so the gate is skipped and the run only reports. */
export function emptyPolicy(): Policy {
  return { limits: {}, onEmpty: 'fail', scope: 'latest' }
}

/** Whether the policy sets anything to judge by; without rules the gate is skipped. */
export function hasRules(policy: Policy): boolean {
  return Object.keys(policy.limits).length > 0 || policy.allowStatus !== undefined
}

export interface BrokenRule {
  rule: string
  /** "fail-runs 7 > max-fail-runs 0" */
  message: string
}

export type { RuleCheck } from './checks.js'

export interface Verdict {
  gate: 'passed' | 'failed' | 'skipped'
  broken: BrokenRule[]
  /** every rule the policy sets, held or broken, with its figure and limit (empty when skipped) */
  checks: RuleCheck[]
  /** breaches that do not break the gate (a drop within noise): the faces print them as warnings */
  warnings: string[]
}

/**
 * How the face that runs the judge names a setting in a message's hint: the action by its input
 * (`set status: completed`), the command by its flag (`pass --status completed`). inputs/'s
 * Naming is one; the judge only reads it.
 */
export interface SettingNaming {
  /** the setting's name: `wait`, `--wait` */
  nameOf(input: string): string
  /** the setting with a value: `wait: 30m`, `--wait 30m` */
  withValue(input: string, value: string): string
  /** how the user gives a setting: `set` (an input), `pass` (a flag) */
  verb: string
}

/** The action's words (inputs/ builds its Naming on them); the judge's when a caller does not say. */
export const INPUT_NAMING: SettingNaming = {
  nameOf: input => input,
  withValue: (input, value) => `${input}: ${value}`,
  verb: 'set'
}

/** What else the verdict may depend on. */
export interface JudgeContext {
  /** how the face names settings in hints; the action's input names when not given */
  naming?: SettingNaming
  /** each judged evaluation's baseline, by run ID */
  baselines?: ReadonlyMap<string, Evaluation>
  /** how long the run waited for evaluations to finish, when it waited */
  waitedMs?: number
  /** the wait ran out with evaluations still in flight: the gate judges allow-status even without rules */
  waitTimedOut?: boolean
  /** each judged evaluation's row-by-row comparison with its baseline, by run ID */
  comparisons?: ReadonlyMap<string, Comparison>
}

/** Applies the policy to the judged evaluations and their totals. */
export function judge(
  judged: readonly Evaluation[],
  metrics: Metrics,
  policy: Policy,
  context: JudgeContext = {}
): Verdict {
  // a wait that ran out did not get what the step waited for: that is a failure, not a report
  if (!hasRules(policy) && !context.waitTimedOut)
    return { gate: 'skipped', broken: [], checks: [], warnings: [] }
  checkTotals(metrics)
  if (judged.length === 0) {
    const message =
      policy.onEmpty === 'pass'
        ? 'no evaluations to judge, and on-empty is pass'
        : 'no evaluations to judge (on-empty: fail); check the filters, or set on-empty: pass'
    const ok = policy.onEmpty === 'pass'
    const check = { rule: 'on-empty', ok, figure: '0 evaluations', limit: policy.onEmpty, message }
    return ok
      ? { gate: 'passed', broken: [], checks: [check], warnings: [] }
      : { gate: 'failed', broken: [{ rule: 'on-empty', message }], checks: [check], warnings: [] }
  }
  const broken: BrokenRule[] = []
  const { limits } = policy
  // each figure as the rules table and the totals write it (checks.ts uses the same writers)
  const atMost = (rule: keyof Limits, figure: string, value: number, write: FigureWriter) => {
    const limit = limits[rule]
    if (limit !== undefined && value > limit) {
      const [shown, allowed] = figureAndLimit(value, limit, write)
      broken.push({ rule, message: `${figure} ${shown} > ${rule} ${allowed}` })
    }
  }
  atMost('max-fail-runs', 'fail-runs', metrics.failRuns, FIGURE.count)
  atMost('max-unknown-runs', 'unknown-runs', metrics.unknownRuns, FIGURE.count)
  atMost('max-failed-rows', 'failed-rows', metrics.failedRows, FIGURE.count)
  atMost('max-tokens', 'tokens', metrics.totalTokens, FIGURE.count)
  atMost('max-cost', 'cost', metrics.totalCost, FIGURE.cost)
  rateRule(broken, 'max-fail-rate', 'fail-rate', metrics.failRate, limits['max-fail-rate'], '>')
  rateRule(broken, 'min-pass-rate', 'pass-rate', metrics.passRate, limits['min-pass-rate'], '<')
  if (limits['max-avg-latency'] !== undefined) {
    if (metrics.avgLatency === null) {
      broken.push(noRuns('max-avg-latency', 'avg-latency'))
    } else atMost('max-avg-latency', 'avg-latency', metrics.avgLatency, FIGURE.duration)
  }
  const regression: RegressionInput = {
    judged,
    baselines: context.baselines,
    comparisons: context.comparisons,
    significance: policy.significance
  }
  const warned = new Map<string, string>()
  passRateDrop(broken, warned, limits['max-pass-rate-drop'], regression)
  if (limits['max-new-failures'] !== undefined) {
    const outcome = newFailuresRule(limits['max-new-failures'], regression)
    if (outcome.broken) broken.push({ rule: 'max-new-failures', message: outcome.broken })
    if (outcome.warning) warned.set('max-new-failures', outcome.warning)
  }
  const allowed = policy.allowStatus ?? DEFAULT_ALLOW_STATUS
  const outside = judged.filter(evaluation => !allowed.includes(evaluation.status))
  if (outside.length > 0) {
    const waited =
      context.waitedMs === undefined ? '' : ` after waiting ${formatDuration(context.waitedMs)}`
    const listed = outside
      .slice(0, 5)
      .map(e =>
        ['queued', 'running', 'cancelling'].includes(e.status)
          ? `${e.runId} is still ${e.status} (${formatPercent(e.progress.percent / 100, 0)})${waited}`
          : `${e.runId} is ${e.status}`
      )
      .join(', ')
    const more = outside.length > 5 ? ` and ${outside.length - 5} more` : ''
    // first: the other figures are of evaluations in a status the policy does not judge (an
    // unfinished one's are partial), so this is what the verdict sentence names
    broken.unshift({
      rule: 'allow-status',
      message: `${plural(outside.length, 'judged evaluation')} not in allow-status [${allowed.join(', ')}]: ${listed}${more}${unfinishedHint(policy, outside, context)}`
    })
  }
  const checks = ruleChecks({
    judged,
    metrics,
    limits: { ...limits },
    allowed,
    baselines: context.baselines,
    broken: new Map(broken.map(b => [b.rule, b.message])),
    warned,
    regression
  })
  return {
    gate: broken.length > 0 ? 'failed' : 'passed',
    broken,
    checks,
    warnings: [...warned.values()]
  }
}

/**
 * What to do when the judged evaluations are still in flight and allow-status is the default: the
 * newest evaluation of a prompt is often the one still running, so say how to judge the newest
 * finished one, or how to wait for this one.
 */
function unfinishedHint(
  policy: Policy,
  outside: readonly Evaluation[],
  context: JudgeContext
): string {
  if (policy.allowStatus !== undefined) return ''
  if (!outside.some(e => e.status === 'queued' || e.status === 'running')) return ''
  const { nameOf, withValue, verb } = context.naming ?? INPUT_NAMING
  const wait =
    context.waitedMs === undefined
      ? `to wait for this one, ${verb} ${nameOf('wait')} (e.g. ${withValue('wait', '30m')})`
      : `to give it more time, ${verb} a longer ${nameOf('wait')}`
  return `. To judge the newest finished evaluation instead, ${verb} ${withValue('status', 'completed')}; ${wait}`
}

/**
 * Each judged evaluation against its own baseline; the worst drop is named. With a significance,
 * a drop that its row comparison calls within noise is a warning; one that was not compared
 * counts, and the message says why (fail closed).
 */
function passRateDrop(
  broken: BrokenRule[],
  warned: Map<string, string>,
  limit: number | undefined,
  input: RegressionInput
): void {
  if (limit === undefined) return
  const drops = dropsPastLimit(limit, input)
  const counted = countedDrops(drops)
  const noise = drops.filter(
    d => d.significance && !d.significance.significant && d.significance.noise
  )
  const describe = (d: (typeof drops)[number]) => {
    const why = d.significance && !d.significance.significant ? ` (${d.significance.why})` : ''
    return `${d.evaluation.runId} ${formatPercent(d.now)} vs baseline ${d.baseline.runId} ${formatPercent(d.before)}${why}`
  }
  const level =
    input.significance === undefined ? '' : ` at the ${formatPercent(input.significance, 2)} level`
  const worst = counted[0]
  if (worst) {
    const more = counted.length > 1 ? ` (and ${counted.length - 1} more)` : ''
    const closed =
      worst.significance && !worst.significance.significant
        ? '; a drop not compared row by row counts (fail closed)'
        : ''
    const [change, allowed] = figureAndLimit(-worst.drop, -limit, FIGURE.points)
    broken.push({
      rule: 'max-pass-rate-drop',
      message: `pass rate ${change} vs baseline, beyond max-pass-rate-drop ${allowed}${worst.significance?.significant ? `, significant${level}` : ''}: ${describe(worst)}${more}${closed}`
    })
  }
  const first = noise[0]
  if (first) {
    const more = noise.length > 1 ? ` (and ${noise.length - 1} more)` : ''
    const [change, allowed] = figureAndLimit(-first.drop, -limit, FIGURE.points)
    warned.set(
      'max-pass-rate-drop',
      `pass rate ${change} vs baseline, beyond max-pass-rate-drop ${allowed} but within noise${level}: ${describe(first)}${more}; not counted against the gate`
    )
  }
}

function rateRule(
  broken: BrokenRule[],
  rule: 'max-fail-rate' | 'min-pass-rate',
  figure: string,
  rate: number | null,
  limit: number | undefined,
  breaksWhen: '>' | '<'
): void {
  if (limit === undefined) return
  if (rate === null) {
    broken.push(noRuns(rule, figure))
    return
  }
  if (breaksWhen === '>' ? rate > limit : rate < limit) {
    const [shown, allowed] = figureAndLimit(rate, limit, FIGURE.rate)
    broken.push({ rule, message: `${figure} ${shown} ${breaksWhen} ${rule} ${allowed}` })
  }
}

/** A rule that needs runs cannot be met by an evaluation set without any: fail closed. */
function noRuns(rule: string, figure: string): BrokenRule {
  return {
    rule,
    message: `${figure} cannot be computed: the judged evaluations have no runs (${rule})`
  }
}

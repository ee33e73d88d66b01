/**
 * The row-paired comparison of a judged evaluation with its baseline, and the two rules that read
 * it: max-new-failures, and the significance that decides whether a drop breaks the gate. Pure.
 */
import type { Evaluation } from '../adaline/schema.js'
import { formatCount, formatPercent, tidy } from '../format.js'
import { pairRows, type RowComparison, type RowResult } from './pairing.js'
import {
  DEFAULT_SIGNIFICANCE,
  formatPValue,
  regressionVerdict,
  type RegressionVerdict
} from './significance.js'

/** One judged evaluation against its baseline, row by row, or why it was not compared. */
export type Comparison =
  | {
      compared: true
      baselineRunId: string
      rows: RowComparison
      verdict: RegressionVerdict
    }
  | {
      compared: false
      baselineRunId: string
      /** why not, as a sentence without its final full stop: "its rows could not be fetched: …" */
      reason: string
    }

/** Pairs both sides' row results and judges the drop at `significance` (5% when the policy sets none). */
export function compareRows(
  baselineRunId: string,
  baseline: RowResult[],
  judged: RowResult[],
  significance = DEFAULT_SIGNIFICANCE
): Comparison {
  const rows = pairRows(baseline, judged)
  return { compared: true, baselineRunId, rows, verdict: regressionVerdict(rows, significance) }
}

/** A broken rule, or a warning that a rule's breach was within noise, or neither. */
export interface RuleOutcome {
  broken?: string
  warning?: string
}

/** The regression rules' inputs: the judged set, baselines and comparisons by judged run ID. */
export interface RegressionInput {
  judged: readonly Evaluation[]
  baselines?: ReadonlyMap<string, Evaluation>
  comparisons?: ReadonlyMap<string, Comparison>
  /** the policy's significance; undefined: the rules apply as written */
  significance?: number
}

/** Newly failing rows summed over the compared evaluations, and which evaluations were not compared. */
export function newFailureTotals(input: RegressionInput): {
  newlyFailing: number
  newlyPassing: number
  compared: number
  notCompared: { runId: string; reason: string }[]
} {
  let newlyFailing = 0
  let newlyPassing = 0
  let compared = 0
  const notCompared: { runId: string; reason: string }[] = []
  for (const evaluation of input.judged) {
    if (!input.baselines?.has(evaluation.runId)) continue
    const comparison = input.comparisons?.get(evaluation.runId)
    if (!comparison || !comparison.compared) {
      notCompared.push({
        runId: evaluation.runId,
        reason: comparison?.reason ?? 'its rows were not fetched'
      })
      continue
    }
    compared += 1
    newlyFailing += comparison.rows.newlyFailing
    newlyPassing += comparison.rows.newlyPassing
  }
  return { newlyFailing, newlyPassing, compared, notCompared }
}

/**
 * max-new-failures: the newly failing rows summed over the compared evaluations may not pass the
 * limit. With a significance, only the rows of evaluations whose drop is significant count, and a
 * breach made of drops within noise is a warning. An evaluation with a baseline that could not be
 * compared fails the rule closed: its rows might hold any number of new failures.
 */
export function newFailuresRule(limit: number, input: RegressionInput): RuleOutcome {
  const { newlyFailing, notCompared } = newFailureTotals(input)
  if (notCompared.length > 0) {
    const [first] = notCompared
    const more = notCompared.length > 1 ? ` (and ${notCompared.length - 1} more)` : ''
    return {
      broken: `max-new-failures cannot be judged: ${first!.runId} was not compared with its baseline row by row, ${first!.reason}${more}; a rule that needs the comparison fails closed`
    }
  }
  if (newlyFailing <= limit) return {}
  const over = `new failures ${formatCount(newlyFailing)} > max-new-failures ${formatCount(limit)}`
  if (input.significance === undefined) return { broken: over }
  const significant = significantComparisons(input)
  const counted = significant.reduce((sum, { rows }) => sum + rows.newlyFailing, 0)
  const level = formatPercent(input.significance, 2)
  if (counted > limit)
    return {
      broken: `new failures in significant drops ${formatCount(counted)} > max-new-failures ${formatCount(limit)} (p < significance ${level}): ${significant
        .slice(0, 3)
        .map(c => `${c.runId} ${formatPValue(c.verdict.pValue)}`)
        .join(', ')}${significant.length > 3 ? ` and ${significant.length - 3} more` : ''}`
    }
  return {
    warning: `${over}, but within noise at the ${level} level${significant.length > 0 ? ` (only ${formatCount(counted)} in significant drops)` : ''}: the gate holds`
  }
}

/** The compared evaluations whose drop is significant (a regression), with their run IDs. */
export function significantComparisons(
  input: RegressionInput
): (Extract<Comparison, { compared: true }> & { runId: string })[] {
  return input.judged.flatMap(evaluation => {
    const comparison = input.comparisons?.get(evaluation.runId)
    return comparison?.compared && comparison.verdict.kind === 'regression'
      ? [{ ...comparison, runId: evaluation.runId }]
      : []
  })
}

/** Pass runs over all runs; null without runs. */
export function passRateOf(evaluation: Evaluation): number | null {
  const { passRuns, failRuns, unknownRuns } = evaluation.metrics
  const runs = passRuns + failRuns + unknownRuns
  return runs > 0 ? passRuns / runs : null
}

/** A judged evaluation whose pass rate fell further below its baseline's than the limit allows. */
export interface Drop {
  evaluation: Evaluation
  baseline: Evaluation
  now: number
  before: number
  drop: number
  /** with a significance: whether the row comparison calls it a regression, or why it cannot */
  significance?: { significant: true } | { significant: false; why: string; noise: boolean }
}

/**
 * The drops past max-pass-rate-drop, worst first. With a significance, each is marked significant
 * (a regression by its row comparison), within noise, or not compared (then it counts: fail closed).
 */
export function dropsPastLimit(limit: number, input: RegressionInput): Drop[] {
  const { baselines } = input
  if (!baselines) return []
  return input.judged
    .flatMap((evaluation): Drop[] => {
      const baseline = baselines.get(evaluation.runId)
      const now = passRateOf(evaluation)
      const before = baseline ? passRateOf(baseline) : null
      if (!baseline || now === null || before === null) return []
      const drop = tidy(before - now)
      if (drop <= limit) return []
      if (input.significance === undefined) return [{ evaluation, baseline, now, before, drop }]
      const comparison = input.comparisons?.get(evaluation.runId)
      const significance: Drop['significance'] = !comparison?.compared
        ? {
            significant: false,
            noise: false,
            why: `not compared row by row, ${comparison?.reason ?? 'its rows were not fetched'}`
          }
        : comparison.verdict.kind === 'regression'
          ? { significant: true }
          : {
              significant: false,
              noise: true,
              why: `${comparison.verdict.kind}, ${formatPValue(comparison.verdict.pValue)}`
            }
      return [{ evaluation, baseline, now, before, drop, significance }]
    })
    .sort((a, b) => b.drop - a.drop)
}

/**
 * The drops past the limit that count against the gate, worst first: all of them without a
 * significance; with one, the significant ones and those not compared row by row (fail closed),
 * not those within noise.
 */
export function countedDrops(drops: readonly Drop[]): Drop[] {
  return drops.filter(d => !d.significance || d.significance.significant || !d.significance.noise)
}

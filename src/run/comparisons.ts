/**
 * The run's comparison stage: each judged evaluation's row results paired with its baseline's, for
 * max-new-failures, significance and the "What changed since the baseline" report. Rows come
 * through the run's ResultsCache, so those fetched here serve the JUnit report and the failing
 * rows too; pairs are compared as their rows come, and rows no later stage needs whole are let
 * go of then, so that a run at the budget does not hold every row to its end. Never a comparison
 * from partial data: an evaluation whose rows (or whose baseline's) could not all be fetched is
 * "not compared", with the reason, and the rules fail closed on it.
 */
import type { Result } from '../adaline/schema.js'
import { formatCount, plural } from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { pairedRows, rowResultFrom } from '../judge/pairing.js'
import { compareRows, type Comparison } from '../judge/regressions.js'
import type { Policy } from '../judge/policy.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import type { RunContext } from './context.js'
import { RESULTS_CAP, disagreesWithEvaluation, type FetchedResults } from './results-cache.js'
import { shownRows } from './rows.js'

/**
 * The most row results the comparisons of one run fetch, both sides of every pair together: about
 * 1,000 pages of 200. Past it the remaining evaluations are not compared, and the report says so.
 */
export const COMPARISON_ROWS_CAP = 200_000

/** Whether the run compares rows: only when the policy reads the comparison. */
export function comparesRows(policy: Policy): boolean {
  return policy.limits['max-new-failures'] !== undefined || policy.significance !== undefined
}

/** An evaluation's results as its run counts promise them: what planning the row budget reads. */
function expectedRows(item: Listed): number {
  const { passRuns, failRuns, unknownRuns } = item.evaluation.metrics
  return Math.min(RESULTS_CAP, passRuns + failRuns + unknownRuns)
}

/**
 * Each judged evaluation with a baseline, compared row by row, by judged run ID. The rows are
 * planned from the run counts before any request: pairs are taken newest first while the rows of
 * both sides fit under `cap`, the rest are not compared.
 */
export async function comparisonsStage(
  context: RunContext,
  judged: readonly Listed[],
  baselines: ReadonlyMap<string, Listed>,
  cap = COMPARISON_ROWS_CAP
): Promise<Map<string, Comparison>> {
  const { log, settings } = context
  const comparisons = new Map<string, Comparison>()
  const toFetch = new Map<string, Listed>()
  let planned = 0
  let overBudget = false
  const pairs: [Listed, Listed][] = []
  for (const item of judged) {
    const baseline = baselines.get(item.evaluation.runId)
    if (!baseline) continue
    const notCompared = (reason: string) =>
      comparisons.set(item.evaluation.runId, {
        compared: false,
        baselineRunId: baseline.evaluation.runId,
        reason
      })
    if (item.evaluation.status !== 'completed') {
      notCompared(`it is ${item.evaluation.status}, so its rows are not all graded yet`)
      continue
    }
    const added = [item, baseline].filter(side => !toFetch.has(side.evaluation.runId))
    const rows = added.reduce((sum, side) => sum + expectedRows(side), 0)
    if (overBudget || planned + rows > cap) {
      overBudget = true
      notCompared(
        `the run's limit of ${formatCount(cap)} row results fetched for comparisons was reached`
      )
      continue
    }
    planned += rows
    for (const side of added) toFetch.set(side.evaluation.runId, side)
    pairs.push([item, baseline])
  }
  // an evaluation's rows stay whole while a pair still needs them, and after only for the JUnit file
  const pending = new Map<string, number>()
  for (const pair of pairs)
    for (const side of pair)
      pending.set(side.evaluation.runId, (pending.get(side.evaluation.runId) ?? 0) + 1)
  const judgedIds = new Set(judged.map(item => item.evaluation.runId))
  const keepWhole = (runId: string) => settings.junitFile !== undefined && judgedIds.has(runId)
  let requests = 0
  let rows = 0
  // pairs in turn, both sides of each at once: as many rows in flight as the run's bound allows
  const pairsAtOnce = new AdaptiveLimit(Math.max(1, Math.floor(context.limit.limit / 2)))
  const compared = await mapWithin(pairsAtOnce, pairs, async ([item, baseline]) => {
    const answer = await context.results.fetch([item, baseline], RESULTS_CAP)
    requests += answer.requests
    const judgedRows = whole(answer.byRunId.get(item.evaluation.runId), item)
    const baselineRows = whole(answer.byRunId.get(baseline.evaluation.runId), baseline)
    const problem = judgedRows.problem ?? baselineRows.problem
    let comparison: Comparison
    if (problem !== undefined) {
      comparison = { compared: false, baselineRunId: baseline.evaluation.runId, reason: problem }
    } else {
      rows += judgedRows.results!.length + baselineRows.results!.length
      comparison = compareRows(
        baseline.evaluation.runId,
        baselineRows.results!.map(rowResultFrom),
        judgedRows.results!.map(rowResultFrom),
        settings.policy.significance
      )
      // rows that pair with none of the other side's say nothing of a change: no verdict from them
      if (
        comparison.compared &&
        pairedRows(comparison.rows) === 0 &&
        judgedRows.results!.length + baselineRows.results!.length > 0
      )
        comparison = {
          compared: false,
          baselineRunId: baseline.evaluation.runId,
          reason: `no row of ${item.evaluation.runId} pairs with a row of ${baseline.evaluation.runId} (no rowId in common: another dataset?)`
        }
    }
    for (const { evaluation } of [item, baseline]) {
      const left = pending.get(evaluation.runId)! - 1
      pending.set(evaluation.runId, left)
      if (left === 0 && !keepWhole(evaluation.runId))
        context.results.release(evaluation.runId, shownRows)
    }
    return [item.evaluation.runId, comparison] as const
  })
  for (const [runId, comparison] of compared) comparisons.set(runId, comparison)
  const comparedCount = [...comparisons.values()].filter(c => c.compared).length
  const notCompared = comparisons.size - comparedCount
  log.info(
    `Compared ${plural(comparedCount, 'evaluation')} with their baselines row by row: ${plural(rows, 'row result')}, ${plural(requests, 'request')} for the comparison${notCompared > 0 ? `; ${formatCount(notCompared)} not compared` : ''}.`
  )
  for (const [runId, comparison] of comparisons)
    if (!comparison.compared)
      log.warning(
        `${runId} was not compared with its baseline ${comparison.baselineRunId} row by row: ${comparison.reason}.`
      )
  return comparisons
}

/**
 * Every row result of one side, or why the comparison cannot stand on what was fetched: a listing
 * that failed, was cut at the cap, or holds other rows than the evaluation's run counts promise
 * (it ended early, or its grades disagree with the metrics), is partial data.
 */
function whole(
  fetched: FetchedResults | undefined,
  { evaluation }: Listed
): { results?: Result[]; problem?: string } {
  const { runId } = evaluation
  if (!fetched) return { problem: `the rows of ${runId} were not fetched` }
  if (!fetched.ok)
    return {
      problem: `the rows of ${runId} could not be fetched: ${fetched.problem.replace(/\.$/, '')}`
    }
  // more said to follow before the cap was reached: a page longer than asked for was cut there
  if (fetched.leftOut > 0 && fetched.results.length < fetched.cap)
    return {
      problem: `the results listing of ${runId} stopped after ${formatCount(fetched.results.length)} rows though more were said to follow (a page longer than asked for)`
    }
  if (fetched.leftOut > 0)
    return {
      problem: `${runId} has more than ${formatCount(fetched.cap)} row results, the most fetched for one evaluation`
    }
  const disagreement = disagreesWithEvaluation(fetched.results, evaluation)
  if (disagreement !== undefined) return { problem: disagreement }
  return { results: fetched.results }
}

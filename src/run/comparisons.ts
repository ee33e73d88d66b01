/**
 * The run's comparison stage: each judged evaluation's row results paired with its baseline's, for
 * max-new-failures, significance and the "What changed since the baseline" report. Rows come
 * through the run's ResultsCache, so those fetched here serve the JUnit report and the failing
 * rows too. Never a comparison from partial data: an evaluation whose rows (or whose baseline's)
 * could not all be fetched is "not compared", with the reason, and the rules fail closed on it.
 */
import type { Result } from '../adaline/schema.js'
import { formatCount } from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { pairedRows, rowResultFrom } from '../judge/pairing.js'
import { compareRows, type Comparison } from '../judge/regressions.js'
import type { Policy } from '../judge/policy.js'
import type { RunContext } from './context.js'
import { RESULTS_CAP, disagreesWithEvaluation, type FetchedResults } from './results-cache.js'

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
  const { byRunId, requests } =
    pairs.length > 0
      ? await context.results.fetch([...toFetch.values()], RESULTS_CAP)
      : { byRunId: new Map<string, FetchedResults>(), requests: 0 }
  let rows = 0
  for (const [item, baseline] of pairs) {
    const judgedRows = whole(byRunId.get(item.evaluation.runId), item)
    const baselineRows = whole(byRunId.get(baseline.evaluation.runId), baseline)
    const problem = judgedRows.problem ?? baselineRows.problem
    if (problem !== undefined) {
      comparisons.set(item.evaluation.runId, {
        compared: false,
        baselineRunId: baseline.evaluation.runId,
        reason: problem
      })
      continue
    }
    rows += judgedRows.results!.length + baselineRows.results!.length
    const comparison = compareRows(
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
    ) {
      comparisons.set(item.evaluation.runId, {
        compared: false,
        baselineRunId: baseline.evaluation.runId,
        reason: `no row of ${item.evaluation.runId} pairs with a row of ${baseline.evaluation.runId} (no rowId in common: another dataset?)`
      })
      continue
    }
    comparisons.set(item.evaluation.runId, comparison)
  }
  const compared = [...comparisons.values()].filter(c => c.compared).length
  const notCompared = comparisons.size - compared
  log.info(
    `Compared ${formatCount(compared)} evaluation(s) with their baselines row by row: ${formatCount(rows)} row result(s), ${formatCount(requests)} request(s) for the comparison${notCompared > 0 ? `; ${formatCount(notCompared)} not compared` : ''}.`
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

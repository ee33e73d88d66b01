/**
 * The run's results stage, for the JUnit report: every row result of the judged evaluations, kept
 * in the run's ResultsCache for any later purpose. Rows explain a verdict and never decide it, so
 * a failure to fetch them is a warning.
 */
import { formatCount, plural } from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import type { RunContext } from './context.js'
import { RESULTS_CAP, disagreesWithEvaluation, type FetchedResults } from './results-cache.js'

/**
 * Every row result of the judged evaluations, one line on how many requests they took, and a
 * warning for each evaluation whose rows could not be fetched (its JUnit suite then stands on its
 * run counts).
 */
export async function resultsStage(
  context: RunContext,
  judged: readonly Listed[]
): Promise<Map<string, FetchedResults>> {
  const { log } = context
  const { byRunId, requests } = await context.results.fetch(judged)
  const byEvaluation = new Map(judged.map(item => [item.evaluation.runId, item.evaluation]))
  let rows = 0
  let capped = 0
  for (const [runId, fetched] of byRunId) {
    if (!fetched.ok) {
      log.warning(
        `Could not fetch the row results of ${runId}: ${fetched.problem} The JUnit report gives its run counts instead.`
      )
      continue
    }
    rows += fetched.results.length
    if (fetched.leftOut > 0) capped += 1
    // a running evaluation has fewer rows than it will; a finished one should list them all
    const evaluation = byEvaluation.get(runId)
    const disagreement =
      fetched.leftOut === 0 && evaluation?.status === 'completed'
        ? disagreesWithEvaluation(fetched.results, evaluation)
        : undefined
    if (disagreement)
      log.warning(
        `${disagreement[0]!.toUpperCase()}${disagreement.slice(1)}; the JUnit report shows the rows listed.`
      )
  }
  const cut =
    capped > 0
      ? `; ${plural(capped, 'evaluation')} had more than ${formatCount(RESULTS_CAP)}, the rest left out`
      : ''
  // each page is one request; a retry of one is logged on its own line
  log.info(
    `Row results for the JUnit report: ${plural(rows, 'row')} of ${plural(byRunId.size, 'evaluation')} in ${plural(requests, 'request')}${cut}.`
  )
  return byRunId
}

/**
 * The evaluators' titles, so that a report names each evaluation by what it checks rather than by
 * an ID: one listing per prompt of the judged evaluations, read only until every evaluator the
 * report shows is found. Names explain and never decide, so a listing that fails is a warning
 * and the report keeps the IDs.
 */
import { ApiError } from '../adaline/http.js'
import { plural } from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { mapWithin } from './concurrency.js'
import type { RunContext } from './context.js'

/** The run's names stage: evaluator titles by evaluator ID, for the evaluators in the report. */
export async function namesStage(
  context: RunContext,
  judged: readonly Listed[]
): Promise<Map<string, string>> {
  const { client, limit, log } = context
  const wanted = new Map<string, Set<string>>()
  for (const { promptId, evaluation } of judged) {
    const ids = wanted.get(promptId) ?? new Set<string>()
    ids.add(evaluation.evaluatorId)
    wanted.set(promptId, ids)
  }
  const titles = new Map<string, string>()
  if (wanted.size === 0) return titles
  let pages = 0
  let failed = 0
  await mapWithin(limit, [...wanted], async ([promptId, ids]) => {
    try {
      for await (const page of client.listEvaluators(promptId)) {
        pages += 1
        for (const evaluator of page.evaluators)
          if (ids.has(evaluator.id)) titles.set(evaluator.id, evaluator.title)
        if ([...ids].every(id => titles.has(id))) break
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      failed += 1
      log.warning(
        `Could not list the evaluators of prompt ${promptId}; the report names its evaluations by evaluator ID: ${error.message}`
      )
    }
  })
  const evaluators = new Set([...wanted.values()].flatMap(ids => [...ids])).size
  log.info(
    `Evaluator names: ${titles.size} of ${plural(evaluators, 'evaluator')} named from ${plural(pages, 'page')} of evaluators (${plural(wanted.size, 'prompt')}${failed > 0 ? `, ${failed} failed` : ''})`
  )
  return titles
}

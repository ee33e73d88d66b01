/**
 * Starts one evaluation per prompt for this commit. Starting bills, and the API has no idempotency
 * key: a start whose outcome is unknown (the connection dropped, a 5xx) is tried again only after
 * the listing shows no evaluation of the same scope submitted since the attempt.
 */
import type { AdalineClient } from './adaline/client.js'
import { ApiError } from './adaline/http.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import type { Listed } from './select.js'

/** Our clock and the API's may differ: look this much further back for a start that went through. */
export const CLOCK_SKEW_MS = 60_000
const MAX_START_ATTEMPTS = 3

export interface StartScope {
  evaluatorId?: string
  datasetId?: string
}

export interface StartOptions {
  limit: AdaptiveLimit
  log: (message: string) => void
  /** told of each evaluation as soon as it has started, so an abort can cancel it */
  onStarted: (item: Listed) => void
  now?: () => number
}

export async function startEvaluations(
  client: AdalineClient,
  promptIds: string[],
  scope: StartScope,
  options: StartOptions
): Promise<Listed[]> {
  return mapWithin(options.limit, promptIds, async promptId => {
    const item = await startOne(client, promptId, scope, options)
    options.onStarted(item)
    return item
  })
}

async function startOne(
  client: AdalineClient,
  promptId: string,
  scope: StartScope,
  options: StartOptions
): Promise<Listed> {
  const now = options.now ?? Date.now
  for (let attempt = 1; ; attempt += 1) {
    const attemptAt = now()
    try {
      const evaluation = await client.createEvaluation(promptId, scope)
      options.log(
        `Started evaluation ${evaluation.runId} of prompt ${promptId} (evaluator ${evaluation.evaluatorId}).`
      )
      return { promptId, evaluation, raw: evaluation }
    } catch (error) {
      if (!(error instanceof ApiError) || !error.ambiguous) throw error
      options.log(
        `Starting an evaluation of prompt ${promptId} may have failed (${error.message}); checking the listing before trying again.`
      )
      const found = await startedSince(client, promptId, scope, attemptAt - CLOCK_SKEW_MS)
      if (found) {
        options.log(
          `Evaluation ${found.evaluation.runId} was submitted since the attempt: using it rather than starting (and paying for) another.`
        )
        return found
      }
      if (attempt >= MAX_START_ATTEMPTS) {
        throw new ApiError(
          `${error.message} Tried ${attempt} times; no evaluation was started.`,
          error.endpoint,
          error.status,
          error.code
        )
      }
    }
  }
}

/** The newest evaluation of the scope submitted at or after `since`, if the listing shows one. */
async function startedSince(
  client: AdalineClient,
  promptId: string,
  scope: StartScope,
  since: number
): Promise<Listed | undefined> {
  let newest: Listed | undefined
  const filters = {
    evaluatorId: scope.evaluatorId,
    datasetId: scope.datasetId,
    createdAfter: since
  }
  for await (const page of client.listEvaluations(promptId, filters)) {
    for (const { evaluation, raw } of page.items) {
      if (evaluation.timeline.submittedAt < since) continue
      if (!newest || evaluation.timeline.submittedAt > newest.evaluation.timeline.submittedAt) {
        newest = { promptId, evaluation, raw }
      }
    }
  }
  return newest
}

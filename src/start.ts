/**
 * Starts one evaluation per prompt for this commit. Starting bills, and the API has no idempotency
 * key: a start whose outcome is unknown (the connection dropped, a 5xx) is tried again only after
 * the listing shows no evaluation of the same scope that is new since the attempt.
 */
import type { AdalineClient } from './adaline/client.js'
import { ApiError } from './adaline/http.js'
import { BEING_CANCELLED } from './adaline/schema.js'
import { AdaptiveLimit } from './concurrency.js'
import type { Listed } from './select.js'

/**
 * How far before an attempt (by our clock) an evaluation it started may say it was submitted (by
 * the API's). The note taken before the POST, not this window, keeps out what others started
 * earlier, so the window can err wide: it only has to hold our own start when the clocks differ.
 */
export const CLOCK_SKEW_MS = 60_000
const MAX_START_ATTEMPTS = 3

export interface StartScope {
  evaluatorId?: string
  datasetId?: string
}

export interface StartOptions {
  limit: AdaptiveLimit
  log: (message: string) => void
  /**
   * told of each evaluation as soon as it has started, so an abort can cancel it; `adopted` when it
   * was taken from the listing after a lost answer, and so may be another run's
   */
  onStarted: (item: Listed, adopted: boolean) => void
  now?: () => number
}

/**
 * Starts every prompt's evaluation within the bound. When one fails, no further start begins, but
 * those under way are waited for (each told to onStarted), so none that went through is left
 * running unreported; then the first failure is thrown.
 */
export async function startEvaluations(
  client: AdalineClient,
  promptIds: string[],
  scope: StartScope,
  options: StartOptions
): Promise<Listed[]> {
  const failures: unknown[] = []
  const items = await Promise.all(
    promptIds.map(promptId =>
      options.limit.run(async () => {
        if (failures.length > 0) return undefined
        try {
          const { item, adopted } = await startOne(client, promptId, scope, options)
          options.onStarted(item, adopted)
          return item
        } catch (error) {
          failures.push(error)
          return undefined
        }
      })
    )
  )
  if (failures.length > 0) throw failures[0]
  return items.filter(item => item !== undefined)
}

async function startOne(
  client: AdalineClient,
  promptId: string,
  scope: StartScope,
  options: StartOptions
): Promise<{ item: Listed; adopted: boolean }> {
  const now = options.now ?? Date.now
  // What the scope holds before the POST, so that afterwards only a new evaluation can be ours.
  let known = new Set(
    (await listedSince(client, promptId, scope, now() - CLOCK_SKEW_MS)).map(
      item => item.evaluation.runId
    )
  )
  for (let attempt = 1; ; attempt += 1) {
    const attemptAt = now()
    try {
      const evaluation = await client.createEvaluation(promptId, scope)
      options.log(
        `Started evaluation ${evaluation.runId} of prompt ${promptId} (evaluator ${evaluation.evaluatorId}).`
      )
      return { item: { promptId, evaluation, raw: evaluation }, adopted: false }
    } catch (error) {
      if (!(error instanceof ApiError) || !error.ambiguous) throw error
      const failedAt = now()
      options.log(
        `Starting an evaluation of prompt ${promptId} may have failed (${error.message}); checking the listing before trying again.`
      )
      const listed = await listedSince(client, promptId, scope, attemptAt - CLOCK_SKEW_MS)
      const found = startedByAttempt(listed, known, attemptAt, failedAt)
      if (found) {
        options.log(
          `Evaluation ${found.evaluation.runId} is new since the attempt: using it rather than starting (and paying for) another.`
        )
        return { item: found, adopted: true }
      }
      // what is listed now and was not taken is not this attempt's: none of it for the next one
      known = new Set([...known, ...listed.map(item => item.evaluation.runId)])
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

/**
 * The evaluation an attempt from `attemptAt` to `failedAt` may have started: not among those
 * `known` before it, submitted during the attempt (give or take the clock skew), and not being
 * cancelled. Of several, the one submitted nearest the attempt. Pure.
 */
export function startedByAttempt(
  listed: readonly Listed[],
  known: ReadonlySet<string>,
  attemptAt: number,
  failedAt: number
): Listed | undefined {
  const distance = (item: Listed) => Math.abs(item.evaluation.timeline.submittedAt - attemptAt)
  return listed
    .filter(
      ({ evaluation }) =>
        !known.has(evaluation.runId) &&
        evaluation.timeline.submittedAt >= attemptAt - CLOCK_SKEW_MS &&
        evaluation.timeline.submittedAt <= failedAt + CLOCK_SKEW_MS &&
        // one already being cancelled is someone else's decision, never the start we lost
        !BEING_CANCELLED.includes(evaluation.status)
    )
    .sort((a, b) => distance(a) - distance(b))[0]
}

/** The scope's evaluations submitted at or after `since`, as the listing shows them. */
async function listedSince(
  client: AdalineClient,
  promptId: string,
  scope: StartScope,
  since: number
): Promise<Listed[]> {
  const listed: Listed[] = []
  const filters = {
    evaluatorId: scope.evaluatorId,
    datasetId: scope.datasetId,
    createdAfter: since
  }
  for await (const page of client.listEvaluations(promptId, filters)) {
    for (const { evaluation, raw } of page.items) {
      if (evaluation.timeline.submittedAt >= since) listed.push({ promptId, evaluation, raw })
    }
  }
  return listed
}

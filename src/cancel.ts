/**
 * Cancels the superseded evaluations, concurrently within the bound. One refused cancel (the
 * evaluation finished meanwhile: 409) is a warning, not a failure, and does not stop the others.
 * A refused cancel of an evaluation that is already cancelling counts as cancelled: that is what a
 * retried cancel whose first answer was lost on the way back hears.
 */
import type { AdalineClient } from './adaline/client.js'
import { ApiError } from './adaline/http.js'
import { BEING_CANCELLED, type EvaluationStatus } from './adaline/schema.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import { formatTime } from './report/format.js'
import type { Listed } from './select.js'

export interface CancelOutcome {
  /** run IDs whose cancel was accepted (with dry-run: that would be cancelled) */
  cancelled: string[]
  /** cancels the API refused or that failed */
  failed: { runId: string; promptId: string; message: string }[]
}

export interface CancelOptions {
  dryRun: boolean
  limit: AdaptiveLimit
  log: (message: string) => void
  warn: (message: string) => void
}

export async function cancelSuperseded(
  client: AdalineClient,
  superseded: Listed[],
  options: CancelOptions
): Promise<CancelOutcome> {
  const outcome: CancelOutcome = { cancelled: [], failed: [] }
  const describe = ({ evaluation: e }: Listed) =>
    `${e.runId} (${e.status}, ${e.progress.percent}% done, submitted ${formatTime(e.timeline.submittedAt)})`
  if (options.dryRun) {
    for (const item of superseded) {
      options.log(`dry-run: would cancel ${describe(item)}`)
      outcome.cancelled.push(item.evaluation.runId)
    }
    return outcome
  }
  const results = await mapWithin(options.limit, superseded, async item => {
    const { runId } = item.evaluation
    try {
      const after = await client.cancelEvaluation(item.promptId, runId)
      options.log(`cancelled ${describe(item)}: now ${after.status}`)
      return { ok: true as const, runId }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      const status = await cancelledAlready(client, item, error)
      if (status) {
        options.log(`cancelled ${describe(item)}: already ${status} (${error.message})`)
        return { ok: true as const, runId }
      }
      const message = error.message
      options.warn(`Could not cancel superseded evaluation ${runId}: ${message}`)
      return { ok: false as const, runId, promptId: item.promptId, message }
    }
  })
  for (const result of results) {
    if (result.ok) outcome.cancelled.push(result.runId)
    else
      outcome.failed.push({
        runId: result.runId,
        promptId: result.promptId,
        message: result.message
      })
  }
  return outcome
}

/** After a refused cancel (4xx), the evaluation's status if it is cancelling or cancelled. */
async function cancelledAlready(
  client: AdalineClient,
  item: Listed,
  refusal: ApiError
): Promise<EvaluationStatus | undefined> {
  // a rate-limited or timed-out cancel changed nothing: only a refusal is worth a look
  const { status } = refusal
  if (status === undefined || status < 400 || status >= 500 || status === 429 || status === 408)
    return
  try {
    const now = await client.getEvaluation(item.promptId, item.evaluation.runId)
    return BEING_CANCELLED.includes(now.status) ? now.status : undefined
  } catch (error) {
    if (error instanceof ApiError) return undefined // the refusal is what the run reports
    throw error
  }
}

/**
 * Cancels the superseded evaluations, concurrently within the bound, and tells apart what became
 * of each: accepted (answered "cancelling", as Adaline documents; an answer with another status is
 * read as that status says, and read back when it says the evaluation still runs); refused because
 * it had finished meanwhile (a warning, nothing left to stop);
 * refused because someone already cancels it (counts as cancelled: that is also what a retried
 * cancel whose first answer was lost hears); or not delivered (a 429 or 5xx given up on, the
 * network, a timeout, or a refusal after which it still runs), which the faces fail the run for.
 */
import type { AdalineClient } from '../adaline/client.js'
import { ApiError } from '../adaline/http.js'
import { BEING_CANCELLED, IN_FLIGHT, type EvaluationStatus } from '../adaline/schema.js'
import { formatTime, plural } from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import type { RunContext } from './context.js'

export interface CancelOutcome {
  /** run IDs whose cancel was accepted, or that were being cancelled already (dry-run: would be) */
  cancelled: string[]
  /** refused because the evaluation had completed or failed meanwhile: nothing runs */
  finished: { runId: string; promptId: string; status: EvaluationStatus; message: string }[]
  /** not delivered: the evaluation may still be running and billing */
  failed: { runId: string; promptId: string; message: string }[]
}

export interface CancelOptions {
  dryRun: boolean
  limit: AdaptiveLimit
  log: (message: string) => void
  warn: (message: string) => void
}

/** What one cancel that was not accepted came to, from the evaluation's status read back. */
export type CancelFate = 'cancelled' | 'finished' | 'failed'

/**
 * The fate of a cancel that was not accepted, given the status read back after it (undefined:
 * not read, or the read failed). Only a status that shows the evaluation no longer runs clears
 * it. Pure.
 */
export function cancelFate(statusNow: EvaluationStatus | undefined): CancelFate {
  if (statusNow !== undefined && BEING_CANCELLED.includes(statusNow)) return 'cancelled'
  if (statusNow !== undefined && !IN_FLIGHT.includes(statusNow)) return 'finished'
  return 'failed'
}

/**
 * Whether a failed cancel is worth reading back: only a refusal (4xx) may be about an evaluation
 * that finished or is being cancelled; a rate-limited (429) or timed-out (408) one changed nothing,
 * and a 5xx or a network failure given up on is not delivered whatever the status. Pure.
 */
export function isRefusal(status: number | undefined): boolean {
  return status !== undefined && status >= 400 && status < 500 && status !== 429 && status !== 408
}

/** The run's cancel stage: the superseded evaluations cancelled (dry-run: named), in one group of the log. */
export function cancelStage(context: RunContext, superseded: Listed[]): Promise<CancelOutcome> {
  const { settings, client, limit, log } = context
  return log.group(
    `Cancelling ${plural(superseded.length, 'superseded evaluation')}${settings.dryRun ? ' (dry-run)' : ''}`,
    () =>
      cancelSuperseded(client, superseded, {
        dryRun: settings.dryRun,
        limit,
        log: log.info,
        warn: log.warning
      })
  )
}

export async function cancelSuperseded(
  client: AdalineClient,
  superseded: Listed[],
  options: CancelOptions
): Promise<CancelOutcome> {
  const outcome: CancelOutcome = { cancelled: [], finished: [], failed: [] }
  const describe = ({ evaluation: e }: Listed) =>
    `${e.runId} (${e.status}, ${e.progress.percent}% done, submitted ${formatTime(e.timeline.submittedAt)})`
  if (options.dryRun) {
    for (const item of superseded) {
      options.log(`dry-run: would cancel ${describe(item)}`)
      outcome.cancelled.push(item.evaluation.runId)
    }
    return outcome
  }
  await mapWithin(options.limit, superseded, async item => {
    const { runId } = item.evaluation
    const { promptId } = item
    let error: ApiError
    let read: EvaluationStatus | ApiError | undefined
    try {
      const after = await client.cancelEvaluation(promptId, runId)
      // Adaline answers an accepted cancel with the evaluation "cancelling": any other status
      // says it was not cancelled (it had finished, or it still runs)
      if (BEING_CANCELLED.includes(after.status)) {
        options.log(`cancelled ${describe(item)}: now ${after.status}`)
        outcome.cancelled.push(runId)
        return
      }
      const endpoint = `POST /prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}/cancel`
      error = new ApiError(
        `${endpoint} answered with the evaluation ${after.status}, not cancelling.`,
        endpoint
      )
      read = IN_FLIGHT.includes(after.status) ? await readBack(client, item) : after.status
    } catch (thrown) {
      if (!(thrown instanceof ApiError)) throw thrown
      error = thrown
      read = isRefusal(error.status) ? await readBack(client, item) : undefined
    }
    const status = typeof read === 'string' ? read : undefined
    const fate = cancelFate(status)
    if (fate === 'cancelled') {
      options.log(`cancelled ${describe(item)}: already ${status} (${error.message})`)
      outcome.cancelled.push(runId)
    } else if (fate === 'finished') {
      options.warn(
        `Superseded evaluation ${runId} had already ${status} when its cancel arrived: ${error.message}`
      )
      outcome.finished.push({ runId, promptId, status: status!, message: error.message })
    } else {
      // what matters first: that it still runs, when the read back says so
      const message =
        status !== undefined
          ? `still ${status} after: ${error.message}`
          : read instanceof ApiError
            ? `${error.message} Reading it back failed too: ${read.message}`
            : error.message
      options.warn(`Could not cancel superseded evaluation ${runId}: ${message}`)
      outcome.failed.push({ runId, promptId, message })
    }
  })
  // in the order given, whatever order the answers came in
  const order = new Map(superseded.map((item, index) => [item.evaluation.runId, index]))
  const byOrder = (a: string, b: string) => order.get(a)! - order.get(b)!
  outcome.cancelled.sort(byOrder)
  outcome.finished.sort((a, b) => byOrder(a.runId, b.runId))
  outcome.failed.sort((a, b) => byOrder(a.runId, b.runId))
  return outcome
}

/** After a refused (or unaccepted) cancel, the evaluation's status now, or the error that kept us from knowing. */
async function readBack(client: AdalineClient, item: Listed): Promise<EvaluationStatus | ApiError> {
  try {
    return (await client.getEvaluation(item.promptId, item.evaluation.runId)).status
  } catch (error) {
    if (error instanceof ApiError) return error
    throw error
  }
}

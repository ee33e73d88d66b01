/**
 * Waits for the evaluations to be judged until each is terminal or the time is up, polling with
 * backoff and jitter within a request budget shared by all of them, and logs a progress line
 * whenever one moves. A poll that fails for a reason that may pass (the network, a 5xx, a 429
 * after the transport's retries) counts as no movement: a burst of errors must not throw away
 * evaluations that are running and billed.
 */
import type { AdalineClient } from '../adaline/client.js'
import { monotonicNow } from '../adaline/clock.js'
import { ApiError } from '../adaline/http.js'
import type { Evaluation, EvaluationStatus } from '../adaline/schema.js'
import { formatCount, formatDuration, formatPercent, plural } from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import type { Log, RunContext } from './context.js'

export const TERMINAL: readonly EvaluationStatus[] = ['completed', 'failed', 'cancelled']
const POLL_MIN_MS = 2_000
const POLL_MAX_MS = 30_000
/** A poll near the end of the wait still gets this long, so the last look is a real one. */
const MIN_POLL_MS = 10_000
/**
 * All the polls of a wait together stay under this many a minute (on average; jitter is ±20 %).
 * Adaline's rate limit is per workspace and may be as low as 100 a minute, shared with listings,
 * cancels and other runs, so the interval grows with the number of evaluations polled.
 */
export const POLLS_PER_MINUTE = 60
/** Each 429 during the wait doubles the interval's floor for the rest of it, up to this factor. */
const MAX_SLOWDOWN = 8

export interface WaitOptions {
  timeoutMs: number
  /** the run's bound on requests in flight; its halvings tell of 429s the transport retried */
  limit: AdaptiveLimit
  log: (message: string) => void
  /** told of a poll round that failed in part, the wait going on */
  warn: (message: string) => void
  /** told of each evaluation as polled, so an abort cancels only what still runs */
  onSeen?: (item: Listed) => void
  /**
   * the least time a poll may take, retries included, however little of the wait is left; a poll
   * otherwise ends with the wait (default 10 s), not at the transport's 300 s deadline
   */
  minPollMs?: number
  /** the clock the wait is timed on: monotonic, so a wall clock set a day on ends no wait at once */
  now?: () => number
  sleep?: (ms: number) => Promise<void>
  random?: () => number
}

export interface WaitOutcome {
  /** the same evaluations, as last seen */
  items: Listed[]
  /** how long the wait took */
  waitedMs: number
  /** run IDs still not terminal when the time was up */
  timedOut: string[]
  /** each waited-for evaluation's progress lines, by run ID, in the order they were logged */
  progress: Map<string, string[]>
}

/**
 * The least time between poll rounds: 2 s, or more when `polled` evaluations would otherwise
 * exceed the budget, times the slowdown 429s brought.
 */
export function pollFloorMs(polled: number, slowdown = 1): number {
  return Math.max(POLL_MIN_MS, (polled * 60_000) / POLLS_PER_MINUTE) * slowdown
}

/**
 * The run's wait stage: the judged evaluations waited for, up to `waitMs`, in one group of the log;
 * `onSeen` is told of each as polled.
 */
export async function waitStage(
  context: RunContext,
  judged: Listed[],
  waitMs: number,
  onSeen: (item: Listed) => void
): Promise<WaitOutcome> {
  const { client, limit, log } = context
  const pending = judged.filter(item => !TERMINAL.includes(item.evaluation.status)).length
  const wait = await log.group(
    `Waiting up to ${formatDuration(waitMs)} for ${plural(pending, 'evaluation')} to finish`,
    () =>
      waitUntilTerminal(client, judged, {
        timeoutMs: waitMs,
        limit,
        log: log.info,
        warn: log.warning,
        onSeen
      })
  )
  if (!log.flat) await progressGroups(log, wait)
  return wait
}

/**
 * The live progress lines interleave every evaluation, and groups cannot nest: once the wait is
 * over, each evaluation's lines again, in a group of its own.
 */
async function progressGroups(log: Log, wait: WaitOutcome): Promise<void> {
  for (const item of wait.items) {
    const lines = wait.progress.get(item.evaluation.runId)
    if (!lines) continue
    const { runId, status } = item.evaluation
    await log.group(`Progress of ${runId} (prompt ${item.promptId}): ${status}`, async () =>
      lines.forEach(line => log.info(line))
    )
  }
}

export async function waitUntilTerminal(
  client: AdalineClient,
  items: Listed[],
  options: WaitOptions
): Promise<WaitOutcome> {
  const now = options.now ?? monotonicNow
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)))
  const random = options.random ?? Math.random
  const started = now()
  const latest = new Map(items.map(item => [item.evaluation.runId, item]))
  const progress = new Map<string, string[]>()
  const logProgress = (evaluation: Evaluation) => {
    const line = progressLine(evaluation, now() - started)
    const lines = progress.get(evaluation.runId)
    if (lines) lines.push(line)
    else progress.set(evaluation.runId, [line])
    options.log(line)
  }
  let pending = items.filter(item => !TERMINAL.includes(item.evaluation.status))
  for (const item of pending) logProgress(item.evaluation)

  let slowdown = 1
  let delay = pollFloorMs(pending.length)
  while (pending.length > 0) {
    const remaining = options.timeoutMs - (now() - started)
    if (remaining <= 0) break
    // ±20 % jitter keeps many runners from polling in step
    await sleep(Math.min(remaining, delay * (0.8 + 0.4 * random())))
    const halvingsBefore = options.limit.halvings
    const polled = await mapWithin(options.limit, pending, async item => {
      try {
        const left = options.timeoutMs - (now() - started)
        const evaluation = await client.getEvaluation(
          item.promptId,
          item.evaluation.runId,
          Math.max(left, options.minPollMs ?? MIN_POLL_MS)
        )
        return { before: item.evaluation, item: { ...item, evaluation } }
      } catch (error) {
        if (!(error instanceof ApiError) || !mayPass(error)) throw error
        return { before: item.evaluation, item, failure: error }
      }
    })
    let moved = false
    const failures: ApiError[] = []
    for (const { before, item, failure } of polled) {
      if (failure) {
        failures.push(failure)
        continue
      }
      latest.set(item.evaluation.runId, item)
      options.onSeen?.(item)
      if (hasMoved(before, item.evaluation)) {
        moved = true
        logProgress(item.evaluation)
      }
    }
    pending = polled.map(p => p.item).filter(item => !TERMINAL.includes(item.evaluation.status))
    const throttled =
      options.limit.halvings > halvingsBefore || failures.some(error => error.status === 429)
    if (throttled) slowdown = Math.min(MAX_SLOWDOWN, slowdown * 2)
    const floor = pollFloorMs(pending.length, slowdown)
    const ceiling = Math.max(POLL_MAX_MS, floor)
    if (failures.length > 0 || throttled) {
      // the API is struggling or asked us to slow down: back off faster than after a quiet poll
      delay = Math.min(ceiling, Math.max(floor, delay * 2))
    } else {
      delay = moved ? floor : Math.min(ceiling, Math.max(floor, delay * 1.5))
    }
    if (failures.length > 0) {
      options.warn(
        `Could not poll ${formatCount(failures.length)} of ${plural(polled.length, 'evaluation')} (${failures[0]!.message}); still waiting, next poll in about ${formatDuration(delay)}.`
      )
    }
  }
  return {
    items: items.map(item => latest.get(item.evaluation.runId) ?? item),
    waitedMs: now() - started,
    timedOut: pending.map(item => item.evaluation.runId),
    progress
  }
}

/**
 * Whether a failed poll may succeed later, as the transport judged it: retries ran out on a
 * retryable failure. A 401, 403, 404, or a certificate or DNS error will not pass by waiting.
 */
function mayPass(error: ApiError): boolean {
  return error.transient
}

function hasMoved(before: Evaluation, after: Evaluation): boolean {
  return (
    before.status !== after.status ||
    before.progress.completedRows !== after.progress.completedRows ||
    before.progress.failedRows !== after.progress.failedRows ||
    before.progress.percent !== after.progress.percent
  )
}

/** "run_1 [██████░░░░░░░░░░░░░░] 30% 12/40 rows, 1 failed · running · 1.2 min" */
export function progressLine(evaluation: Evaluation, elapsedMs: number): string {
  const { percent, completedRows, totalRows, failedRows } = evaluation.progress
  const filled = Math.round((Math.min(100, Math.max(0, percent)) / 100) * 20)
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(20 - filled)}]`
  const failed = failedRows > 0 ? `, ${failedRows} failed` : ''
  return `${evaluation.runId} ${bar} ${formatPercent(percent / 100, 0)} ${completedRows}/${totalRows} rows${failed} · ${evaluation.status} · ${formatDuration(elapsedMs)}`
}

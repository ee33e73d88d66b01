/**
 * Stopping a run from outside, for both faces: the runner stops a cancelled step with SIGINT, then
 * SIGTERM about 7.5 s later and then kills it; GitLab and Jenkins send SIGTERM; a developer presses
 * Ctrl-C. On the first signal no new start begins; a start under way (its POST, or the listing that
 * checks a lost answer) is waited for, so that what it created is known; then what this run started
 * is cancelled (with cancel-on-abort), and the face is told, in a sentence, what was cancelled, what
 * was left running, and which starts' outcomes are unknown. The whole takes at most
 * START_SETTLE_MS + ABORT_GRACE_MS, well before the runner's SIGTERM.
 */
import type { CancelOutcome } from './cancel.js'
import type { TransportTimings } from './context.js'
import { describeUnconfirmed, describeUnderWay } from './start.js'
import type { StartsSoFar } from './started.js'
import { plural } from '../format.js'

/** How long an abort waits for the starts under way to have an outcome. */
export const START_SETTLE_MS = 2_500
/** How long cancelling what this run started may take once the starts have settled. */
export const ABORT_GRACE_MS = 4_000

/**
 * The transport of the cancels sent on abort. They must land within ABORT_GRACE_MS whatever the
 * run's polls meet, so they get one quick retry at most and never wait out a long Retry-After.
 * Each request (the cancel, and the read of a refused one) ends within 40% of the grace: 3.2 s
 * for both of a 4 s grace, with room to spare for reporting. They skip the rate governor's queue:
 * they are few (one per evaluation this run started) and urgent, and a turn behind a run slowed
 * by 429s, or held until a reset, could come after the grace.
 */
export const ABORT_TRANSPORT: TransportTimings = {
  timeoutMs: 1_500,
  maxAttempts: 2,
  baseDelayMs: 250,
  deadlineMs: ABORT_GRACE_MS * 0.4
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
export type StopSignal = (typeof SIGNALS)[number]

/** What an abort needs of the run it stops (the engine provides it; abort never imports the engine). */
export interface Abortable {
  /** Lets no new start begin, and resolves once every start under way has an outcome. */
  settleStarts(): Promise<void>
  /** Cancels `cancellable` (the abort's own transport, within its grace). */
  cancelStarted(): Promise<CancelOutcome>
  starts(): StartsSoFar
}

export interface AbortOptions {
  /** the run to stop; undefined: nothing started yet */
  run: () => Abortable | undefined
  /** whether to cancel what the run started (cancel-on-abort) */
  cancel: () => boolean
  /** told once, with a sentence on what became of the run's starts ('' if nothing to say) */
  stopped: (signal: StopSignal, account: string) => void
  /** how the account names cancel-on-abort: the face's naming (`--cancel-on-abort`); the input's if not given */
  nameOf?: (input: string) => string
  settleMs?: number
  graceMs?: number
}

export interface AbortWatch {
  /** whether a signal came: the run's own ending is then the abort's to report */
  readonly signalled: boolean
  /** Stops listening, unless a signal came (a second one is then still ignored). */
  stopListening(): void
}

/** Listens for SIGINT and SIGTERM until stopListening is called. */
export function onAbort(options: AbortOptions): AbortWatch {
  let signalled = false
  const listener = (signal: StopSignal) => {
    if (signalled) return
    signalled = true
    void stop(options)
      // whatever went wrong, the face still ends the run and says it was stopped
      .catch(
        (error: unknown) =>
          `What became of the run's starts is not known: ${asError(error).message}.`
      )
      .then(account => options.stopped(signal, account))
  }
  for (const signal of SIGNALS) process.on(signal, listener)
  return {
    get signalled() {
      return signalled
    },
    stopListening() {
      if (signalled) return
      for (const signal of SIGNALS) process.off(signal, listener)
    }
  }
}

type Cancels = CancelOutcome | 'off' | 'late' | Error

async function stop(options: AbortOptions): Promise<string> {
  const run = options.run()
  if (!run) return ''
  await within(
    run.settleStarts().catch(() => undefined),
    options.settleMs ?? START_SETTLE_MS
  )
  let cancels: Cancels = 'off'
  if (options.cancel() && run.starts().cancellable.length > 0) {
    cancels =
      (await within(
        run.cancelStarted().catch((error: unknown) => asError(error)),
        options.graceMs ?? ABORT_GRACE_MS
      )) ?? 'late'
  }
  return describeAbort(run.starts(), cancels, options.nameOf)
}

/** The promise's value, or undefined when it is not there within `ms`. The timer keeps the process up. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>(resolve => (timer = setTimeout(() => resolve(undefined), ms)))
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}

/**
 * The sentences on what an abort did with the run's starts: cancelled, left running and why,
 * and starts whose outcome is unknown. Every evaluation that may be running is named. Pure.
 */
export function describeAbort(
  starts: StartsSoFar,
  cancels: Cancels,
  nameOf: (input: string) => string = input => input
): string {
  const parts: string[] = []
  const accepted = typeof cancels === 'object' && !(cancels instanceof Error) ? cancels : undefined
  const cancelled = new Set(accepted?.cancelled ?? [])
  const finished = new Set(accepted?.finished.map(f => f.runId) ?? [])
  if (cancelled.size > 0)
    parts.push(
      `Cancelled ${plural(cancelled.size, 'evaluation')} this run started: ${[...cancelled].join(', ')}.`
    )
  const left = starts.cancellable.filter(id => !cancelled.has(id) && !finished.has(id))
  if (left.length > 0) {
    if (cancels === 'off')
      parts.push(`Left running (${nameOf('cancel-on-abort')} is false): ${left.join(', ')}.`)
    else if (cancels === 'late')
      parts.push(`Cancelling did not finish in time; these may still run: ${left.join(', ')}.`)
    else if (cancels instanceof Error)
      parts.push(`Cancelling failed (${cancels.message}); these may still run: ${left.join(', ')}.`)
    else {
      const failed = new Map(accepted?.failed.map(f => [f.runId, f.message]))
      for (const runId of left)
        parts.push(
          failed.has(runId)
            ? `Could not cancel ${runId}, which may still run: ${failed.get(runId)}`
            : `Not cancelled, as its start was answered only while cancelling: ${runId}.`
        )
    }
  }
  if (starts.adopted.length > 0)
    parts.push(
      `Not cancelled, as taken from the listing after a lost answer (it may be another run's): ${starts.adopted.join(', ')}.`
    )
  for (const start of starts.underWay) parts.push(describeUnderWay(start))
  for (const start of starts.unconfirmed) parts.push(describeUnconfirmed(start))
  return parts.join(' ')
}

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
import {
  describeUnconfirmed,
  describeUnderWay,
  type StartUnderWay,
  type UnconfirmedStart
} from './start.js'

/** How long an abort waits for the starts under way to have an outcome. */
export const START_SETTLE_MS = 2_500
/** How long cancelling what this run started may take once the starts have settled. */
export const ABORT_GRACE_MS = 4_000

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
export type StopSignal = (typeof SIGNALS)[number]

/** What this run's starts came to so far, as an abort names them. */
export interface StartsSoFar {
  /** run IDs this run started (adopted ones included), for the `started` output */
  started: string[]
  /** of them, those taken from the listing after a lost answer: perhaps another run's, never cancelled */
  adopted: string[]
  /** of them, those queued or running when last seen, that an abort may cancel */
  cancellable: string[]
  /** starts whose POST or check has not ended */
  underWay: StartUnderWay[]
  /** starts that may have created an evaluation nobody found */
  unconfirmed: UnconfirmedStart[]
}

/** What an abort needs of the run it stops (the engine provides it; abort never imports it). */
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
  return describeAbort(run.starts(), cancels)
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
 * The sentence(s) on what an abort did with the run's starts: cancelled, left running and why,
 * and starts whose outcome is unknown. Every evaluation that may be running is named. Pure.
 */
export function describeAbort(starts: StartsSoFar, cancels: Cancels): string {
  const parts: string[] = []
  const accepted = typeof cancels === 'object' && !(cancels instanceof Error) ? cancels : undefined
  const cancelled = new Set(accepted?.cancelled ?? [])
  const finished = new Set(accepted?.finished.map(f => f.runId) ?? [])
  if (cancelled.size > 0)
    parts.push(`Cancelled the evaluation(s) this run started: ${[...cancelled].join(', ')}.`)
  const left = starts.cancellable.filter(id => !cancelled.has(id) && !finished.has(id))
  if (left.length > 0) {
    if (cancels === 'off')
      parts.push(`Left running (cancel-on-abort is false): ${left.join(', ')}.`)
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

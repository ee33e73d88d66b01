/**
 * Stopping a run from outside, for both faces: the runner stops a cancelled step with SIGINT, then
 * SIGTERM about 7.5 s later; GitLab and Jenkins send SIGTERM; a developer presses Ctrl-C. On the
 * first of them the evaluations this run started are cancelled (when there is an engine to ask),
 * within a grace that ends well before the runner's SIGTERM, and the face is told how it went.
 */
import type { Engine } from './engine.js'

/** How long cancelling what this run started may take once a signal came. */
export const ABORT_GRACE_MS = 4_000

const SIGNALS = ['SIGINT', 'SIGTERM'] as const
export type StopSignal = (typeof SIGNALS)[number]

export interface AbortOptions {
  /** the engine whose started evaluations to cancel; undefined: cancel nothing */
  engine: () => Engine | undefined
  /** told once, after the cancels or the grace, with a sentence on what became of them ('' if none) */
  stopped: (signal: StopSignal, cancels: string) => void
  graceMs?: number
}

/** Listens for SIGINT and SIGTERM until the returned function is called. */
export function onAbort(options: AbortOptions): () => void {
  let stopping = false
  const listener = (signal: StopSignal) => {
    if (stopping) return
    stopping = true
    const engine = options.engine()
    const cancelling = engine ? engine.cancelStarted() : Promise.resolve([])
    const grace = new Promise<'late'>(resolve =>
      setTimeout(() => resolve('late'), options.graceMs ?? ABORT_GRACE_MS).unref()
    )
    void Promise.race([cancelling, grace])
      .catch((error: Error) => `failed: ${error.message}`)
      .then(outcome => options.stopped(signal, describe(outcome)))
  }
  for (const signal of SIGNALS) process.on(signal, listener)
  return () => {
    for (const signal of SIGNALS) process.off(signal, listener)
  }
}

function describe(outcome: string[] | 'late' | string): string {
  if (Array.isArray(outcome)) {
    return outcome.length > 0
      ? `Cancelled the evaluation(s) this run started: ${outcome.join(', ')}.`
      : ''
  }
  return `Cancelling the evaluations this run started ${outcome === 'late' ? 'did not finish in time' : outcome}.`
}

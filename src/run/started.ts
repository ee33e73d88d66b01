/**
 * What this run started: each evaluation by run ID as last seen, those taken from the listing
 * after a lost answer, the starts still under way or never confirmed (the ledger), and the cancels
 * of the run's own evaluations after an error or on abort.
 */
import type { AdalineClient } from '../adaline/client.js'
import { IN_FLIGHT } from '../adaline/schema.js'
import type { Listed } from '../judge/judged-set.js'
import { cancelSuperseded, type CancelOutcome } from './cancel.js'
import { AdaptiveLimit } from './concurrency.js'
import type { RunContext } from './context.js'

export interface StartScope {
  evaluatorId?: string
  datasetId?: string
}

/** A start whose POST, or the listing that checks a lost answer, has not ended yet. */
export interface StartUnderWay {
  promptId: string
  scope: StartScope
  /** Unix ms (our clock) when its first POST began */
  since: number
  phase: 'posting' | 'checking'
}

/** A start that may have created (and billed) an evaluation nobody has found. */
export interface UnconfirmedStart {
  promptId: string
  scope: StartScope
  /** Unix ms (our clock) when each attempt whose outcome is unknown began */
  attempts: number[]
  /** why it is not known: the check failed (with its error), or it showed none */
  reason: string
}

/**
 * What the starts of one run are doing, shared by the starts, the engine and an abort: which are
 * under way, which could not be confirmed, and whether new POSTs may still begin.
 */
export class StartLedger {
  private stopped = false
  private readonly underWayByPrompt = new Map<string, StartUnderWay>()
  private readonly unconfirmedStarts: UnconfirmedStart[] = []

  /** No POST begins after this (a start failed, or a signal came); checks still run. */
  halt(): void {
    this.stopped = true
  }

  get halted(): boolean {
    return this.stopped
  }

  underWay(): StartUnderWay[] {
    return [...this.underWayByPrompt.values()]
  }

  unconfirmed(): UnconfirmedStart[] {
    return [...this.unconfirmedStarts]
  }

  /** @internal the start of `promptId` is now in `phase`, or has an outcome (undefined) */
  mark(promptId: string, scope: StartScope, phase?: StartUnderWay['phase'], at?: number): void {
    if (!phase) {
      this.underWayByPrompt.delete(promptId)
      return
    }
    const since = this.underWayByPrompt.get(promptId)?.since ?? at ?? Date.now()
    this.underWayByPrompt.set(promptId, { promptId, scope, since, phase })
  }

  /** @internal */
  addUnconfirmed(start: UnconfirmedStart): void {
    this.unconfirmedStarts.push(start)
  }
}

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

/** The evaluations this run started, shared by the start and wait stages, the engine and an abort. */
export class OwnStarts {
  /** what this run started, by run ID, as last seen */
  private readonly started = new Map<string, Listed>()
  /** started evaluations taken from the listing after a lost answer: perhaps another run's */
  private readonly adopted = new Set<string>()
  /** the starts, once begun, whatever they come to: an abort waits for them */
  private starting: Promise<unknown> | undefined
  /** a signal came: the abort cancels and reports, not the run's own error path */
  private aborting = false
  readonly ledger = new StartLedger()

  constructor(private readonly context: RunContext) {}

  /** One evaluation this run started; `adopted` when taken from the listing after a lost answer. */
  record(item: Listed, adopted: boolean): void {
    this.started.set(item.evaluation.runId, item)
    if (adopted) this.adopted.add(item.evaluation.runId)
  }

  has(runId: string): boolean {
    return this.started.has(runId)
  }

  /** An evaluation as seen again (polled): kept if this run started it, so an abort cancels only what still runs. */
  remember(item: Listed): void {
    if (this.started.has(item.evaluation.runId)) this.started.set(item.evaluation.runId, item)
  }

  /** The starts under way, for settle() to wait for; given back as it is. */
  track<T>(starting: Promise<T>): Promise<T> {
    this.starting = starting
    return starting
  }

  /** The run IDs this run started so far. */
  runIds(): string[] {
    return [...this.started.keys()]
  }

  /** Stops new starts (a signal came) and resolves once those under way have an outcome. */
  async settle(): Promise<void> {
    this.aborting = true
    this.ledger.halt()
    await this.starting?.catch(() => undefined)
  }

  soFar(): StartsSoFar {
    return {
      started: this.runIds(),
      adopted: [...this.adopted],
      cancellable: this.cancellable().map(item => item.evaluation.runId),
      underWay: this.ledger.underWay(),
      unconfirmed: this.ledger.unconfirmed()
    }
  }

  /** Started by this run itself (not adopted), and queued or running when last seen. */
  private cancellable(): Listed[] {
    return [...this.started.values()].filter(
      item => IN_FLIGHT.includes(item.evaluation.status) && !this.adopted.has(item.evaluation.runId)
    )
  }

  /**
   * A run that ends with an error after starting evaluations cannot judge them: like an abort, it
   * stops what it paid for (with cancel-on-abort), rather than leave it running and billed.
   */
  async cancelAfterError(): Promise<void> {
    const { settings, client, log, naming } = this.context
    // once a signal came, the abort cancels (on its own transport, within its grace)
    if (this.aborting || !settings.cancelOnAbort || this.started.size === 0) return
    try {
      const { cancelled } = await this.cancelOwn(client)
      if (cancelled.length > 0)
        log.warning(
          `The run ended with an error, so the ${cancelled.length === 1 ? 'evaluation' : 'evaluations'} it started ${cancelled.length === 1 ? 'was' : 'were'} cancelled (${naming.nameOf('cancel-on-abort')}): ${cancelled.join(', ')}.`
        )
    } catch (error) {
      log.warning(`Could not cancel the evaluations this run started: ${(error as Error).message}`)
    }
  }

  /**
   * Cancels what this run started that was still queued or running when last seen. An adopted one
   * is left alone: when in doubt, cancel less, and it may be another run's paid evaluation.
   */
  async cancelOwn(via: AdalineClient): Promise<CancelOutcome> {
    const { log } = this.context
    const inFlight = [...this.started.values()].filter(item =>
      IN_FLIGHT.includes(item.evaluation.status)
    )
    const running = inFlight.filter(item => !this.adopted.has(item.evaluation.runId))
    for (const item of inFlight.filter(item => this.adopted.has(item.evaluation.runId)))
      log.info(
        `Not cancelling ${item.evaluation.runId}: it was taken from the listing after a lost answer and may be another run's.`
      )
    // all at once: there is one per prompt, and time, not the rate limit, is what runs short
    return cancelSuperseded(via, running, {
      dryRun: false,
      limit: new AdaptiveLimit(Math.max(1, running.length)),
      log: log.info,
      warn: log.warning
    })
  }
}

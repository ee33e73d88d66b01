/**
 * The engine both faces run (the action in main.ts, the command line in cli.ts): from settings and
 * a supersede decision to a judged report, through plan → API → judgement.
 */
import { ABORT_GRACE_MS, type Abortable, type StartsSoFar } from './abort.js'
import { createClient, type AdalineClient } from '../adaline/client.js'
import { RateGovernor } from '../adaline/governor.js'
import { createHttp, type HttpOptions } from '../adaline/http.js'
import { IN_FLIGHT, MAX_PAGE_SIZE } from '../adaline/schema.js'
import { cancelSuperseded, type CancelOutcome } from './cancel.js'
import { AdaptiveLimit } from './concurrency.js'
import { MAX_BASELINE_PAGES, gather, searchBaselines, type Gathered } from './gather.js'
import {
  decideSupersede,
  lookupsNeeded,
  type GitHubEvent,
  type SupersedeDecision
} from '../github/event.js'
import { lookUp } from '../github/lookups.js'
import type { Settings } from '../inputs/settings.js'
import { totals } from '../judge/metrics.js'
import { planBaselineListings, planListings } from './plan.js'
import { judge } from '../judge/policy.js'
import { formatCount, formatDuration } from '../format.js'
import type { RunReport } from '../report/summary.js'
import { failingRows } from './rows.js'
import type { Listed, SupersedeRule } from '../judge/judged-set.js'
import { StartError, StartLedger, startEvaluations } from './start.js'
import { TERMINAL, waitUntilTerminal, type WaitOutcome } from './wait.js'

/** Requests in flight at once (listings of several prompts, cancels); a 429 halves it. */
export const CONCURRENCY = 8

/**
 * The transport of the cancels sent on abort. They must land within ABORT_GRACE_MS whatever the
 * run's polls meet, so they get one quick retry at most and never wait out a long Retry-After.
 * Each request (the cancel, and the read of a refused one) ends within 40% of the grace: 3.2 s
 * for both of a 4 s grace, with room to spare for reporting. They skip the rate governor's queue:
 * they are few (one per evaluation this run started) and urgent, and a turn behind a run slowed
 * by 429s, or held until a reset, could come after the grace.
 */
export const ABORT_TRANSPORT: Pick<
  HttpOptions,
  'timeoutMs' | 'maxAttempts' | 'baseDelayMs' | 'deadlineMs'
> = {
  timeoutMs: 1_500,
  maxAttempts: 2,
  baseDelayMs: 250,
  deadlineMs: ABORT_GRACE_MS * 0.4
}

/** Where the engine tells of its progress: the Actions log, or a terminal's stderr. */
export interface Log {
  info(message: string): void
  warning(message: string): void
  group<T>(title: string, work: () => Promise<T>): Promise<T>
  /**
   * true where groups do not fold (a terminal): there the per-evaluation progress groups, which
   * would repeat every line, are left out
   */
  flat?: boolean
}

/**
 * Whether the triggering GitHub event supersedes evaluations, asking GitHub what the payload lacks.
 * `now` is this run's clock, read once the answers are in: no cutoff may lie beyond it.
 */
export async function decideFromEvent(
  settings: Settings,
  event: GitHubEvent,
  now: () => number = Date.now
): Promise<SupersedeDecision> {
  const lookups = await lookUp(
    lookupsNeeded(settings.cancelSuperseded, event),
    settings.githubToken
  )
  return decideSupersede(settings.cancelSuperseded, event, lookups, now())
}

/**
 * The engine, and what an abort asks of it: settleStarts stops new starts and waits for those under
 * way; cancelStarted cancels, on the abort's own transport, what this run started and was queued or
 * running when last seen, adopted ones left alone.
 */
export interface Engine extends Abortable {
  /** Runs plan → API → judgement under the given supersede decision. */
  evaluate(decision: SupersedeDecision): Promise<RunReport>
  /** The run IDs this run started so far, for the `started` output when the run fails. */
  startedRunIds(): string[]
  /** The superseded evaluations' cancels, once made, for the `cancel-failed` output when the run fails. */
  supersededCancels(): CancelOutcome | undefined
}

export interface EngineOptions {
  /**
   * whether the face shows failing rows (the summary, the terminal and Markdown reports do; the
   * command's JSON does not): without them no row is fetched
   */
  showsRows?: boolean
}

export function createEngine(settings: Settings, log: Log, options: EngineOptions = {}): Engine {
  const { showsRows = true } = options
  const limit = new AdaptiveLimit(CONCURRENCY)
  // every request of the run draws its turn from one governor: the workspace's limit is shared
  const governor = new RateGovernor({ maxPerMinute: settings.maxRequestsPerMinute })
  const client = createClient(
    createHttp({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      governor,
      onThrottle: () => limit.halve(),
      onRetry: ({ endpoint, attempt, delayMs, reason }) =>
        log.info(`${endpoint}: ${reason}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`)
    })
  )
  // A transport of its own, no part in the run's limit nor its governor (see ABORT_TRANSPORT): a
  // cancel on abort never queues behind polls that hold every slot while they sleep out a 429.
  const abortClient = createClient(
    createHttp({ baseUrl: settings.baseUrl, apiKey: settings.apiKey, ...ABORT_TRANSPORT })
  )
  /** what this run started, by run ID, as last seen */
  const started = new Map<string, Listed>()
  /** started evaluations taken from the listing after a lost answer: perhaps another run's */
  const adopted = new Set<string>()
  const remember = (item: Listed) => {
    if (started.has(item.evaluation.runId)) started.set(item.evaluation.runId, item)
  }
  const record = (item: Listed, wasAdopted: boolean) => {
    started.set(item.evaluation.runId, item)
    if (wasAdopted) adopted.add(item.evaluation.runId)
  }
  const ledger = new StartLedger()
  /** the starts, once begun, whatever they come to: an abort waits for them */
  let starting: Promise<unknown> | undefined
  /** a signal came: the abort cancels and reports, not the run's own error path */
  let aborting = false
  let supersededCancels: CancelOutcome | undefined

  async function evaluate(decision: SupersedeDecision): Promise<RunReport> {
    log.info(
      `Superseded evaluations: ${decision.act ? '' : 'nothing to cancel: '}${decision.reason}`
    )
    const rule: SupersedeRule | undefined = decision.act
      ? {
          cutoff: decision.cutoff,
          promptIds: settings.promptIds,
          evaluatorId: settings.evaluatorId,
          datasetId: settings.datasetId,
          keep: settings.keepRunIds
        }
      : undefined
    const listings = planListings(settings, rule)
    const gathered = await log.group(`Listing evaluations (${listings.length} listing(s))`, () =>
      gather(client, listings, { scope: settings.policy.scope, rule, limit, log: log.info })
    )
    log.info(
      `Listed ${gathered.listedCount} evaluation(s) in ${gathered.pages} page(s); ${gathered.judged.length} to judge, ${gathered.superseded.length} superseded.`
    )

    const cancel = (supersededCancels = await log.group(
      `Cancelling ${gathered.superseded.length} superseded evaluation(s)${settings.dryRun ? ' (dry-run)' : ''}`,
      () =>
        cancelSuperseded(client, gathered.superseded, {
          dryRun: settings.dryRun,
          limit,
          log: log.info,
          warn: log.warning
        })
    ))

    try {
      return await startWaitAndJudge(decision, gathered, cancel)
    } catch (error) {
      await cancelAfterError()
      throw error
    }
  }

  async function startWaitAndJudge(
    decision: SupersedeDecision,
    gathered: Gathered,
    cancel: CancelOutcome
  ): Promise<RunReport> {
    let judged = gathered.judged
    if (settings.start) {
      judged = await log.group(
        `Starting ${settings.promptIds.length} evaluation(s) for this commit`,
        () =>
          (starting = startEvaluations(client, settings.promptIds, settings, {
            limit,
            log: log.info,
            ledger,
            onStarted: record
          }).catch((error: unknown) => {
            // what started is named even when telling of it is what failed
            if (error instanceof StartError)
              for (const { item, adopted: wasAdopted } of error.started)
                if (!started.has(item.evaluation.runId)) record(item, wasAdopted)
            throw error
          }))
      )
    }
    let wait: WaitOutcome | undefined
    if (settings.waitMs !== undefined) {
      const waitMs = settings.waitMs
      const pending = judged.filter(item => !TERMINAL.includes(item.evaluation.status)).length
      wait = await log.group(
        `Waiting up to ${formatDuration(waitMs)} for ${pending} evaluation(s) to finish`,
        () =>
          waitUntilTerminal(client, judged, {
            timeoutMs: waitMs,
            limit,
            log: log.info,
            warn: log.warning,
            onSeen: remember
          })
      )
      judged = wait.items
      if (!log.flat) await progressGroups(wait)
    }

    const baselines = await findBaselines(gathered, judged)
    const evaluations = judged.map(item => item.evaluation)
    const metrics = totals(evaluations)
    const verdict = judge(evaluations, metrics, settings.policy, {
      baselines: new Map([...baselines].map(([runId, item]) => [runId, item.evaluation])),
      waitedMs: wait?.waitedMs,
      waitTimedOut: (wait?.timedOut.length ?? 0) > 0
    })
    const rows = showsRows
      ? await failingRows(client, judged, { limit, warn: log.warning })
      : new Map()
    return {
      promptIds: settings.promptIds,
      scope: settings.policy.scope,
      dryRun: settings.dryRun,
      verdict,
      metrics,
      gathered: { ...gathered, judged },
      decision,
      cancel,
      started: [...started.keys()],
      wait,
      baselines,
      comparesWithBaseline: settings.policy.limits['max-pass-rate-drop'] !== undefined,
      failingRows: rows
    }
  }

  /**
   * Each judged evaluation's baseline: from the listings, or, when the filters may have kept it
   * out of them, from its prompt's completed evaluations listed for the purpose.
   */
  async function findBaselines(gathered: Gathered, judged: Listed[]): Promise<Map<string, Listed>> {
    const baselines = new Map<string, Listed>()
    for (const item of judged) {
      const baseline = gathered.baselines.baselineFor(item)
      if (baseline) baselines.set(item.evaluation.runId, baseline)
    }
    const missing = judged.filter(item => !baselines.has(item.evaluation.runId))
    const listings = planBaselineListings(settings, missing)
    if (listings.length > 0) {
      const search = await log.group(
        `Listing completed evaluations for ${missing.length} baseline(s) the filters may hide`,
        () => searchBaselines(client, listings, missing, { limit, log: log.info })
      )
      for (const [runId, baseline] of search.found) baselines.set(runId, baseline)
      for (const promptId of search.cut)
        log.warning(
          `Looked for baselines among the newest ${formatCount(MAX_BASELINE_PAGES * MAX_PAGE_SIZE)} completed evaluations of prompt ${promptId} only; some judged evaluations have none among them.`
        )
    }
    const without = judged.filter(item => !baselines.has(item.evaluation.runId))
    if (settings.policy.limits['max-pass-rate-drop'] !== undefined && without.length > 0) {
      const ids = without.slice(0, 10).map(item => item.evaluation.runId)
      const more = without.length > ids.length ? ` and ${without.length - ids.length} more` : ''
      log.warning(
        `max-pass-rate-drop does not apply to ${without.length} judged evaluation(s) with no earlier completed evaluation of the same prompt, evaluator and dataset: ${ids.join(', ')}${more}.`
      )
    }
    return baselines
  }

  /**
   * The live progress lines interleave every evaluation, and groups cannot nest: once the wait is
   * over, each evaluation's lines again, in a group of its own.
   */
  async function progressGroups(wait: WaitOutcome): Promise<void> {
    for (const item of wait.items) {
      const lines = wait.progress.get(item.evaluation.runId)
      if (!lines) continue
      const { runId, status } = item.evaluation
      await log.group(`Progress of ${runId} (prompt ${item.promptId}): ${status}`, async () =>
        lines.forEach(line => log.info(line))
      )
    }
  }

  /**
   * A run that ends with an error after starting evaluations cannot judge them: like an abort, it
   * stops what it paid for (with cancel-on-abort), rather than leave it running and billed.
   */
  async function cancelAfterError(): Promise<void> {
    // once a signal came, the abort cancels (on its own transport, within its grace)
    if (aborting || !settings.cancelOnAbort || started.size === 0) return
    try {
      const { cancelled } = await cancelOwn(client)
      if (cancelled.length > 0)
        log.warning(
          `The run ended with an error, so the evaluation(s) it started were cancelled (cancel-on-abort): ${cancelled.join(', ')}.`
        )
    } catch (error) {
      log.warning(`Could not cancel the evaluations this run started: ${(error as Error).message}`)
    }
  }

  /**
   * Cancels what this run started that was still queued or running when last seen. An adopted one
   * is left alone: when in doubt, cancel less, and it may be another run's paid evaluation.
   */
  async function cancelOwn(via: AdalineClient): Promise<CancelOutcome> {
    const inFlight = [...started.values()].filter(item =>
      IN_FLIGHT.includes(item.evaluation.status)
    )
    const running = inFlight.filter(item => !adopted.has(item.evaluation.runId))
    for (const item of inFlight.filter(item => adopted.has(item.evaluation.runId)))
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

  function starts(): StartsSoFar {
    return {
      started: [...started.keys()],
      adopted: [...adopted],
      cancellable: [...started.values()]
        .filter(
          item => IN_FLIGHT.includes(item.evaluation.status) && !adopted.has(item.evaluation.runId)
        )
        .map(item => item.evaluation.runId),
      underWay: ledger.underWay(),
      unconfirmed: ledger.unconfirmed()
    }
  }

  return {
    evaluate,
    settleStarts: async () => {
      aborting = true
      ledger.halt()
      await starting?.catch(() => undefined)
    },
    cancelStarted: () => cancelOwn(abortClient),
    starts,
    startedRunIds: () => [...started.keys()],
    supersededCancels: () => supersededCancels
  }
}

/**
 * Starts one evaluation per prompt for this commit. Starting bills, and the API has no idempotency
 * key: a start whose outcome is unknown (the answer lost, cut or not a clean 202) is tried again
 * only after the listing shows no evaluation of the same scope that is new since the attempt, and
 * one that cannot be confirmed either way is never forgotten: the run's error (or the abort's)
 * names its prompt, scope and time.
 */
import type { AdalineClient } from '../adaline/client.js'
import { ApiError } from '../adaline/http.js'
import { BEING_CANCELLED, type Evaluation } from '../adaline/schema.js'
import type { Listed } from '../judge/judged-set.js'
import { AdaptiveLimit } from './concurrency.js'
import type { RunContext } from './context.js'
import type {
  OwnStarts,
  StartLedger,
  StartScope,
  StartUnderWay,
  UnconfirmedStart
} from './started.js'
import { plural } from '../format.js'

/**
 * How far before an attempt (by our clock) an evaluation it started may say it was submitted (by
 * the API's). The note taken before the POST, not this window, keeps out what others started
 * earlier, so the window can err wide: it only has to hold our own start when the clocks differ.
 */
export const CLOCK_SKEW_MS = 60_000
export const MAX_START_ATTEMPTS = 3

export interface StartOptions {
  limit: AdaptiveLimit
  log: (message: string) => void
  /**
   * told of each evaluation as soon as it has started, so an abort can cancel it; `adopted` when it
   * was taken from the listing after a lost answer, and so may be another run's
   */
  onStarted: (item: Listed, adopted: boolean) => void
  /** what may have cost the user without being this run's to judge or cancel (the log's if not given) */
  warn?: (message: string) => void
  ledger: StartLedger
  /**
   * the clock of an attempt's time, which is compared with the submittedAt the API gives and sent
   * as created-after: the API's (the run context's serverClock), ours if not given
   */
  now?: () => number
}

/** One evaluation this run started, or took from the listing as the one it started. */
export interface Started {
  item: Listed
  adopted: boolean
}

/**
 * The starts ended with an error. It names the starts that may have been billed but could not be
 * confirmed, and carries every evaluation that did start, so that none goes unnamed even when
 * telling of it (onStarted) is what failed.
 */
export class StartError extends ApiError {
  constructor(
    readonly failure: unknown,
    readonly started: Started[],
    readonly unconfirmed: UnconfirmedStart[]
  ) {
    const api = failure instanceof ApiError ? failure : undefined
    const head = api
      ? api.message
      : `Unexpected error: ${(failure as Error)?.message ?? String(failure)}`
    super(
      [head, ...unconfirmed.map(describeUnconfirmed)].join(' '),
      api?.endpoint ?? 'starting evaluations',
      api?.status,
      api?.code,
      api?.ambiguous ?? false,
      api?.transient ?? false
    )
    this.name = 'StartError'
    this.cause = failure
  }
}

/**
 * The run's start stage: one evaluation per prompt for this commit, each told to `starts` as soon
 * as it has started, so that an abort or the run's error cancels it. They are the judged set.
 */
export function startStage(context: RunContext, starts: OwnStarts): Promise<Listed[]> {
  const { settings, client, limit, log } = context
  return log.group(
    `Starting ${plural(settings.promptIds.length, 'evaluation')} for this commit`,
    () =>
      starts.track(
        startEvaluations(client, settings.promptIds, settings, {
          limit,
          log: log.info,
          warn: log.warning,
          ledger: starts.ledger,
          // an attempt's time is compared with the submittedAt the API gives: on the API's clock
          now: () => context.serverClock.now(),
          onStarted: (item, adopted) => starts.record(item, adopted)
        }).catch((error: unknown) => {
          // what started is named even when telling of it is what failed
          if (error instanceof StartError)
            for (const { item, adopted } of error.started)
              if (!starts.has(item.evaluation.runId)) starts.record(item, adopted)
          throw error
        })
      )
  )
}

/**
 * Starts every prompt's evaluation within the bound. When one fails, no further POST begins (nor
 * after ledger.halt()), but those under way are waited for, checks included, so that what went
 * through is told to onStarted and what cannot be confirmed is named; then a StartError is thrown.
 * The evaluations come back in `promptIds` order.
 */
export async function startEvaluations(
  client: AdalineClient,
  promptIds: string[],
  scope: StartScope,
  options: StartOptions
): Promise<Listed[]> {
  const { ledger } = options
  const failures: unknown[] = []
  const started: Started[] = []
  let skipped = 0
  const items = await Promise.all(
    promptIds.map(promptId =>
      options.limit.run(async () => {
        try {
          const outcome = await startOne(client, promptId, scope, options)
          if (!outcome) {
            skipped += 1
            return undefined
          }
          // kept before anything else can fail: whatever follows, this one is named
          started.push(outcome)
          options.onStarted(outcome.item, outcome.adopted)
          const { runId, evaluatorId } = outcome.item.evaluation
          options.log(
            outcome.adopted
              ? `Evaluation ${runId} is new since the attempt: using it rather than starting (and paying for) another.`
              : `Started evaluation ${runId} of prompt ${promptId} (evaluator ${evaluatorId}).`
          )
          return outcome.item
        } catch (error) {
          failures.push(error)
          ledger.halt()
          return undefined
        } finally {
          ledger.mark(promptId, scope)
        }
      })
    )
  )
  const unconfirmed = ledger.unconfirmed()
  if (failures.length > 0 || unconfirmed.length > 0 || skipped > 0)
    throw new StartError(failures[0] ?? haltedError(), started, unconfirmed)
  return items.filter(item => item !== undefined)
}

/** The failure of starts that a halt (a signal) stopped before any of them failed. */
function haltedError(): ApiError {
  return new ApiError('Starting was stopped before every start was confirmed.', 'starting')
}

/** One prompt's start, with its checks; undefined when the ledger halted before its POST. */
async function startOne(
  client: AdalineClient,
  promptId: string,
  scope: StartScope,
  options: StartOptions
): Promise<Started | undefined> {
  const { ledger } = options
  const now = options.now ?? Date.now
  if (ledger.halted) return undefined
  // What the scope holds before the POST, so that afterwards only a new evaluation can be ours.
  let known = new Set(
    (await listedSince(client, promptId, scope, now() - CLOCK_SKEW_MS)).map(
      item => item.evaluation.runId
    )
  )
  /** attempts whose outcome was unknown and whose check showed no evaluation */
  const unseen: number[] = []
  const unconfirmed = (reason: string, attempts = unseen) =>
    ledger.addUnconfirmed({ promptId, scope, attempts: [...attempts], reason })
  for (let attempt = 1; ; attempt += 1) {
    if (ledger.halted) {
      // another prompt's start failed, or a signal came: no new POST, but an attempt nobody saw
      // go through is named
      if (unseen.length > 0) unconfirmed(notSeen(unseen.length))
      return undefined
    }
    const attemptAt = now()
    ledger.mark(promptId, scope, 'posting', attemptAt)
    let failure: ApiError
    try {
      const evaluation = await client.createEvaluation(promptId, scope)
      const wrong = notThisStart(evaluation, scope, known)
      if (!wrong) {
        if (unseen.length > 0)
          await warnOfEarlierAttempts(
            client,
            { promptId, scope, unseen, known, evaluation },
            options
          )
        return { item: { promptId, evaluation }, adopted: false }
      }
      // the API took the start but named another evaluation: never ours to judge or cancel
      known = new Set([...known, evaluation.runId])
      const endpoint = `POST /prompts/${encodeURIComponent(promptId)}/evaluations`
      failure = new ApiError(
        `${endpoint} answered with evaluation ${evaluation.runId}, ${wrong}, not the one this start made.`,
        endpoint,
        202,
        undefined,
        true
      )
    } catch (error) {
      if (!(error instanceof ApiError) || !error.ambiguous) {
        if (unseen.length > 0) unconfirmed(notSeen(unseen.length))
        throw error
      }
      failure = error
    }
    const failedAt = now()
    options.log(
      `Starting an evaluation of prompt ${promptId} may have failed (${failure.message}); checking the listing before trying again.`
    )
    ledger.mark(promptId, scope, 'checking')
    let listed: Listed[]
    try {
      listed = await listedSince(client, promptId, scope, attemptAt - CLOCK_SKEW_MS)
    } catch (error) {
      // the one way to know is gone: no further POST, and the start is named as it stands
      const why = error instanceof Error ? error.message : String(error)
      unconfirmed(`its answer was lost and the listing that would find it failed (${why})`, [
        ...unseen,
        attemptAt
      ])
      throw failure
    }
    const found = startedByAttempt(listed, known, attemptAt, failedAt)
    if (found) return { item: found, adopted: true }
    unseen.push(attemptAt)
    // a 2xx says the API took the start, whatever its body: the listing may lag, and another POST
    // would bill a second evaluation
    if (landed(failure)) {
      unconfirmed(
        'the API accepted it but its answer could not be used, and the listing does not show it yet'
      )
      throw failure
    }
    // what is listed now and was not taken is not this attempt's: none of it for the next one
    known = new Set([...known, ...listed.map(item => item.evaluation.runId)])
    if (attempt >= MAX_START_ATTEMPTS) {
      unconfirmed(notSeen(unseen.length))
      throw new ApiError(
        `${failure.message} Tried ${attempt} times.`,
        failure.endpoint,
        failure.status,
        failure.code
      )
    }
  }
}

/**
 * After a start that went through on a later attempt. The earlier attempts' answers were lost and
 * the listing did not show them then, but a listing may lag a start: look once more, and warn of
 * what they may have started and billed. Never judged or cancelled here: it may be another run's.
 * Never throws: the start that went through stands.
 */
async function warnOfEarlierAttempts(
  client: AdalineClient,
  {
    promptId,
    scope,
    unseen,
    known,
    evaluation
  }: {
    promptId: string
    scope: StartScope
    unseen: readonly number[]
    known: ReadonlySet<string>
    evaluation: Evaluation
  },
  options: StartOptions
): Promise<void> {
  const warn = options.warn ?? options.log
  const since = Math.min(...unseen)
  const when = unseen.map(at => new Date(at).toISOString()).join(', ')
  const head = `Started evaluation ${evaluation.runId} of prompt ${promptId} after ${plural(unseen.length, 'earlier attempt')} at ${when} lost ${unseen.length > 1 ? 'their answers' : 'its answer'}`
  let others: Listed[]
  try {
    others = (await listedSince(client, promptId, scope, since - CLOCK_SKEW_MS)).filter(
      item =>
        !known.has(item.evaluation.runId) &&
        item.evaluation.runId !== evaluation.runId &&
        !BEING_CANCELLED.includes(item.evaluation.status)
    )
  } catch {
    others = []
  }
  const ids = others.map(item => item.evaluation.runId)
  warn(
    ids.length > 0
      ? `${head}; the listing now shows ${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` and ${ids.length - 5} more` : ''} from then, which ${ids.length > 1 ? 'are' : 'is'} not judged or cancelled here (it may be another run's): if it is a second evaluation of this commit, cancel it in Adaline.`
      : `${head}; the listing does not show ${unseen.length > 1 ? 'them' : 'it'}, but if Adaline took ${unseen.length > 1 ? 'one' : 'it'}, a second evaluation may be running and billing: look in Adaline for one of this prompt submitted since ${new Date(since).toISOString()}.`
  )
}

/** A failure whose answer had a 2xx status: the start surely landed, its answer was unusable. */
function landed(failure: ApiError): boolean {
  return failure.status !== undefined && failure.status >= 200 && failure.status < 300
}

/**
 * Why a start's answer names an evaluation this start cannot have made, if it does: another
 * evaluator's or dataset's than the start asked for, or one listed before the POST. Pure.
 */
function notThisStart(
  evaluation: Evaluation,
  scope: StartScope,
  known: ReadonlySet<string>
): string | undefined {
  if (known.has(evaluation.runId)) return 'which was there before the start'
  if (scope.evaluatorId !== undefined && evaluation.evaluatorId !== scope.evaluatorId)
    return `of evaluator ${evaluation.evaluatorId}`
  if (
    scope.datasetId !== undefined &&
    evaluation.datasetId &&
    evaluation.datasetId !== scope.datasetId
  )
    return `of dataset ${evaluation.datasetId}`
  return undefined
}

/** Why attempts whose check showed nothing are still named: a listing may lag a start. */
function notSeen(attempts: number): string {
  return attempts > 1
    ? `their answers were lost and the listing showed no evaluation from any of the ${attempts}`
    : 'its answer was lost and the listing showed no evaluation from it'
}

/** The sentence that names a start that may have been billed, for the run's error and the abort's. */
export function describeUnconfirmed({
  promptId,
  scope,
  attempts,
  reason
}: UnconfirmedStart): string {
  const when = attempts.map(at => new Date(at).toISOString()).join(', ')
  const since = new Date(Math.min(...attempts)).toISOString()
  return `An evaluation of prompt ${promptId} (${describeScope(scope)}) may have been started by this run at ${when} and could not be confirmed: ${reason}. Look in Adaline for one submitted since ${since} before starting another.`
}

/** The sentence for a start an abort could not wait out. */
export function describeUnderWay({ promptId, scope, since, phase }: StartUnderWay): string {
  const what = phase === 'posting' ? 'was in flight' : 'had lost its answer and was being checked'
  return `A start of prompt ${promptId} (${describeScope(scope)}) ${what} and its outcome is unknown: check Adaline for an evaluation submitted since ${new Date(since).toISOString()}.`
}

function describeScope({ evaluatorId, datasetId }: StartScope): string {
  return `${evaluatorId ? `evaluator ${evaluatorId}` : 'every active evaluator'}, ${datasetId ? `dataset ${datasetId}` : "the evaluator's dataset"}`
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
    for (const { evaluation } of page.items) {
      if (evaluation.timeline.submittedAt >= since) listed.push({ promptId, evaluation })
    }
  }
  return listed
}

/**
 * What every stage of one run shares: the settings, the API client with the run's bounds on it,
 * the abort's own client, and the log.
 */
import { createClient, type AdalineClient } from '../adaline/client.js'
import { ServerClock } from '../adaline/clock.js'
import { RateGovernor } from '../adaline/governor.js'
import { createHttp, type HttpOptions } from '../adaline/http.js'
import { formatDuration } from '../format.js'
import { ACTION_NAMING, type Naming, type Settings } from '../inputs/settings.js'
import { AdaptiveLimit } from './concurrency.js'
import { ResultsCache } from './results-cache.js'

/** Requests in flight at once (listings of several prompts, cancels); a 429 halves it. */
export const CONCURRENCY = 8

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

/** How a transport times its requests and retries, beyond where it sends them. */
export type TransportTimings = Pick<
  HttpOptions,
  'timeoutMs' | 'maxAttempts' | 'baseDelayMs' | 'deadlineMs'
>

export interface RunContext {
  readonly settings: Settings
  /** how the face names its settings in the run's messages: inputs (the action) or flags */
  readonly naming: Naming
  /** every request of the run: one transport, drawing its turns from the run's rate governor */
  readonly client: AdalineClient
  /** the bound on the run's requests in flight; each 429 halves it */
  readonly limit: AdaptiveLimit
  /** the cancels sent on abort: a transport of its own, outside the run's limit and governor */
  readonly abortClient: AdalineClient
  readonly log: Log
  /** the row results fetched so far, kept for every purpose that needs them */
  readonly results: ResultsCache
  /**
   * the API's clock, learned from its answers: what is compared with its times (a start's
   * submittedAt) is read on it, so a runner's clock hours off cannot make a lost start look unstarted
   */
  readonly serverClock: ServerClock
}

/**
 * The context of one run; `abortTransport` times the abort's cancels (abort.ts's ABORT_TRANSPORT),
 * and `naming` is the face's (the action's inputs unless it says).
 */
export function createContext(
  settings: Settings,
  log: Log,
  abortTransport: TransportTimings,
  naming: Naming = ACTION_NAMING
): RunContext {
  const limit = new AdaptiveLimit(CONCURRENCY)
  // every request of the run draws its turn from one governor: the workspace's limit is shared
  const governor = new RateGovernor({ maxPerMinute: settings.maxRequestsPerMinute })
  const { nameOf } = naming
  const serverClock = new ServerClock()
  const client = createClient(
    createHttp({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      nameOf,
      governor,
      serverClock,
      onThrottle: () => limit.halve(),
      onRetry: ({ endpoint, attempt, delayMs, reason }) =>
        log.info(`${endpoint}: ${reason}; retry ${attempt} in ${formatDuration(delayMs)}`)
    }),
    { nameOf }
  )
  // A transport of its own, no part in the run's limit nor its governor (see ABORT_TRANSPORT): a
  // cancel on abort never queues behind polls that hold every slot while they sleep out a 429.
  const abortClient = createClient(
    createHttp({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      nameOf,
      serverClock,
      ...abortTransport
    }),
    { nameOf }
  )
  return {
    settings,
    naming,
    client,
    limit,
    abortClient,
    log,
    results: new ResultsCache(client, limit),
    serverClock
  }
}

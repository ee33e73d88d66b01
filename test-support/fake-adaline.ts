/**
 * A fake Adaline v2 API on a real `node:http` server (127.0.0.1, port 0), used by the tests, the
 * demo and the benchmark. It enforces the published contract strictly, so that a client that
 * works against it has been held to the rules the real API states:
 *
 * - base path `/v2`; `Authorization: Bearer <apiKey>` exactly, else 401 UNAUTHORIZED;
 * - `GET /v2/prompts/{promptId}/evaluations` with its query rules (every parameter at most once,
 *   unknown parameters rejected, `limit` 1..200, IDs 20..80 characters), opaque cursors that are
 *   only valid with the prompt and filters they were issued for;
 * - `GET /v2/prompts/{promptId}/evaluations/{evaluationId}` (one evaluation);
 * - `POST /v2/prompts/{promptId}/evaluations/{evaluationId}/cancel` (queued/running → cancelling,
 *   otherwise 409);
 * - `POST /v2/prompts/{promptId}/evaluations` with `{evaluatorId?, datasetId?}` (202, a new queued
 *   evaluation that then follows a lifecycle on the clock: see fake-adaline-lifecycle.ts);
 * - `GET /v2/prompts/{promptId}/evaluations/{evaluationId}/results` (`grade`, `expand=row`,
 *   `sort`, `limit`, `cursor`; without `grade`, every grade), results that agree with the
 *   evaluation's metrics;
 * - `GET /v2/prompts/{promptId}/evaluators` (`limit`, `cursor`, with the same rules as the
 *   listing): the evaluators its evaluations use, with realistic titles, or those `setEvaluators`
 *   gave (see fake-adaline-evaluators.ts);
 * - any other path 404, a known path with another method 405.
 *
 * Faults (`inject`) are matched before anything else, including auth, so any request can fail.
 *
 * Per-row results pair across evaluations: every evaluation of one dataset has the same row IDs
 * (`rowIdOf(datasetId, row)`, one per dataset row) and the same row values. Which rows pass, fail,
 * are unknown or error follows the evaluation's lifecycle, or its metrics (mostly the same rows
 * fail in each evaluation of a dataset, as with a real judge), or what a test set with
 * `setRowGrades(promptId, runId, grades)`, which also brings its metrics and progress into line.
 * A baseline and a judged evaluation where exactly the rows you choose newly fail or pass:
 *
 *   const pair = fake.addPairedEvaluations(promptId, {
 *     rows: 200,
 *     baselineFails: [3, 50],
 *     nowFails: [3, 7, 8, 9] // rows 7, 8, 9 newly fail; row 50 newly passes
 *   })
 *   pair.newlyFailing // their row IDs; pair.baseline, pair.judged: the evaluations as served
 *
 * `pairedEvaluations(plan)` builds the same without a fake (evaluations and grades).
 *
 * With `rateLimit`, one token bucket serves every request to the server, as Adaline limits a whole
 * workspace: past it, 429 RATE_LIMIT_EXCEEDED without Retry-After, as Adaline documents.
 */
import http from 'node:http'
import zlib from 'node:zlib'
import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import * as v from 'valibot'
import {
  EVALUATION_STATUSES,
  ID_MAX,
  ID_MIN,
  IN_FLIGHT,
  MAX_PAGE_SIZE,
  evaluationSchema,
  type Evaluation,
  type EvaluationStatus
} from '../src/adaline/schema.js'
import { GRADES, resultSchema, type Grade, type Result } from '../src/adaline/schema.js'
import {
  applyState,
  derivedGrades,
  gradesAgree,
  gradesFromState,
  hash32,
  lifecycleState,
  makeResult,
  resolveLifecycle,
  rowIdOf,
  rowIndexOf,
  seedsFromGrades,
  seedsFromState,
  withRowGrades,
  type AnimatedEvaluation,
  type LifecycleOptions,
  type RowGrades,
  type RowOutcome
} from './fake-adaline-lifecycle.js'
import { evaluatorPageSchema, type Evaluator } from '../src/adaline/schema.js'
import {
  completeEvaluators,
  evaluatorsOf,
  type EvaluatorFields
} from './fake-adaline-evaluators.js'

export {
  rowIdOf,
  type LifecycleOptions,
  type RowGrades,
  type RowOutcome
} from './fake-adaline-lifecycle.js'
export { EVALUATOR_TITLES, type EvaluatorFields } from './fake-adaline-evaluators.js'

export interface Fault {
  /** Match only this method (GET, POST, ...); any method if absent. */
  method?: string
  /**
   * Matched against the full URL pathname as received, including the `/v2` prefix and without the
   * query string, e.g. `/v2/prompts/prm_.../evaluations`. A string matches as a substring, a
   * RegExp with `test`. Any path if absent.
   */
  path?: string | RegExp
  /** Answer with this status. Without status and body, the request is served normally. */
  status?: number
  /**
   * Answer with this JSON body; a string is sent raw (so malformed JSON can be sent), and so are a
   * Buffer's bytes. Defaults to
   * an Adaline-shaped error body for statuses >= 400 and to no body below 400. A body without a
   * status is sent with 200. A function is called with each matching request and its result sent,
   * e.g. a listing page with a new cursor every time (a cursor that never ends).
   */
  body?: unknown | ((request: RecordedRequest) => unknown)
  /**
   * Extra response headers, e.g. `{ 'retry-after': '1' }` or `{ location: 'http://other/' }`.
   * They are also added to the normal answer when the fault has no status or body.
   */
  headers?: Record<string, string>
  /** How many matching requests this fault hits; default 1, `Infinity` allowed. */
  times?: number
  /** Wait this long before answering (then the fault applies, or the request is served normally). */
  delayMs?: number
  /** Destroy the socket without answering (connection reset). */
  reset?: boolean
  /** Never answer, until the server closes. */
  hang?: boolean
  /**
   * Serve the request (a start or a cancel takes effect), then destroy the socket instead of
   * answering: an answer lost on its way back.
   */
  dropAnswer?: boolean
  /**
   * Serve the request (a start or a cancel takes effect), then answer with this fault's status,
   * body and headers instead of the real answer: e.g. a 303, or a 202 that is not JSON.
   */
  replaceAnswer?: boolean
  /** Send the answer's body compressed with this content-encoding. */
  encoding?: ContentCoding
  /**
   * Send instead a body of zero bytes compressed with this encoding, `decodedBytes` long once
   * decoded: a compression bomb. Built once per size and kept; a few KiB on the wire per MiB.
   */
  bomb?: { encoding: ContentCoding; decodedBytes: number }
  /**
   * Send the answer chunked (no content-length), then close the connection after this many bytes
   * of its body: an answer cut mid-stream. A start or cancel served so still takes effect.
   */
  cutAfterBytes?: number
  /**
   * Send the answer's body chunked, then spaces after it (or, given bytes, those bytes again and
   * again) until the client closes the connection or 1 GiB is sent: a body without end.
   * `RecordedRequest.sentBytes` counts what was written.
   */
  endless?: boolean | Buffer
  /**
   * Send the answer's body chunked, one byte every this many ms: a slow drip that never stalls, so
   * only a timeout over the whole body (not one between bytes) ends it.
   */
  dripEveryMs?: number
  /**
   * Serve the request at once (a start or a cancel takes effect on arrival), then wait this long
   * before sending the answer: a slow answer to a request that already took effect. If the client
   * leaves meanwhile, the effect stays and no answer is sent.
   */
  answerAfterMs?: number
}

export type ContentCoding = 'gzip' | 'deflate' | 'br'

export interface RecordedRequest {
  method: string
  /** URL pathname, with the `/v2` prefix, without the query string */
  path: string
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  body: string
  /** `performance.now()` when the request arrived (its headers read), in this process's clock */
  receivedAt: number
  /** `performance.now()` when its answer was sent or its connection closed; absent until then */
  answeredAt?: number
  /** the status it was answered with; absent until then, and for a reset or hung request */
  status?: number
  /** bytes of body written for an `endless` fault, until the client closed the connection */
  sentBytes?: number
}

/**
 * A workspace-wide rate limit: one token bucket for every request the server is asked to serve
 * (however many keys or jobs send them), refilled at `requests` per `windowMs`. A request that
 * finds the bucket empty takes no token and is answered 429 `RATE_LIMIT_EXCEEDED` with no
 * Retry-After. A request a fault answers (a status, a body, a reset, a hang) never reaches it.
 */
export interface RateLimitOptions {
  /** requests a window allows: Adaline's is about 100 a minute */
  requests: number
  /** the window in ms, default a minute; a shorter one compresses time (the benchmark's fleet) */
  windowMs?: number
  /** the most tokens the bucket holds (the burst a quiet workspace allows); default `requests` */
  burst?: number
  /**
   * add `ratelimit-limit`, `ratelimit-remaining` and `ratelimit-reset` (seconds until a token is
   * free) to every answer, as the IETF draft has them; Adaline documents none, so default false
   */
  headers?: boolean
}

export interface FakeAdalineOptions {
  apiKey?: string
  /** Added to every request before it is answered (for the benchmark). */
  latencyMs?: number
  /** The port to listen on (127.0.0.1); default 0, any free port. */
  port?: number
  /** Page size when `limit` is absent; 50 like Adaline. */
  defaultPageSize?: number
  /** How started (and `animate`d) evaluations move along; per prompt with addPrompt's options. */
  lifecycle?: LifecycleOptions
  /**
   * The clock the lifecycles run on (ms), and the answers' Date header; default `Date.now`.
   * `clockOffsetMs` is added to it: a clock hours off the runner's is how a test skews the two.
   */
  now?: () => number
  /** A workspace-wide rate limit; none if absent. */
  rateLimit?: RateLimitOptions
}

/** Per-prompt settings, given to `addPrompt`. */
export interface PromptOptions {
  /**
   * The evaluator of an evaluation started without `evaluatorId`; default the evaluatorId of the
   * prompt's newest evaluation, else `fakeId('evl', 1)`.
   */
  defaultEvaluatorId?: string
  /** Likewise for `datasetId`; default the newest evaluation's, else `fakeId('dst', 1)`. */
  defaultDatasetId?: string
  /** Over `FakeAdalineOptions.lifecycle`, e.g. `{ totalRows: 40 }`. */
  lifecycle?: LifecycleOptions
  /** The prompt's evaluators, as `setEvaluators` takes them; default those its evaluations use. */
  evaluators?: EvaluatorFields[]
}

/** `animate`'s plan: a lifecycle, and when it starts (default now). */
export interface AnimationPlan extends LifecycleOptions {
  /** Clock time the evaluation entered the queue; default `fake.now()`. */
  startAt?: number
}

interface ResultCursor {
  promptId: string
  runId: string
  filterKey: string
  /** result IDs matching the query when its first page was served, in page order */
  snapshot: string[]
  offset: number
}

const RESULT_PARAMS = ['grade', 'expand', 'sort', 'limit', 'cursor'] as const
const EVALUATOR_PARAMS = ['limit', 'cursor'] as const
const ROW_OUTCOMES: readonly (RowOutcome | null)[] = [...GRADES, 'error']

interface EvaluatorCursor {
  promptId: string
  /** evaluator IDs listed when its first page was served, in page order */
  snapshot: string[]
  offset: number
}
const START_FIELDS = ['evaluatorId', 'datasetId'] as const

interface StoredFault extends Fault {
  remaining: number
}

interface Cursor {
  promptId: string
  /** canonical form of the filter and sort parameters (everything but limit and cursor) */
  filterKey: string
  /** run IDs matching the query when its first page was served, in page order */
  snapshot: string[]
  offset: number
}

interface Filters {
  status?: EvaluationStatus
  evaluatorId?: string
  datasetId?: string
  sort: 'createdAt:asc' | 'createdAt:desc'
  createdAfter?: number
  createdBefore?: number
}

/** The token bucket behind `rateLimit`, on the real clock (`performance.now()`). */
class TokenBucket {
  private tokens: number
  private last: number
  private readonly perMs: number
  private readonly capacity: number

  static check({ requests, windowMs = 60_000, burst = requests }: RateLimitOptions): void {
    if (!(requests > 0) || !(windowMs > 0) || !(burst >= 1)) {
      throw new RangeError('rateLimit needs requests > 0, windowMs > 0 and burst >= 1')
    }
  }

  constructor(private readonly options: RateLimitOptions) {
    TokenBucket.check(options)
    const { requests, windowMs = 60_000, burst = requests } = options
    this.perMs = requests / windowMs
    this.capacity = burst
    this.tokens = burst
    this.last = performance.now()
  }

  /** Takes a token if there is one. */
  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** The draft RateLimit headers, as of `now`. */
  headers(now: number): Record<string, string> {
    if (!this.options.headers) return {}
    const tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.perMs)
    const untilOne = tokens >= 1 ? 0 : (1 - tokens) / this.perMs
    return {
      'ratelimit-limit': String(this.options.requests),
      'ratelimit-remaining': String(Math.floor(tokens)),
      'ratelimit-reset': String(Math.ceil(untilOne / 1000))
    }
  }
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {}
  ) {
    super(message)
  }
}

const API_PREFIX = '/v2'
const LIST_PARAMS = [
  'status',
  'evaluatorId',
  'datasetId',
  'sort',
  'createdAfter',
  'createdBefore',
  'limit',
  'cursor'
] as const
const FILTER_PARAMS = LIST_PARAMS.filter(name => name !== 'limit' && name !== 'cursor')
const SORTS = ['createdAt:asc', 'createdAt:desc'] as const

const ERROR_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  422: 'UNPROCESSABLE_ENTITY',
  429: 'RATE_LIMIT_EXCEEDED',
  500: 'INTERNAL_SERVER_ERROR',
  502: 'BAD_GATEWAY',
  503: 'SERVICE_UNAVAILABLE',
  504: 'GATEWAY_TIMEOUT'
}

/** The Adaline error body for a status: `{error:{code,message}}`. */
export function errorBody(
  status: number,
  message?: string
): { error: { code: string; message: string } } {
  const code = ERROR_CODES[status] ?? (status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST')
  const text =
    message ??
    (status === 401 ? 'Invalid or missing API key.' : (http.STATUS_CODES[status] ?? 'Error') + '.')
  return { error: { code, message: text } }
}

function isId(value: string): boolean {
  return value.length >= ID_MIN && value.length <= ID_MAX
}

function checkId(name: string, value: string): void {
  if (!isId(value)) {
    throw new HttpError(
      400,
      'BAD_REQUEST',
      `Invalid ${name}: must be between ${ID_MIN} and ${ID_MAX} characters.`
    )
  }
}

/** Every query parameter known to the endpoint, and given at most once. */
function checkQueryNames(query: URLSearchParams, known: readonly string[]): void {
  const seen = new Set<string>()
  for (const name of query.keys()) {
    if (!known.includes(name)) throw badQuery(`Unknown query parameter '${name}'.`)
    if (seen.has(name)) throw badQuery(`Query parameter '${name}' may be given only once.`)
    seen.add(name)
  }
}

function clone<T>(value: T): T {
  return structuredClone(value)
}

function badQuery(message: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', message)
}

/** A non-negative integer in decimal digits, as a safe number; undefined if not. */
function parseNonNegativeInteger(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : undefined
}

export class FakeAdaline {
  readonly url: string
  readonly apiKey: string
  readonly requests: RecordedRequest[] = []

  private readonly prompts = new Map<string, Evaluation[]>()
  /** each prompt's evaluations by run ID, built on first use, dropped when they are added or changed */
  private readonly byRunId = new Map<string, Map<string, Evaluation>>()
  private readonly faults: StoredFault[] = []
  private readonly cursors = new Map<string, Cursor>()
  private readonly timers = new Map<NodeJS.Timeout, () => void>()
  private readonly latencyMs: number
  private readonly bucket?: TokenBucket
  private readonly defaultPageSize: number
  private inFlight = 0
  private peak = 0
  private serving = 0
  private closed = false
  /** Added to the lifecycle clock; raise it to move every lifecycle forward instantly. */
  clockOffsetMs = 0
  private readonly clock: () => number
  private readonly lifecycle: LifecycleOptions
  private readonly promptOptions = new Map<string, PromptOptions>()
  /** promptId → runId → animation */
  private readonly animations = new Map<string, Map<string, AnimatedEvaluation>>()
  /** promptId → runId → results set by a test */
  private readonly explicitResults = new Map<string, Map<string, Result[]>>()
  private readonly resultCursors = new Map<string, ResultCursor>()
  private startedCount = 0
  /** promptId → the evaluators a test set (without one, those the evaluations use are listed) */
  private readonly evaluatorLists = new Map<string, Evaluator[]>()
  private readonly evaluatorCursors = new Map<string, EvaluatorCursor>()
  /** promptId → runId → row grades set by a test */
  private readonly rowGradeSets = new Map<string, Map<string, RowGrades>>()
  // Grades and results are rebuilt only when what they follow changes: a listing of 10,000 rows
  // asks for them on each of its 50 pages. Neither is ever changed in place.
  private readonly derivedMemo = new Map<
    string,
    { key: string; outcome: LifecycleOptions['outcome']; grades: RowGrades }
  >()
  private readonly resultsMemo = new WeakMap<RowGrades, { key: string; results: Result[] }>()
  /** Each result list's results by ID, built once per list: a page of 200 need not index 10,000. */
  private readonly resultIndex = new WeakMap<Result[], Map<string, Result>>()

  private constructor(
    private readonly server: http.Server,
    options: FakeAdalineOptions
  ) {
    const { port } = server.address() as AddressInfo
    this.url = `http://127.0.0.1:${port}${API_PREFIX}`
    this.apiKey = options.apiKey ?? `adl_test_${randomBytes(16).toString('hex')}`
    this.latencyMs = options.latencyMs ?? 0
    if (options.rateLimit) this.bucket = new TokenBucket(options.rateLimit)
    this.defaultPageSize = options.defaultPageSize ?? 50
    this.clock = options.now ?? Date.now
    this.lifecycle = { ...options.lifecycle }
    resolveLifecycle(this.lifecycle) // throws early on a bad option
  }

  static async start(options: FakeAdalineOptions = {}): Promise<FakeAdaline> {
    const size = options.defaultPageSize ?? 50
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
      throw new RangeError(`defaultPageSize must be an integer 1..${MAX_PAGE_SIZE}`)
    }
    resolveLifecycle(options.lifecycle) // throws before a server is left listening
    if (options.rateLimit) TokenBucket.check(options.rateLimit) // likewise
    const server = http.createServer()
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(options.port ?? 0, '127.0.0.1', () => {
        server.off('error', reject)
        resolve()
      })
    })
    const fake = new FakeAdaline(server, options)
    server.on('request', (req, res) => void fake.handle(req, res))
    return fake
  }

  /** Most requests being served at once since start. */
  get peakInFlight(): number {
    return this.peak
  }

  /** Summed wall time, in ms, from each request's arrival to its answer (latency included). */
  get servingMs(): number {
    return this.serving
  }

  /**
   * Registers a prompt (unknown prompts answer 404), optionally with evaluations and settings for
   * the evaluations started on it (merged over earlier settings when called again).
   */
  addPrompt(promptId: string, evaluations: Evaluation[] = [], options?: PromptOptions): void {
    if (options) {
      for (const id of [options.defaultEvaluatorId, options.defaultDatasetId]) {
        if (id !== undefined && !isId(id)) throw new RangeError(`invalid default ID ${id}`)
      }
      const merged = { ...this.promptOptions.get(promptId), ...options }
      resolveLifecycle(this.lifecycle, merged.lifecycle) // throws early on a bad option
      this.promptOptions.set(promptId, merged)
    }
    if (!this.prompts.has(promptId)) this.prompts.set(promptId, [])
    this.addEvaluations(promptId, evaluations)
    if (options?.evaluators) this.setEvaluators(promptId, options.evaluators)
  }

  /**
   * Adds evaluations to a prompt (registering it if needed). Each is checked against the schema
   * so the fake never serves an invalid evaluation by accident; use a fault's body for that.
   */
  addEvaluations(promptId: string, evaluations: Evaluation[]): void {
    const stored = this.prompts.get(promptId) ?? []
    const runIds = new Set(stored.map(e => e.runId))
    for (const evaluation of evaluations) {
      const parsed = v.safeParse(evaluationSchema, evaluation)
      if (!parsed.success) {
        throw new Error(`invalid evaluation for the fake: ${parsed.issues[0].message}`)
      }
      if (runIds.has(evaluation.runId)) {
        throw new Error(`duplicate runId ${evaluation.runId} in prompt ${promptId}`)
      }
      runIds.add(evaluation.runId)
    }
    // all or nothing
    for (const evaluation of evaluations) stored.push(clone(evaluation))
    this.prompts.set(promptId, stored)
    this.byRunId.delete(promptId)
  }

  /** Changes a stored evaluation, e.g. to move it through its lifecycle during a test. */
  updateEvaluation(promptId: string, runId: string, patch: Partial<Evaluation>): Evaluation {
    // an evaluation on a lifecycle stops there, at its current state, and takes the patch
    this.tick(promptId)
    this.animations.get(promptId)?.delete(runId)
    const evaluation = this.find(promptId, runId)
    Object.assign(evaluation, clone(patch))
    this.byRunId.delete(promptId) // the patch may change the run ID
    this.forgetStaleGrades(promptId, runId, evaluation)
    return clone(evaluation)
  }

  /** The current stored state of a prompt's evaluations (reflects cancels), in insertion order. */
  evaluations(promptId: string): Evaluation[] {
    const stored = this.prompts.get(promptId)
    if (!stored) throw new Error(`unknown prompt ${promptId}`)
    this.tick(promptId)
    return clone(stored)
  }

  /** The clock the lifecycles run on: `options.now()` (default `Date.now()`) + `clockOffsetMs`. */
  now(): number {
    return this.clock() + this.clockOffsetMs
  }

  /** Moves the lifecycle clock forward by `ms` at once. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advance(ms) needs a finite ms >= 0')
    this.clockOffsetMs += ms
  }

  /**
   * Puts a stored evaluation on a lifecycle: from `plan.startAt` (default now) it is queued, then
   * runs its rows and completes, like one started with POST. Its rows start again from 0; its
   * totalRows stays unless the plan (or else, when it has none, the prompt's settings) gives one.
   * `plan` is laid over the prompt's and the fake's lifecycle options.
   */
  animate(promptId: string, runId: string, plan: AnimationPlan = {}): Evaluation {
    const target = this.find(promptId, runId)
    this.rowGradeSets.get(promptId)?.delete(runId) // the lifecycle grades its rows from now on
    const { startAt, ...options } = plan
    const settings = this.promptOptions.get(promptId)?.lifecycle
    const ownRows = target.progress.totalRows > 0 ? { totalRows: target.progress.totalRows } : {}
    const resolved = resolveLifecycle(this.lifecycle, settings, ownRows, options)
    let animated = this.animations.get(promptId)
    if (!animated) this.animations.set(promptId, (animated = new Map()))
    animated.set(runId, {
      target,
      startAt: startAt ?? this.now(),
      plan: resolved,
      seed: hash32(runId)
    })
    this.tick(promptId)
    return clone(target)
  }

  /**
   * Sets the results an evaluation's results endpoint serves (instead of generated ones); each is
   * checked against the result schema. `row` is served only with `expand=row`.
   */
  setResults(promptId: string, runId: string, results: Result[]): void {
    this.find(promptId, runId)
    const ids = new Set<string>()
    for (const result of results) {
      const parsed = v.safeParse(resultSchema, result)
      if (!parsed.success) {
        throw new Error(`invalid result for the fake: ${parsed.issues[0].message}`)
      }
      if (ids.has(result.id)) throw new Error(`duplicate result id ${result.id}`)
      ids.add(result.id)
    }
    let byRun = this.explicitResults.get(promptId)
    if (!byRun) this.explicitResults.set(promptId, (byRun = new Map()))
    byRun.set(runId, results.map(clone))
  }

  /** Every result an evaluation serves now, with its row, oldest first (as `sort=createdAt:asc`). */
  results(promptId: string, runId: string): Result[] {
    this.tick(promptId)
    return clone(this.allResults(promptId, this.find(promptId, runId)))
  }

  // --- Evaluators and per-row grades --------------------------------------------------------

  /**
   * Sets the evaluators `GET /prompts/{promptId}/evaluators` lists, in this order, instead of those
   * the prompt's evaluations use. Each needs only an `id`; the fields left out come from what the
   * evaluations say of it, else a realistic title and defaults. Each is checked against the
   * evaluator schema. Answers the evaluators as listed.
   */
  setEvaluators(promptId: string, evaluators: EvaluatorFields[]): Evaluator[] {
    const stored = this.prompts.get(promptId)
    if (!stored) throw new Error(`unknown prompt ${promptId}`)
    this.tick(promptId)
    const listed = completeEvaluators(promptId, evaluators, this.derivedEvaluators(promptId))
    this.evaluatorLists.set(promptId, listed)
    return clone(listed)
  }

  /** The evaluators a prompt lists now. */
  evaluators(promptId: string): Evaluator[] {
    if (!this.prompts.has(promptId)) throw new Error(`unknown prompt ${promptId}`)
    this.tick(promptId)
    return clone(this.listedEvaluators(promptId))
  }

  /**
   * Sets which rows of an evaluation's dataset pass, fail, are unknown or errored ('error': the row
   * failed to run, so it has no result), and brings the evaluation's metrics and progress into
   * line (run counts, failedRows, totalRows, percent; cost, latency and tokens at the same amount
   * per run). `grades` is either every row's grade by row index (null: not run yet), or changes
   * to the current grades keyed by row ID (`rowIdOf(datasetId, row)`) or row index. A completed
   * evaluation must have every row done, a queued one none. Results set with `setResults` are
   * dropped, and an evaluation on a lifecycle stops there, as with `updateEvaluation`; a later
   * `updateEvaluation` whose counts disagree drops the grades. Answers the evaluation.
   */
  setRowGrades(
    promptId: string,
    runId: string,
    grades: readonly (RowOutcome | null)[] | Readonly<Record<string, RowOutcome | null>>
  ): Evaluation {
    this.tick(promptId)
    const evaluation = this.find(promptId, runId)
    let next: RowGrades
    if (Array.isArray(grades)) {
      next = Array.from(grades as readonly (RowOutcome | null | undefined)[], g => g ?? null)
    } else {
      next = [...this.currentGrades(promptId, evaluation)]
      const rows = Math.max(evaluation.progress.totalRows, next.length)
      for (const [key, grade] of Object.entries(grades)) {
        const row = /^\d+$/.test(key) ? Number(key) : rowIndexOf(evaluation.datasetId, key)
        if (row === undefined || row >= rows) {
          throw new RangeError(
            `row ${key} is not one of the ${rows} rows of dataset ${evaluation.datasetId}`
          )
        }
        while (next.length <= row) next.push(null)
        next[row] = grade
      }
    }
    for (const grade of next) {
      if (grade !== null && !ROW_OUTCOMES.includes(grade)) {
        throw new RangeError(
          `invalid row grade ${String(grade)}: one of ${ROW_OUTCOMES.join(', ')}`
        )
      }
    }
    const graded = v.parse(evaluationSchema, withRowGrades(evaluation, next))
    this.animations.get(promptId)?.delete(runId)
    this.explicitResults.get(promptId)?.delete(runId)
    Object.assign(evaluation, graded)
    let byRun = this.rowGradeSets.get(promptId)
    if (!byRun) this.rowGradeSets.set(promptId, (byRun = new Map()))
    byRun.set(runId, next)
    return clone(evaluation)
  }

  /**
   * Every row's grade in an evaluation now, by row index (null: not run yet): set by a test,
   * else from its lifecycle or its metrics. Results set with `setResults` are not looked at.
   */
  rowGrades(promptId: string, runId: string): RowGrades {
    this.tick(promptId)
    return [...this.currentGrades(promptId, this.find(promptId, runId))]
  }

  /**
   * Adds a baseline and a judged evaluation of one dataset with the row grades `plan` gives (see
   * `pairedEvaluations`), registering the prompt if needed. Answers them as the fake serves them.
   */
  addPairedEvaluations(promptId: string, plan: PairPlan): PairedEvaluations {
    const pair = pairedEvaluations(plan)
    if (!this.prompts.has(promptId)) this.addPrompt(promptId)
    this.addEvaluations(promptId, [pair.baseline, pair.judged])
    const baseline = this.setRowGrades(promptId, pair.baseline.runId, pair.baselineGrades)
    const judged = this.setRowGrades(promptId, pair.judged.runId, pair.judgedGrades)
    return { ...pair, baseline, judged }
  }

  /** Adds a fault; faults are consumed in order of injection, the first match wins. */
  inject(fault: Fault): void {
    const remaining = fault.times ?? 1
    if (!(remaining > 0)) throw new RangeError('fault.times must be > 0')
    this.faults.push({ ...fault, remaining })
  }

  /** Faults not yet used up. */
  get pendingFaults(): number {
    return this.faults.length
  }

  clearRequests(): void {
    this.requests.length = 0
  }

  /** Closes the server; hung and delayed requests are ended by destroying their connections. */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const [timer, resolve] of this.timers) {
      clearTimeout(timer)
      resolve()
    }
    this.timers.clear()
    const closing = new Promise<void>(resolve => this.server.close(() => resolve()))
    this.server.closeAllConnections()
    await closing
  }

  private find(promptId: string, runId: string): Evaluation {
    const evaluation = this.prompts.get(promptId)?.find(e => e.runId === runId)
    if (!evaluation) throw new Error(`unknown evaluation ${promptId}/${runId}`)
    return evaluation
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve()
    return new Promise(resolve => {
      const timer = setTimeout(() => {
        this.timers.delete(timer)
        resolve()
      }, ms)
      this.timers.set(timer, resolve)
    })
  }

  private takeFault(method: string, path: string): StoredFault | undefined {
    const index = this.faults.findIndex(fault => {
      if (fault.method && fault.method.toUpperCase() !== method) return false
      if (fault.path === undefined) return true
      if (typeof fault.path === 'string') return path.includes(fault.path)
      fault.path.lastIndex = 0
      return fault.path.test(path)
    })
    const fault = this.faults[index]
    if (!fault) return undefined
    fault.remaining -= 1
    if (fault.remaining <= 0) this.faults.splice(index, 1)
    return fault
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const started = performance.now()
    this.inFlight += 1
    this.peak = Math.max(this.peak, this.inFlight)
    let recorded: RecordedRequest | undefined
    res.once('close', () => {
      const answeredAt = performance.now()
      this.inFlight -= 1
      this.serving += answeredAt - started
      if (!recorded) return
      recorded.answeredAt = answeredAt
      if (res.headersSent) recorded.status = res.statusCode
    })
    try {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const method = (req.method ?? 'GET').toUpperCase()
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      recorded = {
        method,
        path: url.pathname,
        query: new URLSearchParams(url.search),
        headers: { ...req.headers },
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: started
      }
      this.requests.push(recorded)

      const fault = this.takeFault(method, url.pathname)
      // the limit is decided on arrival, for what would be served: a fault's own answer is not
      const answeredByFault =
        fault !== undefined &&
        (((fault.status !== undefined || fault.body !== undefined) && !fault.replaceAnswer) ||
          fault.reset === true ||
          fault.hang === true)
      const limited = !answeredByFault && this.bucket !== undefined && !this.bucket.take(started)
      await this.sleep(this.latencyMs)
      if (fault?.delayMs) await this.sleep(fault.delayMs)
      if (this.closed || res.destroyed) {
        req.socket.destroy()
        return
      }
      if (fault?.reset) {
        req.socket.resetAndDestroy()
        return
      }
      if (fault?.hang) return // ended by close()
      const extra = { ...this.bucket?.headers(performance.now()), ...fault?.headers }
      if (limited) {
        this.send(res, 429, errorBody(429, 'Rate limit exceeded for this workspace.'), extra)
        return
      }
      // built before the answer is sent, which is synchronous
      if (fault?.bomb) await compressionBomb(fault.bomb.encoding, fault.bomb.decodedBytes)
      const faultAnswers = fault && (fault.status !== undefined || fault.body !== undefined)
      if (faultAnswers && !fault.replaceAnswer) {
        this.sendFault(res, fault, recorded, extra)
        return
      }

      try {
        const { status, body } = this.route(
          method,
          url,
          req.headers,
          Buffer.concat(chunks).toString('utf8')
        )
        if (fault?.dropAnswer) {
          req.socket.resetAndDestroy()
          return
        }
        if (fault?.answerAfterMs) {
          await this.sleep(fault.answerAfterMs)
          if (this.closed || res.destroyed) {
            req.socket.destroy()
            return
          }
        }
        if (faultAnswers) this.sendFault(res, fault, recorded, extra)
        else this.send(res, status, body, extra, fault, recorded)
      } catch (error) {
        if (!(error instanceof HttpError)) throw error
        if (fault?.dropAnswer) {
          req.socket.resetAndDestroy()
          return
        }
        if (faultAnswers) {
          this.sendFault(res, fault, recorded, extra)
          return
        }
        this.send(
          res,
          error.status,
          { error: { code: error.code, message: error.message } },
          {
            ...error.headers,
            ...extra
          },
          fault,
          recorded
        )
      }
    } catch (error) {
      if (!res.headersSent && !res.destroyed) {
        this.send(res, 500, errorBody(500, `Fake Adaline failed: ${(error as Error).message}`), {})
      } else {
        res.destroy()
      }
    }
  }

  /** The fault's own answer: its status, and its body or the Adaline error for the status. */
  private sendFault(
    res: http.ServerResponse,
    fault: StoredFault,
    recorded: RecordedRequest,
    headers: Record<string, string>
  ): void {
    const status = fault.status ?? 200
    const given = typeof fault.body === 'function' ? fault.body(recorded) : fault.body
    const body = given !== undefined ? given : status >= 400 ? errorBody(status) : undefined
    this.send(res, status, body, headers, fault, recorded)
  }

  private send(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string>,
    shape: Fault = {},
    recorded?: RecordedRequest
  ): void {
    if (res.destroyed || res.writableEnded) return
    const bomb = shape.bomb && bombs.get(bombKey(shape.bomb.encoding, shape.bomb.decodedBytes))
    let bytes =
      body === undefined
        ? Buffer.alloc(0)
        : Buffer.isBuffer(body)
          ? body
          : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))
    const out: Record<string, string | number> = {}
    if (shape.bomb && bomb) {
      bytes = bomb
      out['content-encoding'] = shape.bomb.encoding
    } else if (shape.encoding) {
      bytes = compress(shape.encoding, bytes)
      out['content-encoding'] = shape.encoding
    }
    const chunked =
      shape.cutAfterBytes !== undefined || shape.endless || shape.dripEveryMs !== undefined
    if (!chunked) out['content-length'] = bytes.length
    if (body !== undefined) out['content-type'] = 'application/json; charset=utf-8'
    // the API's clock, as Adaline's answers carry it: a test that sets `now` sets this too
    out.date = new Date(this.now()).toUTCString()
    for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
    res.writeHead(status, out)
    if (shape.cutAfterBytes !== undefined) {
      // what was written reaches the client, then the connection closes without the last chunk
      res.write(bytes.subarray(0, shape.cutAfterBytes), () => res.socket?.destroy())
      return
    }
    if (shape.dripEveryMs !== undefined) {
      void this.drip(res, bytes, shape.dripEveryMs)
      return
    }
    if (shape.endless) {
      const filler = Buffer.isBuffer(shape.endless) ? shape.endless : Buffer.alloc(64 * 1024, ' ')
      void this.flood(res, bytes, filler, recorded)
      return
    }
    res.end(bytes)
  }

  /** Writes `bytes` one at a time, `everyMs` apart, until done or the client leaves. */
  private async drip(res: http.ServerResponse, bytes: Buffer, everyMs: number): Promise<void> {
    for (const byte of bytes) {
      if (res.destroyed || this.closed) return
      res.write(Buffer.of(byte))
      await this.sleep(everyMs)
    }
    if (!res.destroyed) res.end()
  }

  /** Writes `start`, then `filler` again and again, as fast as the client reads, until it closes or 1 GiB is sent. */
  private async flood(
    res: http.ServerResponse,
    start: Buffer,
    filler: Buffer,
    recorded?: RecordedRequest
  ): Promise<void> {
    let sent = 0
    const count = (n: number) => {
      sent += n
      if (recorded) recorded.sentBytes = sent
    }
    if (!res.write(start)) await once(res, 'drain', res)
    count(start.length)
    while (!res.destroyed && !this.closed && sent < 1024 ** 3) {
      const flowing = res.write(filler)
      count(filler.length)
      if (!flowing && !(await once(res, 'drain', res))) break
    }
    res.destroy()
  }

  private route(
    method: string,
    url: URL,
    headers: http.IncomingHttpHeaders,
    requestBody = ''
  ): { status: number; body: unknown } {
    if (headers.authorization !== `Bearer ${this.apiKey}`) {
      throw new HttpError(401, 'UNAUTHORIZED', 'Invalid or missing API key.')
    }
    const notFound = new HttpError(404, 'NOT_FOUND', `No route for ${method} ${url.pathname}.`)
    if (!url.pathname.startsWith(`${API_PREFIX}/`)) throw notFound
    let segments: string[]
    try {
      segments = url.pathname
        .slice(API_PREFIX.length + 1)
        .split('/')
        .map(decodeURIComponent)
    } catch {
      throw badQuery('Malformed URL encoding in path.')
    }
    const allow = (allowed: string): void => {
      if (!allowed.split(', ').includes(method)) {
        throw new HttpError(
          405,
          'METHOD_NOT_ALLOWED',
          `Method ${method} is not allowed on ${url.pathname}.`,
          { allow: allowed }
        )
      }
    }
    const [prompts, promptId, evaluations, evaluationId, action, ...rest] = segments
    if (prompts === 'prompts' && promptId !== undefined && evaluations === 'evaluators') {
      if (evaluationId !== undefined) throw notFound
      allow('GET')
      return { status: 200, body: this.evaluatorPage(promptId, url.searchParams) }
    }
    if (prompts !== 'prompts' || promptId === undefined || evaluations !== 'evaluations') {
      throw notFound
    }
    if (evaluationId === undefined) {
      allow('GET, POST')
      if (method === 'POST') {
        return { status: 202, body: this.create(promptId, url.searchParams, requestBody) }
      }
      return { status: 200, body: this.list(promptId, url.searchParams) }
    }
    if (action === 'results' && rest.length === 0) {
      allow('GET')
      return { status: 200, body: this.resultsPage(promptId, evaluationId, url.searchParams) }
    }
    if (action === undefined) {
      allow('GET')
      return { status: 200, body: this.getOne(promptId, evaluationId) }
    }
    if (action === 'cancel' && rest.length === 0) {
      allow('POST')
      return { status: 200, body: this.cancel(promptId, evaluationId) }
    }
    throw notFound
  }

  private runIndex(promptId: string, stored: Evaluation[]): Map<string, Evaluation> {
    let index = this.byRunId.get(promptId)
    if (!index) {
      index = new Map(stored.map(e => [e.runId, e]))
      this.byRunId.set(promptId, index)
    }
    return index
  }

  private promptEvaluations(promptId: string): Evaluation[] {
    const stored = this.prompts.get(promptId)
    if (!stored) throw new HttpError(404, 'NOT_FOUND', 'Prompt not found.')
    this.tick(promptId)
    return stored
  }

  private getOne(promptId: string, evaluationId: string): Evaluation {
    checkId('promptId', promptId)
    checkId('evaluationId', evaluationId)
    const evaluation = this.promptEvaluations(promptId).find(e => e.runId === evaluationId)
    if (!evaluation) throw new HttpError(404, 'NOT_FOUND', 'Evaluation not found.')
    return clone(evaluation)
  }

  private cancel(promptId: string, evaluationId: string): Evaluation {
    checkId('promptId', promptId)
    checkId('evaluationId', evaluationId)
    const evaluation = this.promptEvaluations(promptId).find(e => e.runId === evaluationId)
    if (!evaluation) throw new HttpError(404, 'NOT_FOUND', 'Evaluation not found.')
    const animated = this.animations.get(promptId)?.get(evaluationId)
    if (animated) return this.cancelAnimated(animated)
    if (!IN_FLIGHT.includes(evaluation.status)) {
      throw new HttpError(409, 'CONFLICT', `Evaluation is already ${evaluation.status}.`)
    }
    evaluation.status = 'cancelling'
    return clone(evaluation)
  }

  private parseListQuery(query: URLSearchParams): {
    filters: Filters
    filterKey: string
    limit: number
    cursor?: string
  } {
    const seen = new Set<string>()
    for (const name of query.keys()) {
      if (!(LIST_PARAMS as readonly string[]).includes(name)) {
        throw badQuery(`Unknown query parameter '${name}'.`)
      }
      if (seen.has(name)) throw badQuery(`Query parameter '${name}' may be given only once.`)
      seen.add(name)
    }
    const get = (name: string): string | undefined => query.get(name) ?? undefined
    const filters: Filters = { sort: 'createdAt:desc' }

    const status = get('status')
    if (status !== undefined) {
      if (!(EVALUATION_STATUSES as readonly string[]).includes(status)) {
        throw badQuery(
          `Invalid query parameter 'status': must be one of ${EVALUATION_STATUSES.join(', ')}.`
        )
      }
      filters.status = status as EvaluationStatus
    }
    for (const name of ['evaluatorId', 'datasetId'] as const) {
      const value = get(name)
      if (value === undefined) continue
      if (!isId(value)) {
        throw badQuery(
          `Invalid query parameter '${name}': must be between ${ID_MIN} and ${ID_MAX} characters.`
        )
      }
      filters[name] = value
    }
    const sort = get('sort')
    if (sort !== undefined) {
      if (!(SORTS as readonly string[]).includes(sort)) {
        throw badQuery(`Invalid query parameter 'sort': must be one of ${SORTS.join(', ')}.`)
      }
      filters.sort = sort as Filters['sort']
    }
    for (const name of ['createdAfter', 'createdBefore'] as const) {
      const text = get(name)
      if (text === undefined) continue
      const value = parseNonNegativeInteger(text)
      if (value === undefined) {
        throw badQuery(`Invalid query parameter '${name}': must be a non-negative integer.`)
      }
      filters[name] = value
    }
    const { limit, cursor } = this.pageParams(query)
    const filterKey = FILTER_PARAMS.map(name => `${name}=${get(name) ?? ''}`).join('&')
    return { filters, filterKey, limit, cursor }
  }

  private list(promptId: string, query: URLSearchParams): unknown {
    checkId('promptId', promptId)
    const { filters, filterKey, limit, cursor } = this.parseListQuery(query)
    const stored = this.promptEvaluations(promptId)
    const matches = (e: Evaluation): boolean =>
      (filters.status === undefined || e.status === filters.status) &&
      (filters.evaluatorId === undefined || e.evaluatorId === filters.evaluatorId) &&
      (filters.datasetId === undefined || e.datasetId === filters.datasetId) &&
      (filters.createdAfter === undefined || e.timeline.submittedAt >= filters.createdAfter) &&
      (filters.createdBefore === undefined || e.timeline.submittedAt < filters.createdBefore)

    let snapshot: string[]
    let offset: number
    if (cursor === undefined) {
      const direction = filters.sort === 'createdAt:asc' ? 1 : -1
      snapshot = stored
        .filter(matches)
        .sort(
          (a, b) =>
            direction *
            (a.timeline.submittedAt - b.timeline.submittedAt ||
              (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0))
        )
        .map(e => e.runId)
      offset = 0
    } else {
      const saved = this.cursors.get(cursor)
      if (!saved || saved.promptId !== promptId || saved.filterKey !== filterKey) {
        throw new HttpError(
          400,
          'INVALID_CURSOR',
          'Invalid cursor: unknown, or issued for another prompt or other filters.'
        )
      }
      snapshot = saved.snapshot
      offset = saved.offset
    }

    // Page boundaries follow the snapshot taken on the first page, so a change between pages
    // never shifts an evaluation off a page; an evaluation that no longer matches is left out.
    const byId = this.runIndex(promptId, stored)
    const page = snapshot
      .slice(offset, offset + limit)
      .map(runId => byId.get(runId))
      .filter((e): e is Evaluation => e !== undefined && matches(e))
      .map(clone)
    const next = offset + limit
    const hasMore = next < snapshot.length
    let nextCursor: string | null = null
    if (hasMore) {
      nextCursor = randomBytes(18).toString('base64url')
      this.cursors.set(nextCursor, { promptId, filterKey, snapshot, offset: next })
    }
    return {
      evaluations: page,
      pagination: { limit, returned: page.length, hasMore, nextCursor }
    }
  }

  /** Writes the clock's state into each of the prompt's evaluations that follow a lifecycle. */
  private tick(promptId: string): void {
    const animated = this.animations.get(promptId)
    if (!animated || animated.size === 0) return
    const now = this.now()
    for (const animation of animated.values()) {
      applyState(animation.target, lifecycleState(animation, now))
    }
  }

  private cancelAnimated(animation: AnimatedEvaluation): Evaluation {
    const now = this.now()
    const state = lifecycleState(animation, now)
    applyState(animation.target, state)
    if (!IN_FLIGHT.includes(state.status)) {
      throw new HttpError(409, 'CONFLICT', `Evaluation is already ${state.status}.`)
    }
    animation.cancelAt = now
    applyState(animation.target, lifecycleState(animation, now))
    return clone(animation.target)
  }

  /** POST /prompts/{promptId}/evaluations: a new evaluation, queued, on the prompt's lifecycle. */
  private create(promptId: string, query: URLSearchParams, text: string): Evaluation {
    checkId('promptId', promptId)
    for (const name of query.keys()) throw badQuery(`Unknown query parameter '${name}'.`)
    const fields = parseStartBody(text)
    const stored = this.promptEvaluations(promptId)
    const settings = this.promptOptions.get(promptId)
    const newest = stored.reduce<Evaluation | undefined>(
      (found, e) => (!found || e.timeline.submittedAt >= found.timeline.submittedAt ? e : found),
      undefined
    )
    const plan = resolveLifecycle(this.lifecycle, settings?.lifecycle)
    let runId: string
    do {
      this.startedCount += 1
      runId = fakeId('run', 900_000 + this.startedCount)
    } while (stored.some(e => e.runId === runId))
    const submittedAt = this.now()
    this.addEvaluations(promptId, [
      {
        runId,
        evaluatorId:
          fields.evaluatorId ??
          settings?.defaultEvaluatorId ??
          newest?.evaluatorId ??
          fakeId('evl', 1),
        status: 'queued',
        progress: { totalRows: plan.totalRows, completedRows: 0, failedRows: 0, percent: 0 },
        metrics: {
          passRuns: 0,
          failRuns: 0,
          unknownRuns: 0,
          totalCost: 0,
          totalLatency: 0,
          totalTokenCount: 0
        },
        timeline: { submittedAt, startedAt: null, finishedAt: null },
        datasetId:
          fields.datasetId ?? settings?.defaultDatasetId ?? newest?.datasetId ?? fakeId('dst', 1)
      }
    ])
    const target = this.find(promptId, runId)
    const animation: AnimatedEvaluation = {
      target,
      startAt: submittedAt,
      plan,
      seed: hash32(runId)
    }
    let animated = this.animations.get(promptId)
    if (!animated) this.animations.set(promptId, (animated = new Map()))
    animated.set(runId, animation)
    applyState(target, lifecycleState(animation, submittedAt))
    return clone(target)
  }

  /** Every result the evaluation serves now, with rows, in stored or row order. */
  private allResults(promptId: string, evaluation: Evaluation): Result[] {
    const explicit = this.explicitResults.get(promptId)?.get(evaluation.runId)
    if (explicit) return explicit
    const animation = this.animations.get(promptId)?.get(evaluation.runId)
    let seeds
    if (animation) {
      const state = lifecycleState(animation, this.now())
      applyState(animation.target, state) // the metrics agree with the results served
      seeds = seedsFromState(state)
    } else {
      return this.resultsFromGrades(promptId, evaluation)
    }
    return seeds.map(seed => makeResult(evaluation.runId, evaluation.datasetId, seed))
  }

  /** The results of an evaluation's grades, built once while it stays the same. */
  private resultsFromGrades(promptId: string, evaluation: Evaluation): Result[] {
    const grades = this.currentGrades(promptId, evaluation)
    const { runId, datasetId, metrics, timeline } = evaluation
    const key = JSON.stringify([runId, datasetId, metrics, timeline])
    const memo = this.resultsMemo.get(grades)
    if (memo?.key === key) return memo.results
    const results = seedsFromGrades(evaluation, grades).map(seed =>
      makeResult(runId, datasetId, seed)
    )
    this.resultsMemo.set(grades, { key, results })
    return results
  }

  /** An evaluation's row grades: set by a test, else from its lifecycle, else from its metrics. */
  private currentGrades(promptId: string, evaluation: Evaluation): RowGrades {
    const set = this.rowGradeSets.get(promptId)?.get(evaluation.runId)
    if (set) return set
    const animation = this.animations.get(promptId)?.get(evaluation.runId)
    if (animation) return gradesFromState(lifecycleState(animation, this.now()))
    const { outcome } = resolveLifecycle(
      this.lifecycle,
      this.promptOptions.get(promptId)?.lifecycle
    )
    const { datasetId, evaluatorId, metrics: m, progress } = evaluation
    const counts = [m.passRuns, m.failRuns, m.unknownRuns, progress.failedRows]
    const key = JSON.stringify([datasetId, evaluatorId, ...counts])
    const memoKey = `${promptId}/${evaluation.runId}`
    const memo = this.derivedMemo.get(memoKey)
    if (memo?.key === key && memo.outcome === outcome) return memo.grades
    const grades = derivedGrades(evaluation, outcome)
    this.derivedMemo.set(memoKey, { key, outcome, grades })
    return grades
  }

  /** Drops grades a test set once the evaluation no longer agrees with them (or was renamed). */
  private forgetStaleGrades(promptId: string, runId: string, evaluation: Evaluation): void {
    const byRun = this.rowGradeSets.get(promptId)
    const grades = byRun?.get(runId)
    if (grades && (evaluation.runId !== runId || !gradesAgree(evaluation, grades))) {
      byRun!.delete(runId)
    }
  }

  /** What the evaluations of a prompt say of its evaluators (and of its default evaluator). */
  private derivedEvaluators(promptId: string): Evaluator[] {
    const defaultId = this.promptOptions.get(promptId)?.defaultEvaluatorId
    return evaluatorsOf(promptId, this.prompts.get(promptId) ?? [], [defaultId])
  }

  private listedEvaluators(promptId: string): Evaluator[] {
    return this.evaluatorLists.get(promptId) ?? this.derivedEvaluators(promptId)
  }

  /** GET /prompts/{promptId}/evaluators: the same query and cursor rules as the listing. */
  private evaluatorPage(promptId: string, query: URLSearchParams): unknown {
    checkId('promptId', promptId)
    checkQueryNames(query, EVALUATOR_PARAMS)
    const { limit, cursor } = this.pageParams(query)
    this.promptEvaluations(promptId) // 404 for an unknown prompt; lifecycles up to date
    const listed = this.listedEvaluators(promptId)

    let snapshot: string[]
    let offset: number
    if (cursor === undefined) {
      snapshot = listed.map(evaluator => evaluator.id)
      offset = 0
    } else {
      const saved = this.evaluatorCursors.get(cursor)
      if (!saved || saved.promptId !== promptId) {
        throw new HttpError(
          400,
          'INVALID_CURSOR',
          'Invalid cursor: unknown, or issued for another prompt.'
        )
      }
      snapshot = saved.snapshot
      offset = saved.offset
    }
    // as with the listing, pages follow the first page's snapshot; one gone since is left out
    const byId = new Map(listed.map(evaluator => [evaluator.id, evaluator]))
    const page = snapshot
      .slice(offset, offset + limit)
      .flatMap(id => (byId.has(id) ? [clone(byId.get(id)!)] : []))
    const next = offset + limit
    const hasMore = next < snapshot.length
    let nextCursor: string | null = null
    if (hasMore) {
      nextCursor = randomBytes(18).toString('base64url')
      this.evaluatorCursors.set(nextCursor, { promptId, snapshot, offset: next })
    }
    const body = {
      evaluators: page,
      pagination: { limit, returned: page.length, hasMore, nextCursor }
    }
    const checked = v.safeParse(evaluatorPageSchema, body) // the fake never serves a bad page
    if (!checked.success) throw new Error(`evaluator page: ${checked.issues[0].message}`)
    return body
  }

  /** `limit` (1..200, default the page size) and `cursor` (not empty), as lists and results take them. */
  private pageParams(query: URLSearchParams): { limit: number; cursor?: string } {
    let limit = this.defaultPageSize
    const limitText = query.get('limit') ?? undefined
    if (limitText !== undefined) {
      const value = parseNonNegativeInteger(limitText)
      if (value === undefined || value < 1 || value > MAX_PAGE_SIZE) {
        throw badQuery(
          `Invalid query parameter 'limit': must be an integer between 1 and ${MAX_PAGE_SIZE}.`
        )
      }
      limit = value
    }
    const cursor = query.get('cursor') ?? undefined
    if (cursor !== undefined && cursor.length === 0) {
      throw badQuery(`Invalid query parameter 'cursor': must not be empty.`)
    }
    return { limit, cursor }
  }

  private parseResultsQuery(query: URLSearchParams): {
    grade?: Grade
    expand: boolean
    sort: Filters['sort']
    limit: number
    cursor?: string
    filterKey: string
  } {
    const seen = new Set<string>()
    for (const name of query.keys()) {
      if (!(RESULT_PARAMS as readonly string[]).includes(name)) {
        throw badQuery(`Unknown query parameter '${name}'.`)
      }
      if (seen.has(name)) throw badQuery(`Query parameter '${name}' may be given only once.`)
      seen.add(name)
    }
    const get = (name: string): string | undefined => query.get(name) ?? undefined
    const grade = get('grade')
    if (grade !== undefined && !(GRADES as readonly string[]).includes(grade)) {
      throw badQuery(`Invalid query parameter 'grade': must be one of ${GRADES.join(', ')}.`)
    }
    const expand = get('expand')
    if (expand !== undefined && expand !== 'row') {
      throw badQuery(`Invalid query parameter 'expand': the only expansion is 'row'.`)
    }
    const sort = get('sort') ?? 'createdAt:asc'
    if (!(SORTS as readonly string[]).includes(sort)) {
      throw badQuery(`Invalid query parameter 'sort': must be one of ${SORTS.join(', ')}.`)
    }
    const { limit, cursor } = this.pageParams(query)
    return {
      grade: grade as Grade | undefined,
      expand: expand === 'row',
      sort: sort as Filters['sort'],
      limit,
      cursor,
      filterKey: `grade=${grade ?? ''}&sort=${sort}`
    }
  }

  /** GET /prompts/{promptId}/evaluations/{evaluationId}/results */
  private resultsPage(promptId: string, evaluationId: string, query: URLSearchParams): unknown {
    checkId('promptId', promptId)
    checkId('evaluationId', evaluationId)
    const { grade, expand, sort, limit, cursor, filterKey } = this.parseResultsQuery(query)
    const evaluation = this.promptEvaluations(promptId).find(e => e.runId === evaluationId)
    if (!evaluation) throw new HttpError(404, 'NOT_FOUND', 'Evaluation not found.')
    const all = this.allResults(promptId, evaluation)

    let snapshot: string[]
    let offset: number
    if (cursor === undefined) {
      const direction = sort === 'createdAt:asc' ? 1 : -1
      snapshot = all
        .filter(r => grade === undefined || r.grade === grade)
        .sort(
          (a, b) =>
            direction *
            ((a.createdAt ?? 0) - (b.createdAt ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
        )
        .map(r => r.id)
      offset = 0
    } else {
      const saved = this.resultCursors.get(cursor)
      if (
        !saved ||
        saved.promptId !== promptId ||
        saved.runId !== evaluationId ||
        saved.filterKey !== filterKey
      ) {
        throw new HttpError(
          400,
          'INVALID_CURSOR',
          'Invalid cursor: unknown, or issued for another evaluation or other filters.'
        )
      }
      snapshot = saved.snapshot
      offset = saved.offset
    }
    let byId = this.resultIndex.get(all)
    if (!byId) this.resultIndex.set(all, (byId = new Map(all.map(r => [r.id, r]))))
    const page = snapshot
      .slice(offset, offset + limit)
      .map(id => byId.get(id))
      .filter((r): r is Result => r !== undefined)
      .map(result => {
        const { row, ...rest } = clone(result)
        return expand ? { ...rest, row: row ?? null } : rest
      })
    const next = offset + limit
    const hasMore = next < snapshot.length
    let nextCursor: string | null = null
    if (hasMore) {
      nextCursor = randomBytes(18).toString('base64url')
      this.resultCursors.set(nextCursor, {
        promptId,
        runId: evaluationId,
        filterKey,
        snapshot,
        offset: next
      })
    }
    return {
      results: page,
      pagination: { limit, returned: page.length, hasMore, nextCursor }
    }
  }
}

/** The body of a start: a JSON object with at most `evaluatorId` and `datasetId` (an empty body is `{}`). */
function parseStartBody(text: string): { evaluatorId?: string; datasetId?: string } {
  if (text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'BAD_REQUEST', 'Invalid JSON in request body.')
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'BAD_REQUEST', 'The request body must be a JSON object.')
  }
  const fields: { evaluatorId?: string; datasetId?: string } = {}
  for (const [name, field] of Object.entries(value)) {
    if (!(START_FIELDS as readonly string[]).includes(name)) {
      throw new HttpError(400, 'BAD_REQUEST', `Unknown field '${name}' in request body.`)
    }
    if (typeof field !== 'string' || !isId(field)) {
      throw new HttpError(
        400,
        'BAD_REQUEST',
        `Invalid field '${name}': must be a string between ${ID_MIN} and ${ID_MAX} characters.`
      )
    }
    fields[name as (typeof START_FIELDS)[number]] = field
  }
  return fields
}

/** A deterministic ID of 20..80 characters: `fakeId('prm', 1)` → `prm_00000000000000000001`. */
export function fakeId(kind: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer`)
  const id = `${kind}_${String(n).padStart(20, '0')}`
  if (id.length > ID_MAX) throw new RangeError(`fakeId kind too long: ${kind}`)
  return id
}

export interface EvaluationFields {
  /** Seeds the default IDs: runId `fakeId('run', n)`. Default 1. */
  n?: number
  runId?: string
  evaluatorId?: string
  /** Default `fakeId('dst', 1)`; null is kept as null. */
  datasetId?: string | null
  status?: EvaluationStatus
  /** Shortcut for timeline.submittedAt; default 1_750_000_000_000 + n minutes. */
  submittedAt?: number
  /** Shortcuts for metrics.passRuns / failRuns / unknownRuns. */
  pass?: number
  fail?: number
  unknown?: number
  /** Shortcut for metrics.totalCost (USD). */
  cost?: number
  /** Average latency per run in ms, used for the default metrics.totalLatency (default 850). */
  avgLatencyMs?: number
  progress?: Partial<Evaluation['progress']>
  metrics?: Partial<Evaluation['metrics']>
  timeline?: Partial<Evaluation['timeline']>
}

const BASE_TIME = 1_750_000_000_000

function round(value: number, digits: number): number {
  const factor = 10 ** digits
  return Math.round(value * factor) / factor
}

/**
 * A complete, valid Evaluation with defaults that agree with its status (a queued one has no
 * runs and no startedAt, a completed one is at 100 % with finishedAt, ...). `progress`, `metrics`
 * and `timeline` are merged over the defaults field by field.
 */
export function makeEvaluation(fields: EvaluationFields = {}): Evaluation {
  const n = fields.n ?? 1
  const status = fields.status ?? 'completed'
  const submittedAt = fields.timeline?.submittedAt ?? fields.submittedAt ?? BASE_TIME + n * 60_000
  const started = status !== 'queued'
  const finished = status === 'completed' || status === 'failed' || status === 'cancelled'

  // default runs by status, out of 10 rows
  const defaults: Record<EvaluationStatus, [number, number, number, number]> = {
    // pass, fail, unknown, failedRows
    queued: [0, 0, 0, 0],
    running: [3, 1, 0, 0],
    completed: [8, 1, 1, 0],
    failed: [2, 1, 0, 3],
    cancelling: [4, 1, 0, 0],
    cancelled: [4, 1, 1, 0]
  }
  const [dPass, dFail, dUnknown, dFailedRows] = defaults[status]
  const passRuns = fields.metrics?.passRuns ?? fields.pass ?? dPass
  const failRuns = fields.metrics?.failRuns ?? fields.fail ?? dFail
  const unknownRuns = fields.metrics?.unknownRuns ?? fields.unknown ?? dUnknown
  const runs = passRuns + failRuns + unknownRuns
  const failedRows = fields.progress?.failedRows ?? dFailedRows
  const completedRows = fields.progress?.completedRows ?? runs
  const totalRows =
    fields.progress?.totalRows ??
    (status === 'completed' ? completedRows + failedRows : Math.max(10, completedRows + failedRows))
  const percent =
    fields.progress?.percent ??
    (totalRows === 0
      ? finished
        ? 100
        : 0
      : round(((completedRows + failedRows) / totalRows) * 100, 1))

  const avgLatency = fields.avgLatencyMs ?? 850
  const startedAt = started ? submittedAt + 1_500 : null
  const finishedAt = finished && startedAt !== null ? startedAt + Math.max(1, runs) * 1_200 : null

  const evaluation: Evaluation = {
    runId: fields.runId ?? fakeId('run', n),
    evaluatorId: fields.evaluatorId ?? fakeId('evl', 1),
    status,
    progress: {
      ...fields.progress,
      totalRows,
      completedRows,
      failedRows,
      percent: Math.min(100, percent)
    },
    metrics: {
      ...fields.metrics,
      passRuns,
      failRuns,
      unknownRuns,
      totalCost: fields.metrics?.totalCost ?? fields.cost ?? round(runs * 0.00421, 6),
      totalLatency: fields.metrics?.totalLatency ?? runs * avgLatency,
      totalTokenCount: fields.metrics?.totalTokenCount ?? runs * 1_240
    },
    timeline: { startedAt, finishedAt, ...fields.timeline, submittedAt }
  }
  const datasetId = fields.datasetId === undefined ? fakeId('dst', 1) : fields.datasetId
  evaluation.datasetId = datasetId
  return v.parse(evaluationSchema, evaluation)
}

/** A baseline and a judged evaluation of one dataset, and which of its rows do what in each. */
export interface PairPlan {
  /** Rows in the dataset; both evaluations ran them all (completed). */
  rows: number
  /** Indices of the rows that fail in the baseline, and now (in the judged evaluation). */
  baselineFails?: readonly number[]
  nowFails?: readonly number[]
  /** Rows whose grade is unknown. */
  baselineUnknown?: readonly number[]
  nowUnknown?: readonly number[]
  /** Rows that failed to run, so they have no result: present on the other side only. */
  baselineErrors?: readonly number[]
  nowErrors?: readonly number[]
  /** Default `fakeId('evl', 1)` and `fakeId('dst', 1)`. */
  evaluatorId?: string
  datasetId?: string
  /** Default `fakeId('run_baseline', 1)`, `fakeId('run_judged', 1)`; a second pair needs others. */
  baselineRunId?: string
  runId?: string
  /** When the judged evaluation was submitted (default like makeEvaluation's n = 2). */
  submittedAt?: number
  /** Default a day before `submittedAt`. */
  baselineSubmittedAt?: number
}

export interface PairedEvaluations {
  /** completed, submitted before the judged one: the baseline the action would pick */
  baseline: Evaluation
  judged: Evaluation
  /** every row's grade by row index, as `setRowGrades` takes them */
  baselineGrades: RowOutcome[]
  judgedGrades: RowOutcome[]
  /** row IDs of the rows that pass in the baseline and fail now, and the other way round */
  newlyFailing: string[]
  newlyPassing: string[]
}

/**
 * A baseline and a judged evaluation of one dataset that pair row by row: every row passes but
 * those the plan says fail, are unknown or error. E.g. `{ rows: 200, baselineFails: [1],
 * nowFails: [1, 2, 3] }`: rows 2 and 3 newly fail, none newly pass. Rows out of range or in two
 * lists of one side are refused. `fake.addPairedEvaluations` adds them with their grades.
 */
export function pairedEvaluations(plan: PairPlan): PairedEvaluations {
  if (!Number.isSafeInteger(plan.rows) || plan.rows < 0) {
    throw new RangeError('rows must be an integer >= 0')
  }
  const grades = (side: string, lists: [RowOutcome, readonly number[] | undefined][]) => {
    const out = Array<RowOutcome>(plan.rows).fill('pass')
    const named = new Set<number>()
    for (const [grade, rows] of lists) {
      for (const row of rows ?? []) {
        if (!Number.isSafeInteger(row) || row < 0 || row >= plan.rows) {
          throw new RangeError(`${side} row ${row} is not one of the ${plan.rows} rows`)
        }
        if (named.has(row)) throw new RangeError(`${side} row ${row} is given two grades`)
        named.add(row)
        out[row] = grade
      }
    }
    return out
  }
  const baselineGrades = grades('baseline', [
    ['fail', plan.baselineFails],
    ['unknown', plan.baselineUnknown],
    ['error', plan.baselineErrors]
  ])
  const judgedGrades = grades('judged', [
    ['fail', plan.nowFails],
    ['unknown', plan.nowUnknown],
    ['error', plan.nowErrors]
  ])
  const datasetId = plan.datasetId ?? fakeId('dst', 1)
  const submittedAt = plan.submittedAt ?? BASE_TIME + 2 * 60_000
  const build = (runId: string, at: number, side: RowOutcome[]): Evaluation => {
    const count = (grade: RowOutcome) => side.filter(g => g === grade).length
    return makeEvaluation({
      runId,
      evaluatorId: plan.evaluatorId ?? fakeId('evl', 1),
      datasetId,
      status: 'completed',
      submittedAt: at,
      pass: count('pass'),
      fail: count('fail'),
      unknown: count('unknown'),
      progress: { totalRows: plan.rows, failedRows: count('error') }
    })
  }
  const rowIds = (from: RowOutcome, to: RowOutcome) =>
    baselineGrades.flatMap((was, row) =>
      was === from && judgedGrades[row] === to ? [rowIdOf(datasetId, row)] : []
    )
  return {
    baseline: build(
      plan.baselineRunId ?? fakeId('run_baseline', 1),
      plan.baselineSubmittedAt ?? submittedAt - 24 * 60 * 60_000,
      baselineGrades
    ),
    judged: build(plan.runId ?? fakeId('run_judged', 1), submittedAt, judgedGrades),
    baselineGrades,
    judgedGrades,
    newlyFailing: rowIds('pass', 'fail'),
    newlyPassing: rowIds('fail', 'pass')
  }
}

/**
 * Realistic demo data: two prompts, an evaluator for each (a correctness judge titled "Ticket
 * category is correct (LLM judge)" and a tone judge titled "Tone matches brand guide"), one shared
 * dataset of 40 rows, and 12 evaluations over the last days in every status,
 * with USD costs, millisecond latencies, token counts and pass/fail/unknown runs.
 *
 * Each prompt also comes with `options` for `addPrompt`: an evaluation started on it runs the 40
 * rows in ~5 s (0.6 s queued, 110 ms a row). On the triage prompt 36 of 40 rows pass (3 fail, 1
 * unknown); on the reply drafter 30 pass, 7 fail, 2 are unknown and 1 errors.
 */
export function sampleWorkspace(
  now: number
): { promptId: string; evaluations: Evaluation[]; options: PromptOptions }[] {
  const minute = 60_000
  const hour = 60 * minute
  const day = 24 * hour
  const dataset = fakeId('dst_support_tickets', 1)
  const rows = 40

  // status, submitted ago, pass, fail, unknown, failed rows, ms per run, USD per run, tokens per run
  type Spec = [EvaluationStatus, number, number, number, number, number, number, number, number]
  const build = (evaluatorId: string, first: number, specs: Spec[]): Evaluation[] =>
    specs.map((spec, index) => {
      const [status, ago, pass, fail, unknown, failedRows, msPerRun, usdPerRun, tokensPerRun] = spec
      const runs = pass + fail + unknown
      const finished = status === 'completed' || status === 'failed' || status === 'cancelled'
      const submittedAt = now - ago
      const startedAt = status === 'queued' ? null : submittedAt + 2_300 + index * 410
      const duration = Math.round(((runs + failedRows) * msPerRun) / 5) + 3_100
      return makeEvaluation({
        n: first + index,
        evaluatorId,
        datasetId: dataset,
        status,
        pass,
        fail,
        unknown,
        progress: {
          totalRows: rows,
          completedRows: runs,
          failedRows,
          percent: status === 'completed' ? 100 : round(((runs + failedRows) / rows) * 100, 1)
        },
        metrics: {
          totalCost: round(runs * usdPerRun, 4),
          totalLatency: Math.round(runs * msPerRun),
          totalTokenCount: runs * tokensPerRun
        },
        timeline: {
          submittedAt,
          startedAt,
          finishedAt: finished && startedAt !== null ? startedAt + duration : null
        }
      })
    })

  // prettier-ignore
  const triage = build(fakeId('evl_correctness', 1), 1, [
    ['completed',  3 * day,     34, 4, 2, 0, 1_184,   0.001053, 1_312],
    ['completed',  26 * hour,   36, 3, 1, 0, 1_102.5, 0.001047, 1_298],
    ['failed',     5 * hour,     9, 2, 0, 6, 2_310,   0.00109,  1_305],
    ['completed',  47 * minute, 31, 7, 2, 0, 1_243,   0.001061, 1_327],
    ['cancelled',  31 * minute, 12, 1, 0, 0, 1_190,   0.00105,  1_301],
    ['running',    9 * minute,  17, 2, 1, 0, 1_121,   0.001049, 1_310],
    ['queued',     2 * minute,   0, 0, 0, 0, 0,       0,        0]
  ])
  // prettier-ignore
  const replies = build(fakeId('evl_tone', 2), 101, [
    ['completed',  2 * day,     38, 1, 1, 0, 640,     0.000412, 702],
    ['completed',  54 * minute, 35, 5, 0, 0, 655.25,  0.000418, 711],
    ['cancelling', 22 * minute,  8, 0, 1, 0, 671,     0.000415, 706],
    ['running',    6 * minute,   5, 1, 0, 0, 648,     0.000409, 698],
    ['queued',     1 * minute,   0, 0, 0, 0, 0,       0,        0]
  ])
  return [
    {
      promptId: fakeId('prm_ticket_triage', 1),
      evaluations: triage,
      options: {
        defaultEvaluatorId: fakeId('evl_correctness', 1),
        defaultDatasetId: dataset,
        evaluators: [
          {
            id: fakeId('evl_correctness', 1),
            title: 'Ticket category is correct (LLM judge)',
            datasetId: dataset
          }
        ],
        lifecycle: {
          ...SAMPLE_LIFECYCLE,
          outcome: sampleTriageOutcome,
          rowCost: 0.00105,
          rowLatencyMs: 1180,
          rowTokens: 1310
        }
      }
    },
    {
      promptId: fakeId('prm_reply_drafter', 2),
      evaluations: replies,
      options: {
        defaultEvaluatorId: fakeId('evl_tone', 2),
        defaultDatasetId: dataset,
        evaluators: [
          { id: fakeId('evl_tone', 2), title: 'Tone matches brand guide', datasetId: dataset }
        ],
        lifecycle: {
          ...SAMPLE_LIFECYCLE,
          outcome: sampleReplyOutcome,
          rowCost: 0.00041,
          rowLatencyMs: 650,
          rowTokens: 705
        }
      }
    }
  ]
}

const SAMPLE_LIFECYCLE = { totalRows: 40, queuedMs: 600, rowMs: 110 } as const

/** 36 of 40 pass: rows 5, 18 and 31 fail, row 22 is unknown. */
function sampleTriageOutcome(row: number): RowOutcome {
  if (row % 13 === 5) return 'fail'
  return row === 22 ? 'unknown' : 'pass'
}

/** 30 of 40 pass: every 6th row from row 2 fails, rows 9 and 29 are unknown, row 17 errors. */
function sampleReplyOutcome(row: number): RowOutcome {
  if (row % 6 === 2) return 'fail'
  if (row % 20 === 9) return 'unknown'
  return row === 17 ? 'error' : 'pass'
}

/** Resolves true on `event`, false once `res` closes first. */
function once(
  emitter: NodeJS.EventEmitter,
  event: string,
  res: http.ServerResponse
): Promise<boolean> {
  return new Promise(resolve => {
    if (res.destroyed) return resolve(false)
    const done = (value: boolean) => {
      emitter.off(event, onEvent)
      res.off('close', onClose)
      resolve(value)
    }
    const onEvent = () => done(true)
    const onClose = () => done(false)
    emitter.on(event, onEvent)
    res.on('close', onClose)
  })
}

function compress(encoding: ContentCoding, bytes: Buffer): Buffer {
  if (encoding === 'gzip') return zlib.gzipSync(bytes)
  if (encoding === 'deflate') return zlib.deflateSync(bytes)
  return zlib.brotliCompressSync(bytes)
}

const MIB = 1024 * 1024
const bombs = new Map<string, Buffer>()
const bombKey = (encoding: ContentCoding, decodedBytes: number) =>
  `${encoding}:${Math.max(1, Math.ceil(decodedBytes / MIB))}`

/**
 * Compressed zero bytes that decode to `decodedBytes` (rounded up to whole MiB), built without
 * ever holding them decoded: gzip as one member per MiB (a gzip stream may hold many); deflate as
 * one flushed block per MiB inside a single zlib stream; brotli by streaming the zeros through.
 */
export async function compressionBomb(
  encoding: ContentCoding,
  decodedBytes: number
): Promise<Buffer> {
  const mebibytes = Math.max(1, Math.ceil(decodedBytes / MIB))
  const key = bombKey(encoding, decodedBytes)
  const kept = bombs.get(key)
  if (kept) return kept
  const zeros = Buffer.alloc(MIB)
  let bomb: Buffer
  if (encoding === 'gzip') {
    bomb = Buffer.concat(Array(mebibytes).fill(zlib.gzipSync(zeros, { level: 9 })))
  } else if (encoding === 'deflate') {
    // a zlib header, the same byte-aligned block per MiB, a last empty block, then the Adler-32 of
    // the zeros (a = 1, b = the length, both mod 65521)
    const block = zlib.deflateRawSync(zeros, {
      level: 9,
      finishFlush: zlib.constants.Z_FULL_FLUSH
    })
    const adler = Buffer.alloc(4)
    adler.writeUInt32BE((((mebibytes * MIB) % 65521) * 65536 + 1) >>> 0)
    bomb = Buffer.concat([
      Buffer.from([0x78, 0xda]),
      ...Array<Buffer>(mebibytes).fill(block),
      Buffer.from([0x03, 0x00]),
      adler
    ])
  } else {
    const encoder = zlib.createBrotliCompress({
      params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 1 }
    })
    const parts: Buffer[] = []
    encoder.on('data', (chunk: Buffer) => parts.push(chunk))
    const done = new Promise(resolve => encoder.on('end', resolve))
    for (let i = 0; i < mebibytes; i += 1) {
      if (!encoder.write(zeros)) await new Promise(resolve => encoder.once('drain', resolve))
    }
    encoder.end()
    await done
    bomb = Buffer.concat(parts)
  }
  bombs.set(key, bomb)
  return bomb
}

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
 *   `sort`, `limit`, `cursor`), results that agree with the evaluation's metrics;
 * - any other path 404, a known path with another method 405.
 *
 * Faults (`inject`) are matched before anything else, including auth, so any request can fail.
 * With `rateLimit`, one token bucket serves every request to the server, as Adaline limits a whole
 * workspace: past it, 429 RATE_LIMIT_EXCEEDED without Retry-After, as Adaline documents.
 */
import http from 'node:http'
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
  hash32,
  lifecycleState,
  makeResult,
  resolveLifecycle,
  seedsFromMetrics,
  seedsFromState,
  type AnimatedEvaluation,
  type LifecycleOptions,
  type RowOutcome
} from './fake-adaline-lifecycle.js'

export {
  DEFAULT_LIFECYCLE,
  defaultOutcome,
  rowValues,
  type LifecycleOptions,
  type RowOutcome
} from './fake-adaline-lifecycle.js'

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
   * Answer with this JSON body; a string is sent raw (so malformed JSON can be sent). Defaults to
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
}

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
  /** The clock the lifecycles run on (ms); default `Date.now`. `clockOffsetMs` is added to it. */
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
        (fault.status !== undefined ||
          fault.body !== undefined ||
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
      if (fault && (fault.status !== undefined || fault.body !== undefined)) {
        const status = fault.status ?? 200
        const given = typeof fault.body === 'function' ? fault.body(recorded) : fault.body
        const body = given !== undefined ? given : status >= 400 ? errorBody(status) : undefined
        this.send(res, status, body, extra)
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
        this.send(res, status, body, extra)
      } catch (error) {
        if (!(error instanceof HttpError)) throw error
        if (fault?.dropAnswer) {
          req.socket.resetAndDestroy()
          return
        }
        this.send(
          res,
          error.status,
          { error: { code: error.code, message: error.message } },
          {
            ...error.headers,
            ...extra
          }
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

  private send(
    res: http.ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string>
  ): void {
    if (res.destroyed || res.writableEnded) return
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
    const out: Record<string, string | number> = { 'content-length': Buffer.byteLength(text) }
    if (body !== undefined) out['content-type'] = 'application/json; charset=utf-8'
    for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
    res.writeHead(status, out)
    res.end(text)
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
      seeds = seedsFromMetrics(evaluation)
    }
    return seeds.map(seed => makeResult(evaluation.runId, evaluation.datasetId, seed))
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
    const byId = new Map(all.map(r => [r.id, r]))
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

/**
 * Realistic demo data: two prompts, an evaluator for each (a correctness judge and a tone
 * judge), one shared dataset of 40 rows, and 12 evaluations over the last days in every status,
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

/**
 * The one HTTP transport to Adaline: node-fetch with a per-attempt timeout, retries with
 * exponential backoff and full jitter (a 429 retried until the deadline, never sooner than its
 * Retry-After), a total deadline, the process's rate governor, same-origin redirects for GETs only,
 * every answer body capped, the runner's proxy settings, and errors that name the endpoint and say
 * what to do. The key goes only to the API's own origin.
 */
import type { Agent } from 'node:http'
import type { Readable } from 'node:stream'
import fetch, { FetchError, type RequestInit, type Response } from 'node-fetch'
import { getProxyForUrl } from 'proxy-from-env'
import stripAnsi from 'strip-ansi'
import { formatDuration, plural } from '../format.js'
import { isLoopback } from '../secrets/loopback.js'
import { Secrets } from '../secrets/redact.js'
import { backoffMs, retryAfter, throttleDelayMs } from './backoff.js'
import { httpDate, monotonicNow, type ServerClock } from './clock.js'
import {
  ACCEPTED_ENCODINGS,
  BodyCut,
  BodyTooLarge,
  BodyUndecodable,
  MAX_BODY_BYTES,
  readBody
} from './body.js'
import type { RateGovernor } from './governor.js'
import { checkShape, errorBodySchema, type Shape } from './schema.js'

export { retryAfter } from './backoff.js'

/**
 * How the face names a setting in the transport's hints: the action by its input (`base-url`), the
 * command by its flag or variable (`--base-url`, `ADALINE_API_KEY`).
 */
export type NameOf = (input: string) => string

const INPUT_NAMES: NameOf = input => input

export interface HttpOptions {
  baseUrl: URL
  apiKey: string
  /** how the hints name base-url and api-key; the action's input names when not given */
  nameOf?: NameOf
  /** per attempt */
  timeoutMs?: number
  /** attempts after a 5xx or a network error, the first included; a 429 is retried until the deadline */
  maxAttempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** the most a request may take, retries and waits included: no attempt runs past it */
  deadlineMs?: number
  /** the process's one rate governor: every attempt waits there for its turn; none, no waiting */
  governor?: RateGovernor
  /** told of each retry, for the log */
  onRetry?: (info: { endpoint: string; attempt: number; delayMs: number; reason: string }) => void
  /** told of each 429, so concurrent work can slow down */
  onThrottle?: () => void
  random?: () => number
  sleep?: (ms: number) => Promise<void>
  /**
   * the clock deadlines are kept on, the governor's too: monotonic by default, so a wall clock that
   * jumps neither ends every request at once nor lets one run past its deadline; tests move it with `sleep`
   */
  now?: () => number
  /** told of each answer's Date header, so that times compared with the API's are on its clock */
  serverClock?: ServerClock
}

export const RETRYABLE_STATUSES = [408, 429, 500, 502, 503, 504]
/**
 * Refusals that surely did not create anything: a start answered so is not "outcome unknown".
 * Any other answer to a start but a clean 2xx (a 3xx, a 5xx, a 405, a cut body) may have billed one.
 */
const CLEAR_REFUSALS = [400, 401, 403, 404, 408, 409, 422, 429]
const MAX_REDIRECTS = 5
/** API text quoted in an error is cut to this many characters: a 5 MB message is no log line. */
export const MAX_QUOTED_CHARS = 500

/** An API call that failed for good: status (if any), the API's code and message, the endpoint. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status?: number,
    readonly code?: string,
    /** a request that is not idempotent may have taken effect before it failed */
    readonly ambiguous = false,
    /** the failure could pass by trying again later: retries ran out on a retryable one */
    readonly transient = false
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

export interface RequestSpec<T> {
  method: 'GET' | 'POST'
  /** path below the base URL, IDs already encoded, e.g. /prompts/abc/evaluations */
  path: string
  query?: Record<string, string | number | undefined>
  /** the answer's shape; a wrong shape is an ApiError that names the field */
  schema: Shape<T>
  /** what a 404 means here, e.g. "prompt abc was not found; check the prompt-id input" */
  notFound?: string
  /** a JSON body (POST) */
  body?: unknown
  /**
   * false for a request that must not be repeated blindly (starting an evaluation bills it): it is
   * retried only when it surely did not reach the API (429, 408, a refused connection); any answer
   * but a clean, valid 2xx or a clear refusal is an ApiError marked ambiguous ("outcome unknown"),
   * for the caller to check before trying again
   */
  idempotent?: boolean
  /** a shorter deadline than the client's for this request, retries included (a wait's last poll) */
  deadlineMs?: number
  /**
   * sent even once the run's time held back by the rate limit is spent: a cancel, which stops
   * billing; every other request then ends with an error at once
   */
  urgent?: boolean
}

export type Http = <T>(spec: RequestSpec<T>) => Promise<T>

/** One attempt that did not give a usable answer, and what may be done about it. */
interface Failure {
  error: ApiError
  /** for the log: "HTTP 503", "network error ECONNRESET" */
  reason: string
  /** another attempt may get through */
  retry: boolean
  /** surely nothing was done: the request never reached the API, or the API refused it outright */
  unsent: boolean
  /** a 429: retried until the deadline rather than within maxAttempts */
  throttled?: boolean
  retryAfterMs?: number
}

export function createHttp(options: HttpOptions): Http {
  const {
    baseUrl,
    apiKey,
    timeoutMs = 30_000,
    maxAttempts = 5,
    baseDelayMs = 1_000,
    maxDelayMs = 60_000,
    deadlineMs: clientDeadlineMs = 300_000,
    governor,
    random = Math.random,
    sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms)),
    now = monotonicNow,
    nameOf = INPUT_NAMES
  } = options
  // origin and path alone: a query or fragment on the base would swallow every request's path
  const root = `${baseUrl.origin}${baseUrl.pathname}`.replace(/\/+$/, '')
  // the API's words may echo the request, key included, and every face prints an ApiError
  const secrets = new Secrets()
  secrets.add(apiKey)
  let route: Promise<ProxyRoute | undefined> | undefined

  return async function request<T>(spec: RequestSpec<T>): Promise<T> {
    const endpoint = `${spec.method} ${spec.path}`
    const url = new URL(root + spec.path)
    for (const [key, value] of Object.entries(spec.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value))
    }
    const started = now()
    const deadlineMs = Math.min(clientDeadlineMs, spec.deadlineMs ?? Infinity)
    const deadline = `the ${deadlineMs / 1000} s a request may take`
    const via = await (route ??= proxyRoute(baseUrl)).catch((error: unknown) => {
      if (!(error instanceof ProxyUnusable)) throw error
      throw new ApiError(`${endpoint} was not sent: ${error.message}.`, endpoint)
    })
    let failures = 0
    let throttles = 0
    let last: Failure | undefined
    for (let attempt = 1; ; attempt += 1) {
      const attempts = plural(attempt - 1, 'attempt')
      if (governor?.budgetSpent() && !spec.urgent) throw overBudget(endpoint, governor, nameOf)
      const turnAt = governor ? await governor.turn(started + deadlineMs) : now()
      if (turnAt === undefined) {
        const why = `: the rate limit leaves no turn within ${deadline}`
        if (last) throw giveUp(last.error, attempts, why)
        throw new ApiError(
          `${endpoint} was not sent${why}. Adaline's rate limit for the workspace was reached; try again later.`,
          endpoint,
          undefined,
          undefined,
          false,
          true
        )
      }
      // an attempt gets the time left before the deadline, if that is shorter than its timeout
      const left = deadlineMs - (now() - started)
      const outcome = await attemptOnce(spec, url, endpoint, {
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(Math.min(timeoutMs, left)))),
        turnAt,
        via
      })
      if (outcome.ok) return outcome.value
      const failure = (last = outcome.failure)
      if (spec.idempotent === false && !failure.unsent) {
        const { message, status, code } = failure.error
        throw new ApiError(message, endpoint, status, code, true)
      }
      if (!failure.retry) throw failure.error
      const remaining = deadlineMs - (now() - started)
      const tried = plural(attempt, 'attempt')
      let delayMs: number | undefined
      if (failure.throttled) {
        // a 429 is "not served yet": tried again for as long as the deadline allows
        throttles += 1
        delayMs = throttleDelayMs({
          throttles,
          retryAfterMs: failure.retryAfterMs,
          remainingMs: remaining,
          random,
          baseDelayMs,
          maxDelayMs
        })
      } else {
        failures += 1
        if (failures >= maxAttempts) throw giveUp(failure.error, tried)
        // a Retry-After is the server's word: waited in full when it fits in the deadline
        delayMs = failure.retryAfterMs ?? backoffMs(failures, random, baseDelayMs, maxDelayMs)
        if (delayMs >= remaining) delayMs = undefined
      }
      if (delayMs === undefined) {
        if (failure.retryAfterMs !== undefined && failure.retryAfterMs >= remaining) {
          const asked = Math.ceil(failure.retryAfterMs / 1000)
          throw giveUp(
            failure.error,
            tried,
            `: Retry-After asks to wait ${asked} s, past ${deadline}`
          )
        }
        throw giveUp(failure.error, tried, `: another attempt would end past ${deadline}`)
      }
      options.onRetry?.({ endpoint, attempt, delayMs, reason: failure.reason })
      await sleep(delayMs)
    }
  }

  /** One attempt: an answer, or the failure and whether another attempt may help. */
  async function attemptOnce<T>(
    spec: RequestSpec<T>,
    url: URL,
    endpoint: string,
    { signal, turnAt, via }: { signal: AbortSignal; turnAt: number; via?: ProxyRoute }
  ): Promise<{ ok: true; value: T } | { ok: false; failure: Failure }> {
    let sent: Sent
    try {
      sent = await send(url, spec.method, {
        apiKey,
        signal,
        endpoint,
        route: via,
        body: spec.body,
        nameOf
      })
    } catch (error) {
      return { ok: false, failure: sendFailure(error, endpoint, nameOf, via?.proxy) }
    }
    const { response, proxyRefused } = sent
    if (proxyRefused !== undefined) {
      rawBody(response)?.destroy()
      return {
        ok: false,
        failure: {
          error: proxyError(proxyRefused, via!.proxy, url, endpoint),
          reason: `the proxy answered ${proxyRefused}`,
          retry: RETRYABLE_STATUSES.includes(proxyRefused),
          // a refused tunnel never reached the API
          unsent: true
        }
      }
    }
    governor?.observe(turnAt, response)
    options.serverClock?.observe(response.headers.get('date'))
    const { status } = response
    if (response.ok) {
      try {
        return { ok: true, value: await parseBody(response, spec, endpoint, secrets, nameOf) }
      } catch (error) {
        return { ok: false, failure: bodyFailure(error, endpoint, status, secrets, nameOf) }
      }
    }
    const error = await toApiError(response, spec, endpoint, secrets, nameOf)
    if (status === 429) options.onThrottle?.()
    return {
      ok: false,
      failure: {
        error,
        reason: `HTTP ${status}`,
        retry: RETRYABLE_STATUSES.includes(status),
        unsent: CLEAR_REFUSALS.includes(status),
        throttled: status === 429,
        // a date is read against the answer's own Date: the clocks may be hours apart
        retryAfterMs: retryAfter(
          response.headers.get('retry-after'),
          httpDate(response.headers.get('date')) ?? Date.now()
        )
      }
    }
  }
}

/**
 * A request not sent because the rate limit has held the run back longer than it may wait: not
 * transient, so that the run ends now with this error instead of waiting on.
 */
function overBudget(endpoint: string, governor: RateGovernor, nameOf: NameOf): ApiError {
  return new ApiError(
    `${endpoint} was not sent: Adaline's rate limit for the workspace has held this run back for ${formatDuration(governor.heldBack())} in all, past the ${formatDuration(governor.throttleBudgetMs)} a run waits for it. The limit is shared by every job of the workspace: run fewer at once, or give each a share with ${nameOf('max-requests-per-minute')}.`,
    endpoint,
    429,
    'RATE_LIMIT_EXCEEDED'
  )
}

function giveUp(error: ApiError, attempts: string, why = ''): ApiError {
  return new ApiError(
    `${error.message} (gave up after ${attempts}${why})`,
    error.endpoint,
    error.status,
    error.code,
    false,
    true
  )
}

/** A request that got no answer: the network, the timeout, or a redirect refused. */
function sendFailure(error: unknown, endpoint: string, nameOf: NameOf, proxy?: string): Failure {
  if (error instanceof ApiError)
    return { error, reason: error.message, retry: false, unsent: false }
  const failure = networkFailure(error, nameOf, proxy)
  if (!failure) throw error
  return {
    error: new ApiError(`${endpoint} failed: ${failure.reason}. ${failure.hint}`, endpoint),
    reason: failure.reason,
    retry: failure.transient,
    unsent: failure.unsent
  }
}

/** A 2xx whose body could not be used: cut off, too large, not decodable, not JSON, wrong shape. */
function bodyFailure(
  error: unknown,
  endpoint: string,
  status: number,
  secrets: Secrets,
  nameOf: NameOf
): Failure {
  const answered = `${endpoint} answered ${status}, but`
  if (error instanceof ApiError)
    return { error, reason: error.message, retry: false, unsent: false }
  if (error instanceof BodyTooLarge || error instanceof BodyUndecodable) {
    // it will be the same on another try
    const hint =
      error instanceof BodyTooLarge
        ? `Adaline's answers are far smaller: check ${nameOf('base-url')}.`
        : `Check ${nameOf('base-url')}.`
    return {
      error: new ApiError(`${answered} ${error.message}. ${hint}`, endpoint, status),
      reason: error.message,
      retry: false,
      unsent: false
    }
  }
  if (error instanceof BodyCut) {
    const timedOut = networkFailure(error.error, nameOf)?.reason === 'no answer in time'
    const reason = timedOut ? 'no complete answer in time' : error.message
    return {
      error: new ApiError(
        `${answered} ${secrets.redact(reason)}. Check ${nameOf('base-url')} and the runner's network.`,
        endpoint,
        status
      ),
      // a page cut mid-body is a reset by another name: it may pass
      reason: `an answer cut off mid-body`,
      retry: true,
      unsent: false
    }
  }
  throw error
}

/** The runner's proxy for the API: its address for messages, and an agent for each request. */
export interface ProxyRoute {
  /** the proxy's origin, without credentials, so it can be printed */
  proxy: string
  /** a fresh agent, so that what the proxy answered to this request's CONNECT is known */
  agent(): Agent
}

/**
 * The route through the runner's proxy (HTTPS_PROXY / HTTP_PROXY / NO_PROXY, as self-hosted
 * runners set them), or undefined for a direct connection. HTTPS goes through a CONNECT tunnel, so
 * the proxy never sees the key; a loopback API is never proxied, or an http:// key would reach the
 * proxy in clear. The agents are loaded only when a proxy applies: most runners have none.
 */
export async function proxyRoute(target: URL): Promise<ProxyRoute | undefined> {
  if (isLoopback(target.hostname)) return undefined
  const found = getProxyForUrl(target)
  if (!found) return undefined
  const proxy = withCurlScheme(found)
  // never quoted: the setting may hold the proxy's password
  let url: URL | undefined
  try {
    url = new URL(proxy)
  } catch {
    // not a URL: unusable, below
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:')
    throw new ProxyUnusable(
      `the runner's proxy setting (HTTPS_PROXY or ALL_PROXY) is ${url ? `a ${url.protocol.replace(/:$/, '')}:// proxy` : 'not a URL'}; give an http:// or https:// proxy (http://user:password@host:port), or set NO_PROXY to reach the API directly`
    )
  // only loopback may be http:// (inputs/settings.ts), and loopback is never proxied: what is left is https
  const { HttpsProxyAgent } = await import('https-proxy-agent')
  return { proxy: url.origin, agent: () => new HttpsProxyAgent(proxy) }
}

/** The settings proxy-from-env reads for an https:// target, in its order. */
const HTTPS_PROXY_SETTINGS = [
  'npm_config_https_proxy',
  'https_proxy',
  'HTTPS_PROXY',
  'npm_config_proxy',
  'all_proxy',
  'ALL_PROXY'
]

/**
 * A setting without a scheme (HTTPS_PROXY=proxy.corp:3128) is an http:// proxy, as curl and most
 * tools read it; proxy-from-env gives it the target's https://, and a TLS handshake with a plain
 * proxy fails.
 */
function withCurlScheme(proxy: string, env: NodeJS.ProcessEnv = process.env): string {
  const raw = HTTPS_PROXY_SETTINGS.map(name => env[name]).find(value => value)
  return raw && !raw.includes('://') && proxy === `https://${raw}` ? `http://${raw}` : proxy
}

/** A proxy setting no request can go through: every request fails with it, unsent. */
class ProxyUnusable extends Error {}

interface SendOptions {
  apiKey: string
  signal: AbortSignal
  endpoint: string
  route?: ProxyRoute
  body?: unknown
  nameOf: NameOf
}

interface Sent {
  response: Response
  /** the proxy answered the CONNECT with this status instead of opening a tunnel to the API */
  proxyRefused?: number
}

/**
 * One attempt. A GET follows redirects within the API's origin only, so the key never leaves it,
 * and no target the server named is ever printed (it could hold anything, the key included). A
 * POST follows none: a redirected start, POSTed again, would start and bill a second evaluation.
 */
async function send(url: URL, method: string, options: SendOptions): Promise<Sent> {
  const { apiKey, signal, endpoint, route, body, nameOf } = options
  let target = url
  for (let hop = 0; ; hop += 1) {
    const agent = route?.agent()
    let proxyRefused: number | undefined
    // https-proxy-agent hands the proxy's refusal on as if the API had answered it
    agent?.once('proxyConnect', ({ statusCode }: { statusCode: number }) => {
      if (statusCode !== 200) proxyRefused = statusCode
    })
    const init: RequestInit = {
      method,
      redirect: 'manual',
      // the raw body, decoded in body.ts, where both its size on the wire and decoded are capped
      compress: false,
      agent,
      signal,
      headers: {
        authorization: `Bearer ${apiKey}`,
        accept: 'application/json',
        'accept-encoding': ACCEPTED_ENCODINGS,
        'user-agent': 'adaline-evals-action',
        ...(body === undefined ? {} : { 'content-type': 'application/json' })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    }
    const response = await fetch(target.href, init)
    if (proxyRefused !== undefined) return { response, proxyRefused }
    const redirect = response.status >= 300 && response.status < 400 && response.status !== 304
    const location = response.headers.get('location')
    if (!redirect || !location || method !== 'GET') return { response }
    rawBody(response)?.destroy()
    let next: URL | undefined
    try {
      next = new URL(location, target)
    } catch {
      // not a URL: no place to follow
    }
    // an address with credentials is no valid one: node-fetch would throw, quoting the server's text
    if (next?.origin !== url.origin || next.username || next.password) {
      throw new ApiError(
        `${endpoint} answered ${response.status}, a redirect to another origin or to no valid address; not following it with the API key. Check ${nameOf('base-url')}.`,
        endpoint,
        response.status
      )
    }
    if (hop >= MAX_REDIRECTS)
      throw new ApiError(
        `${endpoint} redirected more than ${MAX_REDIRECTS} times. Check ${nameOf('base-url')}.`,
        endpoint,
        response.status
      )
    target = next
  }
}

/** node-fetch's body, as node:stream gives it (node-fetch v3 hands on a PassThrough). */
function rawBody(response: Response): Readable | null {
  return response.body as unknown as Readable | null
}

/**
 * The answer as the schema knows it. The schema runs before anything walks the answer: it keeps
 * only the fields the action knows, so an unknown field nested 100,000 deep is dropped before the
 * key's redaction walks the rest, or an output stringifies it.
 */
async function parseBody<T>(
  response: Response,
  spec: RequestSpec<T>,
  endpoint: string,
  secrets: Secrets,
  nameOf: NameOf
): Promise<T> {
  // what to do about an answer that is not Adaline's: most often a base-url that points elsewhere
  const todo = `Check that ${nameOf('base-url')} is Adaline's v2 API`
  // a byte order mark is no part of the JSON (RFC 8259 §8.1 lets a reader ignore it)
  const text = (
    await readBody({ headers: response.headers, body: rawBody(response) }, MAX_BODY_BYTES)
  )
    .toString('utf8')
    .replace(/^\uFEFF/, '')
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new ApiError(
      `${endpoint} answered ${response.status} with a body that is not JSON. ${todo}.`,
      endpoint,
      response.status
    )
  }
  const unexpected = (problem: string) =>
    new ApiError(
      // the problem quotes the value received, which may be the key, or megabytes of text
      `${endpoint} answered in an unexpected shape: ${clip(secrets.redact(plainText(problem)))}. ${todo}.`,
      endpoint,
      response.status
    )
  const checked = checkShape(spec.schema, parsed, 'body')
  if (!checked.ok) throw unexpected(checked.problem)
  if (!secrets.mightSpell(text)) return checked.value
  // an answer that echoes the key must not carry it into reports, outputs or error messages; and
  // what was redacted must still have its shape (a run ID that was the key is no run ID)
  const redacted = checkShape(spec.schema, secrets.redactValue(checked.value), 'body')
  if (!redacted.ok) throw unexpected(redacted.problem)
  return redacted.value
}

async function toApiError<T>(
  response: Response,
  spec: RequestSpec<T>,
  endpoint: string,
  secrets: Secrets,
  nameOf: NameOf
): Promise<ApiError> {
  // the status says what matters: an error body too long or broken to read is left unread
  const text = await readBody({ headers: response.headers, body: rawBody(response) }).then(
    buffer => buffer.toString('utf8'),
    () => ''
  )
  let code: string | undefined
  let message: string | undefined
  try {
    const checked = checkShape(errorBodySchema, JSON.parse(text), 'error')
    if (checked.ok) {
      const error = checked.value.error
      if (typeof error === 'string') message = error
      else ({ code, message } = error)
    }
  } catch {
    // not JSON: the status says enough
  }
  // the API's words may echo the request, key included, and every face prints this message;
  // redacted before they are clipped, so that no cut leaves part of the key
  // cleaned before redaction: removing an escape sequence could join the two halves of a key
  code = code && clip(secrets.redact(plainText(code)), 100)
  const said = clip(secrets.redact(plainText([code, message].filter(Boolean).join(': '))))
  const head = `${endpoint} answered ${response.status}${said ? ` ${said}` : ''}`
  return new ApiError(
    `${head}${/[.…]$/.test(said) ? '' : '.'} ${hint(response.status, spec, nameOf)}`.trim(),
    endpoint,
    response.status,
    code
  )
}

/** Text cut to `max` characters with an ellipsis, never inside a surrogate pair. */
// C0 and C1 controls, DEL, line and paragraph separators and the bidi controls
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g

/**
 * The API's words as every face may print them (the Actions log, a terminal, an annotation):
 * escape sequences removed whole, other control and bidi characters a space, on one line, so an
 * error body cannot colour, move, relink or forge a line of the log.
 */
function plainText(text: string): string {
  return stripAnsi(text).replace(CONTROLS, ' ').replace(/ {2,}/g, ' ').trim()
}

export function clip(text: string, max = MAX_QUOTED_CHARS): string {
  if (text.length <= max) return text
  const cut = /[\uD800-\uDBFF]/.test(text[max - 2] ?? '') ? max - 2 : max - 1
  return `${text.slice(0, cut)}…`
}

function hint<T>(status: number, spec: RequestSpec<T>, nameOf: NameOf): string {
  const key = nameOf('api-key')
  if (status === 401)
    return `The key in ${key} is missing or wrong: use a workspace API key from Adaline.`
  if (status === 403) return `The key in ${key} has no access to this: check the key's workspace.`
  if (status === 404) return spec.notFound ?? `Not found: check ${nameOf('base-url')}.`
  if (status === 429) return "Adaline's rate limit for the workspace was reached; try again later."
  if (status >= 500) return 'Adaline had a server error; try again later.'
  if (status >= 300 && status < 400)
    return spec.method === 'POST'
      ? `A POST is never sent again to where a redirect points. Check ${nameOf('base-url')}.`
      : `Check ${nameOf('base-url')}.`
  return ''
}

/** The proxy answered a CONNECT with a refusal: say so, rather than blame the API. */
function proxyError(status: number, proxy: string, url: URL, endpoint: string): ApiError {
  const what = `${endpoint} failed: the proxy ${proxy} answered ${status} instead of opening a tunnel to ${url.host}.`
  const todo =
    status === 407
      ? 'The proxy wants credentials: give them in HTTPS_PROXY (http://user:password@host:port).'
      : 'Check HTTPS_PROXY and NO_PROXY, and that the proxy lets the runner reach the API.'
  return new ApiError(`${what} ${todo}`, endpoint, status)
}

// Network failures that may pass; anything else (an untrusted certificate, an unknown host) won't.
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN'
])

/** Why a request failed on the network, if it did (as opposed to a bug in our code). */
function networkFailure(
  error: unknown,
  nameOf: NameOf,
  proxy?: string
): { reason: string; hint: string; transient: boolean; unsent: boolean } | undefined {
  const name = (error as { name?: string })?.name
  if (name === 'TimeoutError' || name === 'AbortError') {
    return {
      reason: 'no answer in time',
      hint: `Check ${nameOf('base-url')} and the runner's network.`,
      transient: true,
      unsent: false
    }
  }
  if (!(error instanceof FetchError)) return undefined
  const code = error.code ?? ''
  if (/CERT|TLS|SSL/.test(code)) {
    return {
      reason: `TLS error ${code}`,
      hint: `The server certificate is not trusted: check ${nameOf('base-url')}, or give the CA with NODE_EXTRA_CA_CERTS.`,
      transient: false,
      unsent: true
    }
  }
  // through a proxy, the only connection the runner makes is the one to the proxy
  const through = proxy ? ` through the proxy ${proxy}` : ''
  if (code === 'ENOTFOUND') {
    return {
      reason: `host not found (${code})${through}`,
      hint: proxy ? `Check HTTPS_PROXY and ${nameOf('base-url')}.` : `Check ${nameOf('base-url')}.`,
      transient: false,
      unsent: true
    }
  }
  return {
    reason: `${code ? `network error ${code}` : `network error: ${error.message}`}${through}`,
    hint: proxy
      ? "Check HTTPS_PROXY and NO_PROXY, that the proxy is up, and the runner's network."
      : `Check ${nameOf('base-url')}, the runner's network and its proxy settings.`,
    transient: code === '' || TRANSIENT_CODES.has(code),
    // a refused connection never carried the request
    unsent: code === 'ECONNREFUSED'
  }
}

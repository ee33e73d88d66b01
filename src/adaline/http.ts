/**
 * The one HTTP transport to Adaline: node-fetch with a per-attempt timeout, retries with
 * exponential backoff and full jitter (Retry-After honoured), a total deadline, same-origin
 * redirects only, the runner's proxy settings, and errors that name the endpoint and say what to
 * do. The key goes only to the API's own origin.
 */
import type { Agent } from 'node:http'
import fetch, { FetchError, type RequestInit, type Response } from 'node-fetch'
import { getProxyForUrl } from 'proxy-from-env'
import { isLoopback } from '../loopback.js'
import { Secrets } from '../redact.js'
import { checkShape, errorBodySchema, type Shape } from './schema.js'

export interface HttpOptions {
  baseUrl: URL
  apiKey: string
  /** per attempt */
  timeoutMs?: number
  /** attempts in all, the first included */
  maxAttempts?: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** the most a request may take, retries and waits included: no attempt runs past it */
  deadlineMs?: number
  /** told of each retry, for the log */
  onRetry?: (info: { endpoint: string; attempt: number; delayMs: number; reason: string }) => void
  /** told of each 429, so concurrent work can slow down */
  onThrottle?: () => void
  random?: () => number
  sleep?: (ms: number) => Promise<void>
}

export const RETRYABLE_STATUSES = [408, 429, 500, 502, 503, 504]
const MAX_REDIRECTS = 5

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
   * retried only when it surely did not reach the API (429, 408, a refused connection); any other
   * failure is an ApiError marked ambiguous, for the caller to check before trying again
   */
  idempotent?: boolean
  /** a shorter deadline than the client's for this request, retries included (a wait's last poll) */
  deadlineMs?: number
}

export type Http = <T>(spec: RequestSpec<T>) => Promise<T>

export function createHttp(options: HttpOptions): Http {
  const {
    baseUrl,
    apiKey,
    timeoutMs = 30_000,
    maxAttempts = 5,
    baseDelayMs = 1_000,
    maxDelayMs = 60_000,
    deadlineMs: clientDeadlineMs = 300_000,
    random = Math.random,
    sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms))
  } = options
  const root = baseUrl.href.replace(/\/+$/, '')
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
    const started = Date.now()
    const deadlineMs = Math.min(clientDeadlineMs, spec.deadlineMs ?? Infinity)
    const via = await (route ??= proxyRoute(baseUrl))
    for (let attempt = 1; ; attempt += 1) {
      let retry: { reason: string; retryAfterMs?: number; error: ApiError; unsent: boolean }
      // an attempt gets the time left before the deadline, if that is shorter than its timeout
      const left = deadlineMs - (Date.now() - started)
      try {
        const { response, proxyRefused } = await send(url, spec.method, {
          apiKey,
          signal: AbortSignal.timeout(Math.max(1, Math.min(timeoutMs, left))),
          endpoint,
          route: via,
          body: spec.body
        })
        if (response.ok && !proxyRefused) return await parseBody(response, spec, endpoint, secrets)
        const failure = proxyRefused
          ? proxyError(proxyRefused, via!.proxy, url, endpoint)
          : await toApiError(response, spec, endpoint, secrets)
        if (response.status === 429) options.onThrottle?.()
        if (!RETRYABLE_STATUSES.includes(response.status)) throw failure
        retry = {
          reason: proxyRefused ? `the proxy answered ${proxyRefused}` : `HTTP ${response.status}`,
          retryAfterMs: retryAfter(response.headers.get('retry-after')),
          error: failure,
          // a refused tunnel never reached the API
          unsent: proxyRefused !== undefined || response.status === 429 || response.status === 408
        }
      } catch (error) {
        if (error instanceof ApiError) throw error
        const failure = networkFailure(error, via?.proxy)
        if (!failure) throw error
        const apiError = new ApiError(
          `${endpoint} failed: ${failure.reason}. ${failure.hint}`,
          endpoint
        )
        if (!failure.transient) throw apiError
        retry = { reason: failure.reason, error: apiError, unsent: failure.unsent }
      }
      if (spec.idempotent === false && !retry.unsent) {
        const { message, status, code } = retry.error
        throw new ApiError(message, endpoint, status, code, true)
      }
      const attempts = `${attempt} attempt${attempt > 1 ? 's' : ''}`
      const giveUp = (why = '') =>
        new ApiError(
          `${retry.error.message} (gave up after ${attempts}${why})`,
          endpoint,
          retry.error.status,
          retry.error.code,
          false,
          true
        )
      if (attempt >= maxAttempts) throw giveUp()
      const remaining = deadlineMs - (Date.now() - started)
      const deadline = `the ${deadlineMs / 1000} s a request may take`
      if (retry.retryAfterMs !== undefined && retry.retryAfterMs > remaining) {
        const asked = Math.ceil(retry.retryAfterMs / 1000)
        throw giveUp(`: Retry-After asks to wait ${asked} s, past ${deadline}`)
      }
      // a Retry-After is the server's word: waited in full (it fits in the deadline, checked above)
      const delayMs =
        retry.retryAfterMs ?? random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
      if (delayMs >= remaining) throw giveUp(`: another attempt would end past ${deadline}`)
      options.onRetry?.({ endpoint, attempt, delayMs, reason: retry.reason })
      await sleep(delayMs)
    }
  }
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
  const proxy = getProxyForUrl(target)
  if (!proxy) return undefined
  // only loopback may be http:// (inputs.ts), and loopback is never proxied: what is left is https
  const { HttpsProxyAgent } = await import('https-proxy-agent')
  return { proxy: new URL(proxy).origin, agent: () => new HttpsProxyAgent(proxy) }
}

interface SendOptions {
  apiKey: string
  signal: AbortSignal
  endpoint: string
  route?: ProxyRoute
  body?: unknown
}

interface Sent {
  response: Response
  /** the proxy answered the CONNECT with this status instead of opening a tunnel to the API */
  proxyRefused?: number
}

/** One attempt, following same-origin redirects only: the key never leaves the API's origin. */
async function send(url: URL, method: string, options: SendOptions): Promise<Sent> {
  const { apiKey, signal, endpoint, route, body } = options
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
      agent,
      signal,
      headers: {
        authorization: `Bearer ${apiKey}`,
        accept: 'application/json',
        'user-agent': 'adaline-evals-action',
        ...(body === undefined ? {} : { 'content-type': 'application/json' })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    }
    const response = await fetch(target.href, init)
    if (proxyRefused !== undefined) return { response, proxyRefused }
    if (response.status < 300 || response.status >= 400 || response.status === 304)
      return { response }
    const location = response.headers.get('location')
    if (!location) return { response }
    const next = new URL(location, target)
    if (next.origin !== url.origin) {
      throw new ApiError(
        `${endpoint} redirected to another origin (${next.origin}); not following it with the API key. Check base-url.`,
        endpoint,
        response.status
      )
    }
    if (hop >= MAX_REDIRECTS)
      throw new ApiError(`${endpoint} redirected too many times`, endpoint, response.status)
    target = next
  }
}

async function parseBody<T>(
  response: Response,
  spec: RequestSpec<T>,
  endpoint: string,
  secrets: Secrets
): Promise<T> {
  const text = await response.text()
  let body: unknown
  try {
    // an answer that echoes the key must not carry it into reports, outputs or error messages
    const parsed: unknown = JSON.parse(text)
    body = secrets.mightSpell(text) ? secrets.redactValue(parsed) : parsed
  } catch {
    throw new ApiError(
      `${endpoint} answered ${response.status} with a body that is not JSON`,
      endpoint,
      response.status
    )
  }
  const checked = checkShape(spec.schema, body, 'body')
  if (!checked.ok) {
    throw new ApiError(
      `${endpoint} answered in an unexpected shape: ${checked.problem}`,
      endpoint,
      response.status
    )
  }
  return checked.value
}

async function toApiError<T>(
  response: Response,
  spec: RequestSpec<T>,
  endpoint: string,
  secrets: Secrets
): Promise<ApiError> {
  const text = await response.text().catch(() => '')
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
  // the API's words may echo the request, key included, and every face prints this message
  code = code && secrets.redact(code)
  const said = secrets.redact([code, message].filter(Boolean).join(': '))
  const head = `${endpoint} answered ${response.status}${said ? ` ${said}` : ''}`
  return new ApiError(
    `${head}${said.endsWith('.') ? '' : '.'} ${hint(response.status, spec)}`.trim(),
    endpoint,
    response.status,
    code
  )
}

function hint<T>(status: number, spec: RequestSpec<T>): string {
  if (status === 401)
    return 'The api-key input is missing or wrong: use a workspace API key from Adaline.'
  if (status === 403) return "The api-key input has no access to this: check the key's workspace."
  if (status === 404) return spec.notFound ?? 'Not found: check base-url.'
  if (status === 429) return "Adaline's rate limit for the workspace was reached; try again later."
  if (status >= 500) return 'Adaline had a server error; try again later.'
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

// delta-seconds, and the three HTTP-date forms a recipient must accept (RFC 9110 §5.6.7):
// IMF-fixdate, the obsolete RFC 850 form and asctime (which is in GMT but does not say so)
const DELTA_SECONDS = /^\d+$/
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/
const RFC850_DATE = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/

/** Retry-After in seconds or as an HTTP date, in ms; undefined when absent or not one of those. */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  const text = value?.trim() ?? ''
  if (DELTA_SECONDS.test(text)) return Number(text) * 1000
  let date = NaN
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) date = Date.parse(text)
  else if (ASCTIME_DATE.test(text)) date = Date.parse(`${text} GMT`)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
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
  proxy?: string
): { reason: string; hint: string; transient: boolean; unsent: boolean } | undefined {
  const name = (error as { name?: string })?.name
  if (name === 'TimeoutError' || name === 'AbortError') {
    return {
      reason: 'no answer in time',
      hint: "Check base-url and the runner's network.",
      transient: true,
      unsent: false
    }
  }
  if (!(error instanceof FetchError)) return undefined
  const code = error.code ?? ''
  if (/CERT|TLS|SSL/.test(code)) {
    return {
      reason: `TLS error ${code}`,
      hint: 'The server certificate is not trusted: check base-url, or give the CA with NODE_EXTRA_CA_CERTS.',
      transient: false,
      unsent: true
    }
  }
  // through a proxy, the only connection the runner makes is the one to the proxy
  const through = proxy ? ` through the proxy ${proxy}` : ''
  if (code === 'ENOTFOUND') {
    return {
      reason: `host not found (${code})${through}`,
      hint: proxy ? 'Check HTTPS_PROXY and base-url.' : 'Check base-url.',
      transient: false,
      unsent: true
    }
  }
  return {
    reason: `${code ? `network error ${code}` : `network error: ${error.message}`}${through}`,
    hint: proxy
      ? "Check HTTPS_PROXY and NO_PROXY, that the proxy is up, and the runner's network."
      : "Check base-url, the runner's network and its proxy settings.",
    transient: code === '' || TRANSIENT_CODES.has(code),
    // a refused connection never carried the request
    unsent: code === 'ECONNREFUSED'
  }
}

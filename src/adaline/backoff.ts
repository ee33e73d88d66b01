/**
 * How long the transport waits before another attempt, and what the API's Retry-After says: pure
 * functions of the attempt count, the answer's words, the time left and a random draw.
 */

/** A 429 is never tried again sooner than this, whatever the server or the jitter says. */
export const THROTTLE_FLOOR_MS = 1_000

/** After a 5xx or a network error: full jitter over an exponential window, `base` · 2^(n−1) up to `max`. */
export function backoffMs(
  failures: number,
  random: () => number,
  baseDelayMs: number,
  maxDelayMs: number
): number {
  return random() * exponentialWindowMs(failures, baseDelayMs, maxDelayMs)
}

export interface ThrottleDelayInput {
  /** the 429s this request has had so far, this one included (1 for the first) */
  throttles: number
  /** what the 429's Retry-After asked for, if anything */
  retryAfterMs?: number
  /** time left before the request's deadline */
  remainingMs: number
  random: () => number
  /** the exponential window's start and cap: Adaline recommends 1 s doubling to 60 s */
  baseDelayMs: number
  maxDelayMs: number
}

/**
 * The wait after a 429: at least the Retry-After (when given) and never under THROTTLE_FLOOR_MS,
 * plus full jitter over the exponential window, so that jobs throttled together come back apart.
 * The jitter is cut to what the deadline leaves; undefined when even the least wait would reach
 * past the deadline (the request then gives up).
 */
export function throttleDelayMs(input: ThrottleDelayInput): number | undefined {
  const least = Math.max(THROTTLE_FLOOR_MS, input.retryAfterMs ?? 0)
  if (least >= input.remainingMs) return undefined
  const window = exponentialWindowMs(input.throttles, input.baseDelayMs, input.maxDelayMs)
  return least + input.random() * Math.min(window, input.remainingMs - least)
}

function exponentialWindowMs(n: number, baseDelayMs: number, maxDelayMs: number): number {
  return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(n - 1, 30))
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

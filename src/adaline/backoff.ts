/**
 * How long the transport waits before another attempt, and what the API's Retry-After says: pure
 * functions of the attempt count, the answer's words, the time left and a random draw.
 */
import { httpDate } from './clock.js'

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

const DELTA_SECONDS = /^\d+$/

/**
 * Retry-After in seconds or as an HTTP date, in ms; undefined when absent or not one of those. A
 * date is read against `now`, which should be the API's clock (the answer's own Date header), not
 * ours: a runner hours off would otherwise read a short wait as none or as hours.
 */
export function retryAfter(value: string | null, now = Date.now()): number | undefined {
  const text = value?.trim() ?? ''
  if (DELTA_SECONDS.test(text)) return Number(text) * 1000
  const date = httpDate(text)
  return date === undefined ? undefined : Math.max(0, date - now)
}

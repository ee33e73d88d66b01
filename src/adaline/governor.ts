/**
 * One rate governor per process: every request the run makes to Adaline waits here for its turn.
 * Turns are spaced to a rate that each 429 halves and that then climbs back steadily (AIMD), under
 * the max-requests-per-minute cap when one is set; and no turn comes while the API's RateLimit
 * headers (or a 429's Retry-After) say the workspace's budget is spent. Adaline's limit is per
 * workspace, shared by every job: slowing the whole process after a 429, rather than only the
 * request that met it, is what keeps a fleet of jobs from colliding again and again.
 */
import { retryAfter } from './backoff.js'
import { httpDate, monotonicNow } from './clock.js'

/** A 429 never slows the governor below this many requests a minute. */
export const MIN_PER_MINUTE = 6
/** Each minute without a 429 gives back at least this many requests a minute. */
export const MIN_RECOVERY_PER_MINUTE = 20
/**
 * The longest the governor holds every request on the API's word (a reset, a Retry-After): a
 * per-minute budget resets within a minute, and a longer hold would outlast requests' deadlines.
 */
export const MAX_HOLD_MS = 60_000
/**
 * The most time one run may spend held back by the rate limit, all told: from a 429 until the API
 * next serves this process. Past it, a busy workspace ends the run with an error in bounded time
 * rather than a run that creeps on for hours until the job's own timeout.
 */
export const THROTTLE_BUDGET_MS = 15 * 60_000

export interface GovernorOptions {
  /** the most requests a minute, whatever the API allows (the max-requests-per-minute input) */
  maxPerMinute?: number
  /** the length of a minute, in ms: 60,000; tests shrink it to see a rate change within seconds */
  minuteMs?: number
  /** the clock turns are spaced on: monotonic, so a wall clock that jumps cannot stall or rush them */
  now?: () => number
  /** our wall clock, for a reset or Retry-After given as a date when the answer has no Date header */
  wallNow?: () => number
  /** the run's time held back by 429s, all told, before only urgent requests go (THROTTLE_BUDGET_MS) */
  throttleBudgetMs?: number
  sleep?: (ms: number) => Promise<void>
}

/** What an answer said about the rate: its status and headers. */
export interface RateAnswer {
  status: number
  headers: { get(name: string): string | null }
}

export class RateGovernor {
  private readonly cap: number
  private readonly minuteMs: number
  private readonly now: () => number
  private readonly wallNow: () => number
  private readonly sleep: (ms: number) => Promise<void>
  /** when the next turn may come, by spacing */
  private nextTurnAt = -Infinity
  /** no turn before this: the API said its budget is spent */
  private heldUntil = -Infinity
  /** the rate the last 429 left, and when; it climbs back from there at `recovery` a minute */
  private learned = Infinity
  private slowedAt = -Infinity
  private recovery = 0
  /** a lower rate the RateLimit headers asked for, until a time */
  private hinted?: { perMinute: number; until: number }
  /** when each turn of the last minute came */
  private readonly turns: LastMinute
  /** when each answer the API served (not a 429) came, in the last minute */
  private readonly served: LastMinute
  private firstTurnAt?: number
  private throttled = 0
  private readonly budgetMs: number
  /** time held back by 429s so far, and since when the current stretch has lasted */
  private heldBackMs = 0
  private heldBackSince?: number

  constructor(options: GovernorOptions = {}) {
    this.cap = options.maxPerMinute ?? Infinity
    this.minuteMs = options.minuteMs ?? 60_000
    this.now = options.now ?? monotonicNow
    this.wallNow = options.wallNow ?? Date.now
    this.budgetMs = options.throttleBudgetMs ?? THROTTLE_BUDGET_MS
    this.sleep = options.sleep ?? (ms => new Promise<void>(resolve => setTimeout(resolve, ms)))
    this.turns = new LastMinute(this.minuteMs)
    this.served = new LastMinute(this.minuteMs)
  }

  /** The 429s the governor has been told of. */
  get throttles(): number {
    return this.throttled
  }

  /** The time 429s have held this process back, all told: from each 429 to the next answer served. */
  heldBack(at = this.now()): number {
    return this.heldBackMs + (this.heldBackSince === undefined ? 0 : at - this.heldBackSince)
  }

  /** The most time 429s may hold the run back; past it only urgent requests (cancels) are sent. */
  get throttleBudgetMs(): number {
    return this.budgetMs
  }

  /** Whether the run's time held back by 429s is spent. */
  budgetSpent(at = this.now()): boolean {
    return this.heldBack(at) >= this.budgetMs
  }

  /** The requests a minute allowed at `at`: the cap, what 429s left (climbing back), the headers' word. */
  ratePerMinute(at = this.now()): number {
    const recovered =
      this.slowedAt === -Infinity
        ? Infinity
        : this.learned + (this.recovery * Math.max(0, at - this.slowedAt)) / this.minuteMs
    const hinted = this.hinted && at < this.hinted.until ? this.hinted.perMinute : Infinity
    return Math.min(this.cap, recovered, hinted)
  }

  /**
   * Waits for a request's turn; the time it was given, to hand back with `observe`. Undefined, at
   * once, when the turn would come after `deadlineAt`: the request cannot be made in time.
   */
  async turn(deadlineAt = Infinity): Promise<number | undefined> {
    let now = this.now()
    const rate = this.ratePerMinute(now)
    const slot = Math.max(now, this.nextTurnAt)
    if (Math.max(slot, this.heldUntil) > deadlineAt) return undefined
    // turns are handed out in the order asked for, each `spacing` after the one before
    this.nextTurnAt = slot + (rate === Infinity ? 0 : this.minuteMs / rate)
    // a hold may begin while this turn waits: look again after each sleep
    let at = Math.max(slot, this.heldUntil)
    while (at > now) {
      if (at > deadlineAt) return undefined
      await this.sleep(at - now)
      now = Math.max(this.now(), at)
      at = Math.max(slot, this.heldUntil)
    }
    this.record(at)
    return at
  }

  /** Takes in an answer to a request whose turn came at `turnAt`: its RateLimit headers, a 429. */
  observe(turnAt: number, answer: RateAnswer): void {
    const now = this.now()
    // a time the API gives as a date is read on the API's clock: the answer's Date, else ours
    const said = httpDate(answer.headers.get('date')) ?? this.wallNow()
    const limit = readRateLimit(name => answer.headers.get(name), said)
    if (limit && limit.resetMs > 0) {
      const until = now + Math.min(limit.resetMs, MAX_HOLD_MS)
      if (limit.remaining === 0) this.heldUntil = Math.max(this.heldUntil, until)
      // what is left of the budget, spread over the time until it resets
      else this.hinted = { perMinute: (limit.remaining * this.minuteMs) / limit.resetMs, until }
    }
    if (answer.status !== 429) {
      this.served.add(now)
      if (this.heldBackSince !== undefined) this.heldBackMs += now - this.heldBackSince
      this.heldBackSince = undefined
      return
    }
    this.throttled += 1
    this.heldBackSince ??= now
    const asked = retryAfter(answer.headers.get('retry-after'), said)
    if (asked !== undefined)
      this.heldUntil = Math.max(this.heldUntil, now + Math.min(asked, MAX_HOLD_MS))
    // requests sent before the last slowdown went out at the old rate: their 429s are that
    // slowdown's, and must not halve the rate again
    if (turnAt <= this.slowedAt) return
    const tried = Math.min(this.ratePerMinute(now), this.perMinute(this.turns, now))
    // What the workspace served this process is nearer its share of a busy workspace than what it
    // tried: half of that ends a fleet's 429s sooner. Never below a quarter of what it tried; and
    // with nothing served yet (a 429 on the first requests) there is nothing to go by but what it tried.
    const served = this.served.count(now) > 0 ? this.perMinute(this.served, now) : tried
    this.learned = Math.max(MIN_PER_MINUTE, tried / 4, Math.min(tried, served) / 2)
    // back to the rate that met the 429 in about a minute, unless another 429 comes first
    this.recovery = Math.max(MIN_RECOVERY_PER_MINUTE, this.learned)
    this.slowedAt = now
  }

  /** Times of the last minute (or since the first turn, at least a second) as a rate a minute. */
  private perMinute(times: LastMinute, now: number): number {
    const span = Math.min(this.minuteMs, now - (this.firstTurnAt ?? now))
    return (times.count(now) * this.minuteMs) / Math.max(span, this.minuteMs / 60)
  }

  private record(at: number): void {
    this.firstTurnAt ??= at
    this.turns.add(at)
  }
}

/** Times within the last minute, oldest first; the array is compacted now and then, not on every add. */
class LastMinute {
  private times: number[] = []
  private head = 0

  constructor(private readonly minuteMs: number) {}

  add(at: number): void {
    this.times.push(at)
    this.forget(at)
  }

  count(now: number): number {
    this.forget(now)
    return this.times.length - this.head
  }

  private forget(now: number): void {
    while (this.head < this.times.length && this.times[this.head]! < now - this.minuteMs)
      this.head += 1
    if (this.head > 1_024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head)
      this.head = 0
    }
  }
}

/** What is left of a rate budget and when it resets, as an answer's headers say. */
export interface RateLimitWord {
  remaining: number
  resetMs: number
}

const NUMBER = /^\d+(\.\d+)?$/
/** An X-RateLimit-Reset this large is a Unix time in seconds (as GitHub's), not seconds from now. */
const UNIX_SECONDS = 1_000_000_000

/**
 * The RateLimit headers in their common forms, the most pressing budget if several are given:
 * - the IETF draft's structured field (draft-ietf-httpapi-ratelimit-headers-07 on):
 *   `RateLimit: "default";r=0;t=30` (r remaining, t seconds to the reset);
 * - its earlier dictionary form `RateLimit: limit=100, remaining=0, reset=30`;
 * - its earlier separate fields `RateLimit-Remaining: 0` with `RateLimit-Reset: 30` (seconds);
 * - the de facto `X-RateLimit-Remaining` with `X-RateLimit-Reset` (seconds, or a Unix time in
 *   seconds), and `X-Rate-Limit-*` likewise.
 * Undefined when no form gives both what remains and when it resets. Pure.
 */
export function readRateLimit(
  header: (name: string) => string | null,
  now: number
): RateLimitWord | undefined {
  const words: RateLimitWord[] = []
  const structured = header('ratelimit')
  if (structured) {
    for (const member of structured.split(',')) {
      const r = /(?:^|;)\s*r=([^;\s]+)/.exec(member)?.[1]
      const t = /(?:^|;)\s*t=([^;\s]+)/.exec(member)?.[1]
      const word = fromParts(r, t, 'seconds', now)
      if (word) words.push(word)
    }
    const remaining = /(?:^|[,\s])remaining=([^,;\s]+)/.exec(structured)?.[1]
    const reset = /(?:^|[,\s])reset=([^,;\s]+)/.exec(structured)?.[1]
    const word = fromParts(remaining, reset, 'seconds', now)
    if (word) words.push(word)
  }
  for (const [prefix, reset] of [
    ['ratelimit', 'seconds'],
    ['x-ratelimit', 'seconds-or-unix'],
    ['x-rate-limit', 'seconds-or-unix']
  ] as const) {
    const word = fromParts(header(`${prefix}-remaining`), header(`${prefix}-reset`), reset, now)
    if (word) words.push(word)
  }
  // a spent budget first, the longest wait of those; else the least left per second
  const spent = words.filter(word => word.remaining === 0)
  if (spent.length > 0) return spent.reduce((a, b) => (b.resetMs > a.resetMs ? b : a))
  return words.reduce<RateLimitWord | undefined>(
    (a, b) => (!a || b.remaining / b.resetMs < a.remaining / a.resetMs ? b : a),
    undefined
  )
}

function fromParts(
  remaining: string | null | undefined,
  reset: string | null | undefined,
  form: 'seconds' | 'seconds-or-unix',
  now: number
): RateLimitWord | undefined {
  const left = remaining?.trim() ?? ''
  const until = reset?.trim() ?? ''
  if (!NUMBER.test(left) || !NUMBER.test(until)) return undefined
  const seconds = Number(until)
  const resetMs =
    form === 'seconds-or-unix' && seconds >= UNIX_SECONDS ? seconds * 1000 - now : seconds * 1000
  return { remaining: Math.floor(Number(left)), resetMs: Math.max(0, resetMs) }
}

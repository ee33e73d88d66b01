/**
 * A 429 is "not served yet": over real HTTP against the fake API, it is retried for as long as the
 * request's deadline allows, not within the attempts that bound 5xx and network errors; and the
 * wait before each retry (a pure function, checked with fast-check for any input) is at least the
 * Retry-After, never under a second, within the deadline, and spread by jitter.
 */
import fc from 'fast-check'
import { THROTTLE_FLOOR_MS, throttleDelayMs } from '../../src/adaline/backoff.js'
import { createClient } from '../../src/adaline/client.js'
import { ApiError, createHttp, type HttpOptions } from '../../src/adaline/http.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
const LISTING = `GET /prompts/${PROMPT}/evaluations`
let api: FakeAdaline
let clock: number
let waits: number[]

beforeEach(async () => {
  api = await FakeAdaline.start()
  api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
  clock = 0
  waits = []
})

afterEach(async () => {
  await api.close()
})

/** A listing whose waits move a clock of their own, so that deadlines pass without real waiting. */
async function list(options: Partial<HttpOptions> = {}): Promise<string[]> {
  const http = createHttp({
    baseUrl: new URL(api.url),
    apiKey: api.apiKey,
    random: () => 0.5,
    now: () => clock,
    sleep: async ms => {
      waits.push(ms)
      clock += ms
    },
    ...options
  })
  const runIds: string[] = []
  for await (const page of createClient(http).listEvaluations(PROMPT, {})) {
    runIds.push(...page.items.map(item => item.evaluation.runId))
  }
  return runIds
}

async function listError(options: Partial<HttpOptions> = {}): Promise<ApiError> {
  const error = await list(options).then(
    () => undefined,
    (e: unknown) => e
  )
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`)
  return error
}

describe('a 429', () => {
  it('is outlasted through a storm longer than five attempts', async () => {
    api.inject({ method: 'GET', path: '/evaluations', status: 429, times: 12 })
    expect(await list()).toEqual([fakeId('run', 1)])
    expect(api.requests).toHaveLength(13)
    // 1 s, plus half of a window from 1 s doubling to 60 s
    expect(waits).toEqual([
      1_500, 2_000, 3_000, 5_000, 9_000, 17_000, 31_000, 31_000, 31_000, 31_000, 31_000, 31_000
    ])
  })

  it('does not count against the attempts that bound 5xx and network errors', async () => {
    api.inject({ method: 'GET', path: '/evaluations', status: 429, times: 4 })
    api.inject({ method: 'GET', path: '/evaluations', status: 503, times: Infinity })
    const error = await listError({ maxAttempts: 3 })
    expect(api.requests).toHaveLength(4 + 3)
    expect(error.status).toBe(503)
    expect(error.message).toMatch(/\(gave up after 7 attempts\)$/)
  })

  it('is given up at the deadline: status 429, transient, saying why', async () => {
    api.inject({ method: 'GET', path: '/evaluations', status: 429, times: Infinity })
    const error = await listError({ deadlineMs: 20_000 })
    expect(error).toMatchObject({ status: 429, transient: true, ambiguous: false })
    expect(error.message).toBe(
      `${LISTING} answered 429 RATE_LIMIT_EXCEEDED: Too Many Requests. Adaline's rate limit for the workspace was reached; try again later. (gave up after ${api.requests.length} attempts: another attempt would end past the 20 s a request may take)`
    )
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThan(20_000)
    expect(api.requests.length).toBeGreaterThan(5)
  })

  it('waits at least a Retry-After longer than the backoff window', async () => {
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 429,
      times: 2,
      headers: { 'retry-after': '20' }
    })
    await list()
    expect(waits).toEqual([20_500, 21_000])
  })
})

describe('the wait after a 429', () => {
  const inputs = fc.record({
    throttles: fc.integer({ min: 1, max: 40 }),
    retryAfterMs: fc.option(fc.integer({ min: 0, max: 400_000 }), { nil: undefined }),
    remainingMs: fc.integer({ min: 0, max: 300_000 }),
    baseDelayMs: fc.integer({ min: 1, max: 5_000 }),
    maxDelayMs: fc.integer({ min: 1_000, max: 120_000 })
  })
  const draw = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true })

  it('is at least the Retry-After and a second, and ends by the deadline', () => {
    fc.assert(
      fc.property(inputs, draw, (input, r) => {
        const delay = throttleDelayMs({ ...input, random: () => r })
        const least = Math.max(THROTTLE_FLOOR_MS, input.retryAfterMs ?? 0)
        if (least >= input.remainingMs) return delay === undefined
        return (
          delay !== undefined &&
          delay >= least &&
          delay >= (input.retryAfterMs ?? 0) &&
          delay >= 1_000 &&
          delay <= input.remainingMs
        )
      })
    )
  })

  it('is spread by the random draw over the backoff window, as far as the deadline allows', () => {
    fc.assert(
      fc.property(inputs, draw, draw, (input, a, b) => {
        const least = Math.max(THROTTLE_FLOOR_MS, input.retryAfterMs ?? 0)
        fc.pre(least < input.remainingMs && a !== b)
        const delayA = throttleDelayMs({ ...input, random: () => a })!
        const delayB = throttleDelayMs({ ...input, random: () => b })!
        const window = Math.min(
          input.maxDelayMs,
          input.baseDelayMs * 2 ** (input.throttles - 1),
          input.remainingMs - least
        )
        // two jobs with different draws come back apart, by their draws' share of the window
        return Math.abs(Math.abs(delayA - delayB) - Math.abs(a - b) * window) < 1e-6 * window + 1e-6
      })
    )
  })

  it('spreads jobs throttled together: 12 draws of Math.random span most of the window', () => {
    const delays = Array.from({ length: 12 }, () =>
      throttleDelayMs({
        throttles: 3,
        retryAfterMs: 1_000,
        remainingMs: 300_000,
        random: Math.random,
        baseDelayMs: 1_000,
        maxDelayMs: 60_000
      })!
    )
    expect(new Set(delays).size).toBe(12)
    // 4 s of window: the chance that 12 uniform draws all fall within 1 s of each other is < 1e-5
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(1_000)
  })
})

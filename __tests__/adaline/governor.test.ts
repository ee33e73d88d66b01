/**
 * The rate governor: on a clock of its own, how it spaces turns, slows after a 429 and recovers,
 * and holds every turn on the API's RateLimit headers; then, over real HTTP against the fake API,
 * the request rate measured where the requests arrive.
 */
import { createClient } from '../../src/adaline/client.js'
import {
  MAX_HOLD_MS,
  MIN_PER_MINUTE,
  RateGovernor,
  readRateLimit,
  type GovernorOptions
} from '../../src/adaline/governor.js'
import { createHttp } from '../../src/adaline/http.js'
import {
  FakeAdaline,
  fakeId,
  makeEvaluation,
  type RecordedRequest
} from '../../test-support/fake-adaline.js'

const MINUTE = 60_000

/** A governor on a clock that only its sleeps move. */
function governed(options: GovernorOptions = {}) {
  const clock = { now: 0 }
  const governor = new RateGovernor({
    now: () => clock.now,
    sleep: async ms => {
      clock.now += ms
    },
    ...options
  })
  return { clock, governor }
}

const answer = (status: number, headers: Record<string, string> = {}) => ({
  status,
  headers: { get: (name: string) => headers[name.toLowerCase()] ?? null }
})

/** Takes `n` turns one after another; the times they came. */
async function turns(governor: RateGovernor, n: number): Promise<number[]> {
  const times: number[] = []
  for (let i = 0; i < n; i += 1) times.push((await governor.turn())!)
  return times
}

describe('the rate governor', () => {
  it('lets turns through at once while nothing limits the rate', async () => {
    const { governor } = governed()
    expect(await turns(governor, 5)).toEqual([0, 0, 0, 0, 0])
  })

  it('spaces turns to max-requests-per-minute', async () => {
    const { governor } = governed({ maxPerMinute: 30 })
    expect(await turns(governor, 4)).toEqual([0, 2_000, 4_000, 6_000])
  })

  it('spaces turns asked for at once in the order they were asked', async () => {
    const { governor } = governed({ maxPerMinute: 60 })
    const times = await Promise.all([governor.turn(), governor.turn(), governor.turn()])
    expect(times).toEqual([0, 1_000, 2_000])
  })

  it('halves the rate it saw after a 429, and climbs back to it in about a minute', async () => {
    const { clock, governor } = governed()
    // 120 requests over the first minute, 2 a second, every one served
    for (let i = 0; i < 120; i += 1) {
      governor.observe((await governor.turn())!, answer(200))
      clock.now += 500
    }
    governor.observe(clock.now - 500, answer(429))
    expect(governor.ratePerMinute()).toBeCloseTo(60, 5)
    clock.now += MINUTE / 2
    expect(governor.ratePerMinute()).toBeCloseTo(90, 5)
    clock.now += MINUTE / 2
    expect(governor.ratePerMinute()).toBeCloseTo(120, 5)
  })

  it('halves once for the 429s of requests sent before the slowdown, again for a later one', async () => {
    const { clock, governor } = governed({ maxPerMinute: 120 })
    for (let i = 0; i < 120; i += 1) governor.observe((await governor.turn())!, answer(200))
    const sentBefore = await Promise.all(Array.from({ length: 8 }, () => governor.turn()))
    for (const turnAt of sentBefore) governor.observe(turnAt!, answer(429))
    // about half of the 120 a minute it was served: once, not eight times
    const slowed = governor.ratePerMinute()
    expect(slowed).toBeGreaterThan(50)
    expect(slowed).toBeLessThanOrEqual(60)
    expect(governor.throttles).toBe(8)
    const after = (await governor.turn())!
    governor.observe(after, answer(429))
    expect(governor.ratePerMinute(clock.now)).toBeLessThan(slowed / 2 + 1)
  })

  it('slows after a 429 on the very first turn, at the clock’s start', async () => {
    const { governor } = governed()
    governor.observe((await governor.turn())!, answer(429))
    // one turn, taken as one in the second it was measured over: 60 a minute tried and nothing
    // served yet to go by: half of what it tried
    expect(governor.ratePerMinute()).toBe(30)
  })

  it('falls to half of what the API served, when that is less than what it tried', async () => {
    const { clock, governor } = governed()
    // 120 requests over a minute, one in four served: a workspace shared with busier jobs
    for (let i = 0; i < 120; i += 1) {
      governor.observe((await governor.turn())!, answer(i % 4 === 0 ? 200 : 429))
      clock.now += 500
    }
    const { clock: clock2, governor: alone } = governed()
    for (let i = 0; i < 120; i += 1) {
      alone.observe((await alone.turn())!, answer(200))
      clock2.now += 500
    }
    alone.observe(clock2.now, answer(429))
    // served 30 a minute of the 120 it tried: half of that, not half of 120
    expect(governor.ratePerMinute(clock.now)).toBeLessThan(alone.ratePerMinute(clock2.now))
    expect(alone.ratePerMinute(clock2.now)).toBeCloseTo(60, 5)
  })

  it('never slows below the floor, however many 429s come', async () => {
    const { clock, governor } = governed({ maxPerMinute: 60 })
    for (let i = 0; i < 20; i += 1) governor.observe((await governor.turn())!, answer(429))
    expect(governor.ratePerMinute(clock.now)).toBeGreaterThanOrEqual(MIN_PER_MINUTE)
    expect(governor.ratePerMinute(clock.now)).toBeLessThan(MIN_PER_MINUTE + 1)
  })

  it('never goes above max-requests-per-minute while it recovers', async () => {
    const { clock, governor } = governed({ maxPerMinute: 60 })
    governor.observe((await governor.turn())!, answer(429))
    clock.now += 10 * MINUTE
    expect(governor.ratePerMinute()).toBe(60)
  })

  it('holds every turn until the reset when the headers say nothing remains', async () => {
    const { clock, governor } = governed()
    const first = (await governor.turn())!
    governor.observe(first, answer(200, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '7' }))
    expect(await turns(governor, 2)).toEqual([7_000, 7_000])
    expect(clock.now).toBe(7_000)
  })

  it.each([
    ['hours ahead of', 3 * 3_600_000],
    ['hours behind', -3 * 3_600_000]
  ])(
    'reads a reset given as a Unix time on the answer’s Date when the runner’s clock is %s the API’s',
    async (_, offsetMs) => {
      const apiNow = Date.UTC(2026, 10, 20, 12)
      const { clock, governor } = governed({ wallNow: () => apiNow + offsetMs })
      const first = (await governor.turn())!
      const headers = {
        date: new Date(apiNow).toUTCString(),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(apiNow / 1000 + 15)
      }
      governor.observe(first, answer(200, headers))
      expect(await turns(governor, 1)).toEqual([15_000])
      expect(clock.now).toBe(15_000)
    }
  )

  it('holds every turn for a 429’s Retry-After, at most a minute', async () => {
    const { governor } = governed()
    governor.observe((await governor.turn())!, answer(429, { 'retry-after': '3' }))
    expect(await turns(governor, 1)).toEqual([3_000])
    governor.observe(3_000, answer(429, { 'retry-after': '86400' }))
    expect(await turns(governor, 1)).toEqual([3_000 + MAX_HOLD_MS])
  })

  it('spreads what the headers say remains over the time to the reset', async () => {
    const { governor } = governed()
    governor.observe((await governor.turn())!, answer(200, { ratelimit: '"default";r=5;t=10' }))
    // 5 left for 10 s: one every 2 s
    expect(await turns(governor, 3)).toEqual([0, 2_000, 4_000])
  })

  it('gives no turn that would come after the request’s deadline', async () => {
    const { clock, governor } = governed({ maxPerMinute: 6 })
    expect(await governor.turn(5_000)).toBe(0)
    expect(await governor.turn(5_000)).toBeUndefined()
    expect(clock.now).toBe(0)
  })
})

describe('readRateLimit', () => {
  const NOW = 1_800_000_000_000
  it.each([
    ['the IETF draft’s structured field', { ratelimit: '"default";r=0;t=30' }, 0, 30_000],
    [
      'the draft’s field with several policies (the spent one counts)',
      { ratelimit: '"burst";r=40;t=1, "minute";r=0;t=12' },
      0,
      12_000
    ],
    ['the earlier dictionary form', { ratelimit: 'limit=100, remaining=0, reset=9' }, 0, 9_000],
    [
      'the earlier separate fields',
      { 'ratelimit-remaining': '3', 'ratelimit-reset': '6' },
      3,
      6_000
    ],
    [
      'X-RateLimit-* in seconds',
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '20' },
      0,
      20_000
    ],
    [
      'X-RateLimit-* with a Unix time',
      { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 15) },
      0,
      15_000
    ],
    ['X-Rate-Limit-*', { 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': '4' }, 0, 4_000]
  ])('reads %s', (_, headers: Record<string, string>, remaining, resetMs) => {
    expect(readRateLimit(name => headers[name] ?? null, NOW)).toEqual({ remaining, resetMs })
  })

  it.each([
    ['nothing', {}],
    ['a remaining without a reset', { 'x-ratelimit-remaining': '0' }],
    [
      'words that are not numbers',
      { 'x-ratelimit-remaining': 'none', 'x-ratelimit-reset': 'soon' }
    ],
    ['a negative reset', { 'ratelimit-remaining': '0', 'ratelimit-reset': '-5' }]
  ])('ignores %s', (_, headers: Record<string, string>) => {
    expect(readRateLimit(name => headers[name] ?? null, NOW)).toBeUndefined()
  })
})

describe('the rate at the fake API', () => {
  const PROMPT = fakeId('prm', 1)
  let api: FakeAdaline

  beforeEach(async () => {
    api = await FakeAdaline.start()
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
  })

  afterEach(async () => {
    await api.close()
  })

  function client(governor: RateGovernor) {
    return createClient(
      createHttp({
        baseUrl: new URL(api.url),
        apiKey: api.apiKey,
        governor,
        // the transport's own wait after a 429 is left out: what is measured is the governor
        sleep: async () => undefined
      })
    )
  }

  /** `workers` loops of polls, each as soon as the last is answered, until `ms` have passed. */
  async function hammer(governor: RateGovernor, workers: number, ms: number, during?: () => void) {
    const c = client(governor)
    const end = Date.now() + ms
    const timer = during && setTimeout(during, ms / 3)
    await Promise.all(
      Array.from({ length: workers }, async () => {
        while (Date.now() < end) await c.getEvaluation(PROMPT, fakeId('run', 1))
      })
    )
    if (timer) clearTimeout(timer)
  }

  const arrivals = () => api.requests.map((r: RecordedRequest) => r.receivedAt)

  it('holds max-requests-per-minute, however many requests ask at once', async () => {
    // 600 a minute: one every 100 ms
    await hammer(new RateGovernor({ maxPerMinute: 600 }), 6, 1_500)
    const times = arrivals()
    expect(times.length).toBeGreaterThanOrEqual(12)
    // any k+1 requests in a row span k × 100 ms, less what a request's way to the fake may vary
    for (let i = 0; i < times.length; i += 1)
      for (let j = i + 1; j < times.length; j += 1)
        expect(times[j]! - times[i]!).toBeGreaterThan((j - i) * 100 - 60)
  })

  it('slows the whole process after a 429, and recovers', async () => {
    // a "minute" of one second, so that slowing and recovering fit in a test: a cap of 100 a
    // minute is 100 a second here. The machine may be busy: what is observed is bounded from
    // above only (a busy machine sends fewer requests, never more), and the recovery is read off
    // the governor, not off wall-clock rates.
    const governor = new RateGovernor({ maxPerMinute: 100, minuteMs: 1_000 })
    let throttledAt = 0
    let throttledClock = 0
    await hammer(governor, 4, 3_000, () => {
      // the governor's clock: monotonic, as performance.now()
      throttledAt = throttledClock = performance.now()
      api.inject({ method: 'GET', path: '/evaluations/', status: 429 })
    })
    const endClock = performance.now()
    expect(governor.throttles).toBe(1)
    // the rate the 429 left: at most half of the cap, for every request of the process
    const slowed = governor.ratePerMinute(throttledClock)
    expect(slowed).toBeLessThanOrEqual(50)
    const after = arrivals().filter(t => t >= throttledAt + 50 && t < throttledAt + 400).length
    // at the cap, 35 requests could arrive in those 350 ms; slowed, at most about 60% of that
    expect(after).toBeLessThanOrEqual(Math.ceil(0.35 * Math.min(100, slowed * 1.5)) + 2)
    // and it climbs back: by at least its own size each "minute" (two of them passed), to the cap
    expect(endClock - throttledClock).toBeGreaterThanOrEqual(1_500)
    expect(governor.ratePerMinute(endClock)).toBeGreaterThanOrEqual(Math.min(100, 2 * slowed))
  })

  it('holds every request until the reset when the answer says none remain', async () => {
    api.inject({
      method: 'GET',
      path: '/evaluations',
      headers: { ratelimit: '"default";r=0;t=1' }
    })
    const c = client(new RateGovernor())
    await c.getEvaluation(PROMPT, fakeId('run', 1))
    await Promise.all([1, 2].map(() => c.getEvaluation(PROMPT, fakeId('run', 1))))
    const [first, ...rest] = api.requests
    for (const request of rest)
      expect(request.receivedAt - first!.answeredAt!).toBeGreaterThanOrEqual(990)
  })
})

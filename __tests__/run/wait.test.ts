/**
 * The wait's schedule, over real HTTP against the fake API with both on one controlled clock: the
 * fake's lifecycles follow it and the wait's sleeps move it, so no test waits in real time.
 */
import { createClient } from '../../src/adaline/client.js'
import { RateGovernor } from '../../src/adaline/governor.js'
import { createHttp } from '../../src/adaline/http.js'
import { AdaptiveLimit } from '../../src/run/concurrency.js'
import type { Listed } from '../../src/judge/judged-set.js'
import { progressLine, waitUntilTerminal } from '../../src/run/wait.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
const T0 = 1_790_000_000_000
const POLL_PATH = /\/evaluations\/run_[^/]+$/

let api: FakeAdaline
let clock: number
let sleeps: number[]
let lines: string[]
let warnings: string[]
/** when each poll round began (on the shared clock), and how many polls were made before it */
let rounds: { at: number; requestsBefore: number }[]

beforeEach(async () => {
  clock = T0
  sleeps = []
  lines = []
  warnings = []
  rounds = []
  api = await FakeAdaline.start({ now: () => clock })
  api.addPrompt(PROMPT)
})

afterEach(async () => {
  await api.close()
})

function wait(items: Listed[], timeoutMs: number, random = () => 0.5) {
  // as in the engine: a 429 halves the run's limit, and every request waits for the governor
  const limit = new AdaptiveLimit(4)
  const governor = new RateGovernor({
    now: () => clock,
    sleep: async ms => {
      clock += ms
    }
  })
  const client = createClient(
    createHttp({
      baseUrl: new URL(api.url),
      apiKey: api.apiKey,
      governor,
      now: () => clock,
      onThrottle: () => limit.halve(),
      // two attempts, the transport's pause on the same clock (not recorded as a poll interval)
      maxAttempts: 2,
      random: () => 0.5,
      sleep: async ms => {
        clock += ms
      }
    })
  )
  return waitUntilTerminal(client, items, {
    timeoutMs,
    limit,
    log: line => lines.push(line),
    warn: message => warnings.push(message),
    now: () => clock,
    sleep: async ms => {
      sleeps.push(ms)
      rounds.push({ at: clock + ms, requestsBefore: polls().length })
      clock += ms
    },
    random
  })
}

const polls = () => api.requests.filter(r => r.method === 'GET' && POLL_PATH.test(r.path))

/** The most polls made in any 60 s of the shared clock. */
function mostPollsInAMinute(): number {
  const total = polls().length
  const made = rounds.map((round, i) => ({
    at: round.at,
    count: (rounds[i + 1]?.requestsBefore ?? total) - round.requestsBefore
  }))
  return Math.max(
    ...made.map(({ at }) =>
      made.filter(r => r.at >= at && r.at < at + 60_000).reduce((sum, r) => sum + r.count, 0)
    )
  )
}

/** An evaluation on the fake that queues for `queuedMs`, then runs `totalRows` rows of `rowMs`. */
function animated(n: number, queuedMs: number, rowMs: number, totalRows = 4): Listed {
  const evaluation = makeEvaluation({ n, status: 'queued', progress: { totalRows } })
  api.addEvaluations(PROMPT, [evaluation])
  api.animate(PROMPT, evaluation.runId, { startAt: T0, queuedMs, rowMs, totalRows })
  return {
    promptId: PROMPT,
    evaluation: api.evaluations(PROMPT).find(e => e.runId === evaluation.runId)!
  }
}

it('backs off by half again while nothing moves, up to 30 s, and polls at 2 s again once something does', async () => {
  // queued for 90 s, then 4 rows of 20 s
  const item = animated(1, 90_000, 20_000)
  const outcome = await wait([item], 10 * 60_000)
  expect(outcome.timedOut).toEqual([])
  expect(outcome.items[0]!.evaluation.status).toBe('completed')
  // while queued: 2, 3, 4.5, 6.75, 10.1, 15.2, 22.8 s (64.3 s in all), then 30 s (capped)
  expect(sleeps.slice(0, 8)).toEqual([
    2_000, 3_000, 4_500, 6_750, 10_125, 15_187.5, 22_781.25, 30_000
  ])
  // the poll at 94.3 s sees it running: 2 s again, then backing off while its first row runs
  expect(sleeps.slice(8, 10)).toEqual([2_000, 3_000])
  expect(outcome.waitedMs).toBe(sleeps.reduce((a, b) => a + b, 0))
})

it('spreads polls with ±20 % jitter', async () => {
  const item = animated(1, 60_000, 1_000)
  await wait([item], 5_000, () => 0)
  expect(sleeps[0]).toBe(1_600)
  sleeps = []
  clock = T0
  await wait([animated(2, 60_000, 1_000)], 5_000, () => 0.999_999)
  expect(sleeps[0]).toBeCloseTo(2_400, 0)
})

it('never sleeps past the timeout, and names what is still running', async () => {
  const item = animated(1, 0, 60_000)
  const outcome = await wait([item], 7_000)
  expect(sleeps.reduce((a, b) => a + b, 0)).toBe(7_000)
  expect(outcome.waitedMs).toBe(7_000)
  expect(outcome.timedOut).toEqual([item.evaluation.runId])
  expect(outcome.items[0]!.evaluation.status).toBe('running')
})

it('logs a progress line at the start and whenever an evaluation moves, not when it stands still', async () => {
  // rows end at 4 s and 7 s: the poll at 6 s sees no change and logs nothing
  const item = animated(1, 1_000, 3_000, 2)
  await wait([item], 60_000)
  const runId = item.evaluation.runId
  expect(lines).toEqual([
    `${runId} [░░░░░░░░░░░░░░░░░░░░] 0% 0/2 rows · queued · 0 ms`,
    `${runId} [░░░░░░░░░░░░░░░░░░░░] 0% 0/2 rows · running · 2.0 s`,
    expect.stringMatching(
      new RegExp(`^${runId} \\[█{10}░{10}\\] 50% 1/2 rows · running · 4\\.0 s$`)
    ),
    expect.stringMatching(
      new RegExp(`^${runId} \\[█{20}\\] 100% \\d/2 rows(, 1 failed)? · completed · 9\\.0 s$`)
    )
  ])
})

it('keeps each evaluation’s progress lines apart, in the order they were logged', async () => {
  const one = animated(1, 1_000, 3_000, 2)
  const two = animated(2, 0, 5_000, 2)
  const outcome = await wait([one, two], 60_000)
  const ids = [one.evaluation.runId, two.evaluation.runId]
  expect([...outcome.progress.keys()]).toEqual(ids)
  for (const runId of ids) {
    const own = lines.filter(line => line.startsWith(`${runId} [`))
    expect(outcome.progress.get(runId)).toEqual(own)
    expect(own.at(-1)).toMatch(/ · completed · /)
  }
  expect([...outcome.progress.values()].flat()).toHaveLength(lines.length)
})

it('returns at once for evaluations that are already finished', async () => {
  const done = makeEvaluation({ n: 3, status: 'completed' })
  api.addEvaluations(PROMPT, [done])
  const outcome = await wait([{ promptId: PROMPT, evaluation: done }], 60_000)
  expect(sleeps).toEqual([])
  expect(api.requests).toEqual([])
  expect(outcome.timedOut).toEqual([])
})

it('goes on through polls that fail after the transport’s retries, backing off twice as fast', async () => {
  // 4 rows of 20 s; the first two poll rounds meet 503s on both of their attempts
  const item = animated(1, 0, 20_000)
  api.inject({ method: 'GET', path: POLL_PATH, status: 503, times: 4 })
  const outcome = await wait([item], 10 * 60_000)
  expect(outcome.timedOut).toEqual([])
  expect(outcome.items[0]!.evaluation.status).toBe('completed')
  // 2 s, then doubled after each failed round: 4 s, 8 s; then half again while rows run
  expect(sleeps.slice(0, 4)).toEqual([2_000, 4_000, 8_000, 12_000])
  expect(warnings).toEqual([
    expect.stringMatching(
      /^Could not poll 1 of 1 evaluation \(GET \/prompts\/.* answered 503 .*\(gave up after 2 attempts\)\); still waiting, next poll in about 4\.0 s\.$/
    ),
    expect.stringMatching(/still waiting, next poll in about 8\.0 s\.$/)
  ])
})

it('ends the wait on a poll that waiting will not mend (404)', async () => {
  const item = animated(1, 0, 20_000)
  api.inject({ method: 'GET', path: POLL_PATH, status: 404 })
  await expect(wait([item], 10 * 60_000)).rejects.toThrow(
    /^GET \/prompts\/.*\/evaluations\/run_.* answered 404 .*was not found/
  )
})

it('keeps all polls together under 60 a minute, however many evaluations wait', async () => {
  // 12 evaluations whose rows end every second: each poll sees them move
  const items = Array.from({ length: 12 }, (_, i) => animated(i + 1, 0, 1_000, 600))
  await wait(items, 5 * 60_000)
  // 12 polls a round: at least 12 s apart, never the 2 s a lone evaluation gets
  expect(sleeps.slice(0, 5)).toEqual([12_000, 12_000, 12_000, 12_000, 12_000])
  expect(polls().length).toBeGreaterThan(200)
  expect(mostPollsInAMinute()).toBeLessThanOrEqual(60)
})

it('polls less often for the rest of the wait after a 429', async () => {
  // rows end every second, so every poll sees it move and the interval stays at its floor
  const item = animated(1, 0, 1_000, 600)
  // the first two polls are served, the third meets a 429 the transport retries
  api.inject({ method: 'GET', path: POLL_PATH, times: 2 })
  api.inject({ method: 'GET', path: POLL_PATH, status: 429 })
  await wait([item], 60_000)
  expect(sleeps.slice(0, 6)).toEqual([2_000, 2_000, 2_000, 4_000, 4_000, 4_000])
})

it('draws the progress bar from the percent, with failed rows when there are any', () => {
  const evaluation = makeEvaluation({
    n: 1,
    status: 'running',
    progress: { totalRows: 40, completedRows: 11, failedRows: 1, percent: 30 }
  })
  expect(progressLine(evaluation, 72_000)).toBe(
    `${evaluation.runId} [██████░░░░░░░░░░░░░░] 30% 11/40 rows, 1 failed · running · 1.2 min`
  )
})

describe('a poll that hangs', () => {
  it('ends with the wait, not at the transport’s request deadline', async () => {
    // real time here: the transport's per-attempt timeout (30 s) is what a hung poll would wait out
    const real = await FakeAdaline.start()
    real.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    real.inject({ method: 'GET', path: POLL_PATH, hang: true, times: 10 })
    try {
      const client = createClient(createHttp({ baseUrl: new URL(real.url), apiKey: real.apiKey }))
      const [evaluation] = real.evaluations(PROMPT)
      const startedAt = Date.now()
      const outcome = await waitUntilTerminal(
        client,
        [{ promptId: PROMPT, evaluation: evaluation! }],
        {
          timeoutMs: 1_000,
          minPollMs: 500,
          limit: new AdaptiveLimit(4),
          log: () => undefined,
          warn: () => undefined
        }
      )
      expect(Date.now() - startedAt).toBeLessThan(3_000)
      expect(outcome.timedOut).toEqual([evaluation!.runId])
    } finally {
      await real.close()
    }
  }, 10_000)
})

it('times the wait on a clock that does not jump: a wall clock set a day ahead ends no wait at once', async () => {
  // queued for 10 s, then 2 rows of 5 s, on the fake's clock, which the wait's sleeps move
  const item = animated(1, 10_000, 5_000, 2)
  const wallNow = Date.now
  let calls = 0
  // NTP steps the runner's wall clock a day forward just after the wait begins
  Date.now = () => wallNow() + (++calls > 1 ? 86_400_000 : 0)
  try {
    const outcome = await waitUntilTerminal(
      createClient(createHttp({ baseUrl: new URL(api.url), apiKey: api.apiKey })),
      [item],
      {
        timeoutMs: 10 * 60_000,
        limit: new AdaptiveLimit(4),
        log: () => undefined,
        warn: () => undefined,
        sleep: async ms => {
          clock += ms
        }
      }
    )
    expect(outcome.timedOut).toEqual([])
    expect(outcome.items[0]!.evaluation.status).toBe('completed')
  } finally {
    Date.now = wallNow
  }
})

import { listed } from '../../__fixtures__/evaluations.js'
import { createClient } from '../../src/adaline/client.js'
import { ServerClock } from '../../src/adaline/clock.js'
import { createHttp } from '../../src/adaline/http.js'
import { AdaptiveLimit } from '../../src/run/concurrency.js'
import {
  CLOCK_SKEW_MS,
  MAX_START_ATTEMPTS,
  StartError,
  startEvaluations,
  startedByAttempt,
  type StartOptions,
  type Started
} from '../../src/run/start.js'
import { StartLedger, type StartScope } from '../../src/run/started.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'

const AT = 1_790_000_000_000

function submitted(runId: string, offsetMs: number, status: 'queued' | 'cancelling' = 'queued') {
  return listed({ runId, status, submittedAt: AT + offsetMs })
}

describe('startedByAttempt', () => {
  it('takes a new evaluation submitted around the attempt', () => {
    const ours = submitted('ours-aaaaaaaaaaaaaaaaaaaa', 300)
    expect(startedByAttempt([ours], new Set(), AT, AT + 1_000)).toBe(ours)
  })

  it('never takes one that was there before the attempt, however recent', () => {
    const before = submitted('before-aaaaaaaaaaaaaaaaaa', 200)
    expect(
      startedByAttempt([before], new Set([before.evaluation.runId]), AT, AT + 1_000)
    ).toBeUndefined()
  })

  it('never takes one being cancelled: that is another run’s decision', () => {
    const other = submitted('other-aaaaaaaaaaaaaaaaaaa', 100, 'cancelling')
    expect(startedByAttempt([other], new Set(), AT, AT + 1_000)).toBeUndefined()
  })

  it('allows for the API’s clock being behind ours, by the skew and no more', () => {
    const skewed = submitted('skewed-aaaaaaaaaaaaaaaaaa', -CLOCK_SKEW_MS)
    const older = submitted('older-aaaaaaaaaaaaaaaaaaa', -CLOCK_SKEW_MS - 1)
    expect(startedByAttempt([older, skewed], new Set(), AT, AT + 1_000)).toBe(skewed)
    expect(startedByAttempt([older], new Set(), AT, AT + 1_000)).toBeUndefined()
  })

  it('of several new ones, takes the one submitted nearest the attempt', () => {
    const near = submitted('near-aaaaaaaaaaaaaaaaaaaa', -2_000)
    const far = submitted('far-aaaaaaaaaaaaaaaaaaaaa', 30_000)
    expect(startedByAttempt([far, near], new Set(), AT, AT + 30_000)).toBe(near)
  })

  it('never takes one submitted after the attempt failed, beyond the skew', () => {
    const later = submitted('later-aaaaaaaaaaaaaaaaaaa', 1_000 + CLOCK_SKEW_MS + 1)
    expect(startedByAttempt([later], new Set(), AT, AT + 1_000)).toBeUndefined()
  })
})

/** Starts over real HTTP against the fake API, with a transport that retries nothing. */
describe('startEvaluations', () => {
  const PROMPT = fakeId('prm', 1)
  const PROMPT_2 = fakeId('prm', 2)
  const LISTING = /^\/v2\/prompts\/[^/]+\/evaluations$/
  let api: FakeAdaline

  beforeEach(async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.addPrompt(PROMPT_2)
  })

  afterEach(async () => {
    await api.close()
  })

  const posts = (promptId?: string) =>
    api.requests.filter(
      r => r.method === 'POST' && LISTING.test(r.path) && (!promptId || r.path.includes(promptId))
    )

  function start(promptIds: string[], options: Partial<StartOptions> = {}, scope: StartScope = {}) {
    const client = createClient(
      createHttp({
        baseUrl: new URL(api.url),
        apiKey: api.apiKey,
        maxAttempts: 1,
        sleep: async () => undefined
      })
    )
    const told: Started[] = []
    const ledger = options.ledger ?? new StartLedger()
    const starting = startEvaluations(client, promptIds, scope, {
      limit: new AdaptiveLimit(8),
      log: () => undefined,
      onStarted: (item, adopted) => told.push({ item, adopted }),
      ...options,
      ledger
    })
    return { starting, told, ledger }
  }

  async function failure(starting: Promise<unknown>): Promise<StartError> {
    const error = await starting.then(
      () => undefined,
      (error: unknown) => error
    )
    expect(error).toBeInstanceOf(StartError)
    return error as StartError
  }

  it('names the start, and posts no more, when the listing that checks a lost answer fails', async () => {
    // the start goes through but its answer is lost; the note before it lists fine, the check fails
    api.inject({ method: 'POST', path: LISTING, dropAnswer: true })
    api.inject({ method: 'GET', path: LISTING })
    api.inject({ method: 'GET', path: LISTING, status: 500, times: Infinity })
    const before = Date.now()
    const { starting, told, ledger } = start([PROMPT])
    const error = await failure(starting)
    const [billed] = api.evaluations(PROMPT)
    expect(billed).toBeDefined()
    expect(posts()).toHaveLength(1)
    expect(told).toEqual([])
    expect(error.message).toMatch(
      new RegExp(
        `An evaluation of prompt ${PROMPT} \\(every active evaluator, the evaluator's dataset\\) may have been started by this run at \\S+ and could not be confirmed: its answer was lost and the listing that would find it failed \\(GET /prompts/${PROMPT}/evaluations answered 500`
      )
    )
    const [unconfirmed] = ledger.unconfirmed()
    expect(unconfirmed?.promptId).toBe(PROMPT)
    expect(unconfirmed?.attempts[0]).toBeGreaterThanOrEqual(before)
    expect(unconfirmed?.attempts[0]).toBeLessThanOrEqual(billed!.timeline.submittedAt)
  })

  it('still names an evaluation that started when telling of it throws', async () => {
    const { starting } = start([PROMPT], {
      onStarted: () => {
        throw new Error('the log is gone')
      }
    })
    const error = await failure(starting)
    const [billed] = api.evaluations(PROMPT)
    expect(error.message).toBe('Unexpected error: the log is gone')
    expect(error.started.map(s => s.item.evaluation.runId)).toEqual([billed!.runId])
  })

  it('when one prompt’s start is refused, waits for another’s POST in flight and names what it created', async () => {
    // refused once the other POST is surely under way
    api.inject({ method: 'POST', path: `${PROMPT}/evaluations`, status: 400, delayMs: 100 })
    // the other POST is served after the refusal, and its answer is lost: found by the check
    api.inject({ method: 'POST', path: `${PROMPT_2}/evaluations`, delayMs: 300, dropAnswer: true })
    const { starting, told } = start([PROMPT, PROMPT_2])
    const error = await failure(starting)
    const [billed] = api.evaluations(PROMPT_2)
    expect(error.message).toMatch(/^POST \/prompts\/prm_\d+\/evaluations answered 400 /)
    expect(told.map(s => [s.item.evaluation.runId, s.adopted])).toEqual([[billed!.runId, true]])
    expect(error.started.map(s => s.item.evaluation.runId)).toEqual([billed!.runId])
    expect(posts(PROMPT_2)).toHaveLength(1)
  })

  it('when one prompt’s start is refused, does not try another’s lost start again, and names it', async () => {
    // refused once the other POST is surely under way
    api.inject({ method: 'POST', path: `${PROMPT}/evaluations`, status: 400, delayMs: 100 })
    // reset before the fake serves it: the check finds nothing, and a retry would be a new POST
    api.inject({ method: 'POST', path: `${PROMPT_2}/evaluations`, delayMs: 300, reset: true })
    const { starting, told } = start([PROMPT, PROMPT_2])
    const error = await failure(starting)
    expect(told).toEqual([])
    expect(posts(PROMPT_2)).toHaveLength(1)
    expect(error.message).toContain(
      `An evaluation of prompt ${PROMPT_2} (every active evaluator, the evaluator's dataset) may have been started by this run at `
    )
    expect(error.message).toContain(
      'its answer was lost and the listing showed no evaluation from it'
    )
  })

  describe('a start that goes through on a later attempt', () => {
    const emptyPage = { evaluations: [], pagination: { hasMore: false, nextCursor: null } }

    it('warns of the earlier attempt the lagging listing missed, naming what it started', async () => {
      // the listing before the POST is served; the first POST is taken but its answer lost; the
      // listing that checks it lags (shows nothing); the second POST goes through
      api.inject({ method: 'GET', path: LISTING })
      api.inject({ method: 'POST', path: LISTING, dropAnswer: true })
      api.inject({ method: 'GET', path: LISTING, body: emptyPage })
      const warnings: string[] = []
      const { starting, told } = start([PROMPT], { warn: message => warnings.push(message) })
      const [item] = await starting
      const [first, second] = api
        .evaluations(PROMPT)
        .sort((a, b) => a.timeline.submittedAt - b.timeline.submittedAt)
      expect(posts()).toHaveLength(2)
      expect(item?.evaluation.runId).toBe(second!.runId)
      expect(told.map(s => [s.item.evaluation.runId, s.adopted])).toEqual([[second!.runId, false]])
      expect(warnings).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Started evaluation ${second!.runId} of prompt ${PROMPT} after 1 earlier attempt at \\S+ lost its answer; the listing now shows ${first!.runId} from then, which is not judged or cancelled here \\(it may be another run's\\): if it is a second evaluation of this commit, cancel it in Adaline\\.$`
          )
        )
      ])
    })

    it('warns that one may be running when the listing still does not show it', async () => {
      api.inject({ method: 'GET', path: LISTING })
      api.inject({ method: 'POST', path: LISTING, reset: true })
      api.inject({ method: 'GET', path: LISTING, body: emptyPage })
      const warnings: string[] = []
      const { starting } = start([PROMPT], { warn: message => warnings.push(message) })
      await starting
      expect(posts()).toHaveLength(2)
      expect(warnings).toEqual([
        expect.stringMatching(
          /lost its answer; the listing does not show it, but if Adaline took it, a second evaluation may be running and billing: look in Adaline for one of this prompt submitted since \S+\.$/
        )
      ])
    })

    it('warns of nothing when the first attempt goes through', async () => {
      const warnings: string[] = []
      await start([PROMPT], { warn: message => warnings.push(message) }).starting
      expect(warnings).toEqual([])
    })
  })

  it('names every attempt whose outcome stayed unknown when the attempts run out', async () => {
    api.inject({ method: 'POST', path: LISTING, reset: true, times: Infinity })
    const { starting, ledger } = start([PROMPT])
    const error = await failure(starting)
    expect(posts()).toHaveLength(MAX_START_ATTEMPTS)
    expect(ledger.unconfirmed()).toEqual([
      expect.objectContaining({
        promptId: PROMPT,
        attempts: [expect.any(Number), expect.any(Number), expect.any(Number)]
      })
    ])
    expect(error.message).toMatch(
      /Tried 3 times\. An evaluation of prompt \S+ .* may have been started by this run at \S+, \S+, \S+ and could not be confirmed/
    )
  })

  it('begins no POST once halted, but still checks a lost answer under way and takes what it finds', async () => {
    api.inject({ method: 'POST', path: LISTING, delayMs: 300, dropAnswer: true })
    const ledger = new StartLedger()
    const { starting, told } = start([PROMPT], { ledger })
    // the POST is under way: tell it as the abort would see it, then halt
    while (posts().length === 0) await new Promise(resolve => setTimeout(resolve, 10))
    expect(ledger.underWay()).toEqual([
      expect.objectContaining({ promptId: PROMPT, phase: 'posting' })
    ])
    ledger.halt()
    const items = await starting
    const [billed] = api.evaluations(PROMPT)
    expect(items.map(item => item.evaluation.runId)).toEqual([billed!.runId])
    expect(told.map(s => s.adopted)).toEqual([true])
    expect(posts()).toHaveLength(1)
    expect(ledger.underWay()).toEqual([])
  })

  it.each([
    ['another evaluator’s', { evaluatorId: fakeId('evl', 7) }],
    ['another dataset’s', { datasetId: fakeId('dst', 7), evaluatorId: fakeId('evl', 1) }]
  ])(
    'takes nothing from a 202 that names %s evaluation: finds its own in the listing, and never cancels the other',
    async (_, foreign) => {
      const OURS = fakeId('evl', 1)
      // the start goes through; the answer names another evaluation
      api.inject({
        method: 'POST',
        path: LISTING,
        replaceAnswer: true,
        status: 202,
        body: makeEvaluation({ runId: fakeId('run_other', 1), status: 'running', ...foreign })
      })
      const { starting, told } = start(
        [PROMPT],
        {},
        { evaluatorId: OURS, datasetId: fakeId('dst', 1) }
      )
      const items = await starting
      const [billed] = api.evaluations(PROMPT)
      expect(posts()).toHaveLength(1)
      expect(items.map(item => item.evaluation.runId)).toEqual([billed!.runId])
      expect(told.map(s => [s.item.evaluation.runId, s.adopted])).toEqual([[billed!.runId, true]])
    }
  )

  it('takes nothing from a 202 that names an evaluation listed before the start', async () => {
    const before = makeEvaluation({ n: 5, status: 'running', submittedAt: Date.now() - 1_000 })
    api.addEvaluations(PROMPT, [before])
    api.inject({ method: 'POST', path: LISTING, replaceAnswer: true, status: 202, body: before })
    const { starting, told } = start([PROMPT])
    await starting
    expect(posts()).toHaveLength(1)
    expect(told.map(s => s.item.evaluation.runId)).not.toContain(before.runId)
    expect(told).toHaveLength(1)
  })

  it.each([
    ['a body missing fields', { runId: fakeId('run', 9) }],
    ['a body that is not JSON', '{"runId": "run_'],
    ['another evaluator’s evaluation', makeEvaluation({ evaluatorId: fakeId('evl', 7) })]
  ])(
    'never POSTs again after a 2xx with %s, even when the listing does not show the start yet',
    async (_, body) => {
      api.inject({ method: 'POST', path: LISTING, replaceAnswer: true, status: 202, body })
      // the note before the POST lists fine; the check after it lags and shows nothing
      api.inject({ method: 'GET', path: LISTING })
      api.inject({
        method: 'GET',
        path: LISTING,
        body: { evaluations: [], pagination: { hasMore: false } },
        times: Infinity
      })
      const { starting, told, ledger } = start([PROMPT], {}, { evaluatorId: fakeId('evl', 1) })
      const error = await failure(starting)
      expect(posts()).toHaveLength(1)
      expect(api.evaluations(PROMPT)).toHaveLength(1)
      expect(told).toEqual([])
      expect(ledger.unconfirmed()).toEqual([expect.objectContaining({ promptId: PROMPT })])
      expect(error.message).toContain(
        'the API accepted it but its answer could not be used, and the listing does not show it yet'
      )
    }
  )

  it('makes no request at all for a start that had not begun when halted', async () => {
    const ledger = new StartLedger()
    ledger.halt()
    const { starting, told } = start([PROMPT, PROMPT_2], { ledger })
    const error = await failure(starting)
    expect(error.message).toBe('Starting was stopped before every start was confirmed.')
    expect(told).toEqual([])
    expect(api.requests).toEqual([])
  })
})

/** A lost start found on the API's clock, however far the runner's is from it. */
describe('startEvaluations when the clocks disagree', () => {
  const PROMPT = fakeId('prm', 1)
  const LISTING = /^\/v2\/prompts\/[^/]+\/evaluations$/
  const HOUR = 3_600_000
  let api: FakeAdaline | undefined

  afterEach(async () => {
    await api?.close()
  })

  it.each([
    ['3 hours ahead of', 3 * HOUR],
    ['3 hours behind', -3 * HOUR],
    ['2 days ahead of', 48 * HOUR],
    ['2 days behind', -48 * HOUR]
  ])(
    'takes a start whose answer was lost rather than start (and bill) another, the API %s the runner',
    async (_, offsetMs) => {
      const fake = (api = await FakeAdaline.start({
        now: () => Date.now() + offsetMs,
        lifecycle: { queuedMs: 60_000 }
      }))
      fake.addPrompt(PROMPT)
      // the start goes through, its answer is lost on the way back
      fake.inject({ method: 'POST', path: LISTING, dropAnswer: true })
      const serverClock = new ServerClock()
      const client = createClient(
        createHttp({
          baseUrl: new URL(fake.url),
          apiKey: fake.apiKey,
          maxAttempts: 1,
          serverClock,
          sleep: async () => undefined
        })
      )
      const told: Started[] = []
      const items = await startEvaluations(
        client,
        [PROMPT],
        {},
        {
          limit: new AdaptiveLimit(8),
          log: () => undefined,
          onStarted: (item, adopted) => told.push({ item, adopted }),
          ledger: new StartLedger(),
          now: () => serverClock.now()
        }
      )
      const billed = fake.evaluations(PROMPT)
      expect(billed).toHaveLength(1)
      expect(fake.requests.filter(r => r.method === 'POST')).toHaveLength(1)
      expect(items.map(item => item.evaluation.runId)).toEqual([billed[0]!.runId])
      expect(told.map(s => s.adopted)).toEqual([true])
      expect(Math.abs(serverClock.offsetMs - offsetMs)).toBeLessThan(2_000)
    }
  )
})

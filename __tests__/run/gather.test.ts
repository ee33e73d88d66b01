/**
 * Gathering several prompts' listings over real HTTP against the fake Adaline API, which answers
 * each request after a latency: the listings run at once, within the bound on requests in flight.
 */
import { createClient, type AdalineClient, type ListedPage } from '../../src/adaline/client.js'
import { createHttp } from '../../src/adaline/http.js'
import { AdaptiveLimit } from '../../src/run/concurrency.js'
import { gather, gatherStage } from '../../src/run/gather.js'
import type { Listing } from '../../src/run/plan.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { stageContext } from '../../test-support/stage-context.js'

const PROMPTS = [1, 2, 3].map(n => fakeId('prm', n))
/** three pages of 200 per prompt */
const PER_PROMPT = 450

let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start({ latencyMs: 25 })
  PROMPTS.forEach((promptId, p) =>
    api.addPrompt(
      promptId,
      Array.from({ length: PER_PROMPT }, (_, i) => makeEvaluation({ n: p * PER_PROMPT + i + 1 }))
    )
  )
})

afterEach(async () => {
  await api.close()
})

async function gatherAll(limit: AdaptiveLimit) {
  const client = createClient(createHttp({ baseUrl: new URL(api.url), apiKey: api.apiKey }))
  const listings: Listing[] = PROMPTS.map(promptId => ({ promptId, filters: {}, judge: true }))
  return gather(client, listings, { scope: 'all', limit, log: () => undefined })
}

describe('gather', () => {
  it('lists several prompts at once', async () => {
    const gathered = await gatherAll(new AdaptiveLimit(8))
    expect(gathered.listedCount).toBe(PROMPTS.length * PER_PROMPT)
    expect(gathered.pages).toBe(PROMPTS.length * 3)
    // one request in flight per listing: a cursor listing is sequential, the prompts are not
    expect(api.peakInFlight).toBe(PROMPTS.length)
  })

  it('never has more requests in flight than the bound', async () => {
    const gathered = await gatherAll(new AdaptiveLimit(2))
    expect(gathered.listedCount).toBe(PROMPTS.length * PER_PROMPT)
    expect(api.peakInFlight).toBe(2)
  })
})

describe('gather, however long the listing', () => {
  it('lets the event loop turn after every page, even when the pages come without waiting', async () => {
    // pages already at hand (read ahead, buffered): no I/O between them, so only gather's own
    // yield lets the event loop turn, which is where a signal such as SIGINT is handled
    const PAGES = 20
    const turnedAfter: boolean[] = []
    const client = {
      async *listEvaluations(): AsyncGenerator<ListedPage> {
        for (let page = 1; page <= PAGES; page += 1) {
          let turned = false
          setImmediate(() => (turned = true))
          const evaluation = makeEvaluation({ n: page })
          yield { page, items: [{ evaluation }], hasMore: page < PAGES }
          turnedAfter.push(turned)
        }
      }
    } as unknown as AdalineClient
    const gathered = await gather(client, [{ promptId: PROMPTS[0]!, filters: {}, judge: true }], {
      scope: 'all',
      limit: new AdaptiveLimit(1),
      log: () => undefined
    })
    expect(gathered.listedCount).toBe(PAGES)
    expect(turnedAfter).toEqual(Array.from({ length: PAGES }, () => true))
  })
})

describe('gather, when the listings disagree', () => {
  const cutoff = Date.UTC(2030, 0, 1)
  const rule = (promptIds: string[]) => ({ cutoff, promptIds, keep: new Set<string>() })

  async function gatherWith(listings: Listing[], promptIds: string[]) {
    const client = createClient(createHttp({ baseUrl: new URL(api.url), apiKey: api.apiKey }))
    const warnings: string[] = []
    const gathered = await gather(client, listings, {
      scope: 'all',
      rule: rule(promptIds),
      limit: new AdaptiveLimit(1),
      log: () => undefined,
      warn: message => void warnings.push(message)
    })
    return { gathered, warnings }
  }

  const page = (evaluations: unknown[], nextCursor?: string) => ({
    evaluations,
    pagination: { hasMore: nextCursor !== undefined, nextCursor }
  })

  it('cancels nothing that one page lists running and a later page lists completed', async () => {
    const doubtful = makeEvaluation({ n: 9_001, status: 'running' })
    const sure = makeEvaluation({ n: 9_002, status: 'running' })
    api.inject({ method: 'GET', path: '/evaluations', body: page([doubtful, sure], 'page-2') })
    api.inject({
      method: 'GET',
      path: '/evaluations',
      body: page([{ ...doubtful, status: 'completed' }, sure])
    })
    const { gathered, warnings } = await gatherWith(
      [{ promptId: PROMPTS[0]!, filters: {}, judge: true }],
      [PROMPTS[0]!]
    )
    expect(gathered.superseded.map(item => item.evaluation.runId)).toEqual([sure.runId])
    expect(warnings).toEqual([
      `Not cancelling ${doubtful.runId}: it was listed both in flight and finished in this run's listings, so whether it is superseded is not sure.`
    ])
  })

  it('cancels nothing that the listings of two prompts both hold', async () => {
    const shared = makeEvaluation({ n: 9_003, status: 'queued' })
    api.addEvaluations(PROMPTS[0]!, [shared])
    api.addEvaluations(PROMPTS[1]!, [shared])
    const { gathered, warnings } = await gatherWith(
      PROMPTS.slice(0, 2).map(promptId => ({
        promptId,
        filters: { status: 'queued' as const },
        judge: true
      })),
      PROMPTS.slice(0, 2)
    )
    expect(gathered.superseded.map(item => item.evaluation.runId)).not.toContain(shared.runId)
    expect(warnings).toEqual([
      `Not cancelling ${shared.runId}: it was listed under prompts ${PROMPTS[0]} and ${PROMPTS[1]} in this run's listings, so whether it is superseded is not sure.`
    ])
  })
})

describe('gatherStage, created-after as a duration', () => {
  const DAY = 86_400_000
  let skewed: FakeAdaline | undefined

  afterEach(async () => {
    await skewed?.close()
  })

  it.each([
    ['2 days behind', -2 * DAY],
    ['2 days ahead of', 2 * DAY]
  ])(
    'counts the window back from Adaline’s clock when it is %s the runner’s',
    async (_, offsetMs) => {
      const apiNow = Date.now() + offsetMs
      skewed = await FakeAdaline.start({ now: () => Date.now() + offsetMs })
      const inside = makeEvaluation({ n: 1, submittedAt: apiNow - 3_600_000 })
      const outside = makeEvaluation({ n: 2, submittedAt: apiNow - 36 * 3_600_000 })
      skewed.addPrompt(PROMPTS[0]!, [inside, outside])
      const { context, lines } = await stageContext(skewed, {
        'prompt-id': PROMPTS[0]!,
        'created-after': '24h'
      })
      const gathered = await gatherStage(context, undefined)
      expect(gathered.judged.map(item => item.evaluation.runId)).toEqual([inside.runId])
      expect(lines.join('\n')).toMatch(
        /Adaline's clock is 48\.0 h (behind|ahead of) the runner's: listing again with created-after counted back on Adaline's clock/
      )
    }
  )
})

/** Cancelling over real HTTP against the fake Adaline API: what each cancel that fails comes to. */
import { createClient } from '../../src/adaline/client.js'
import { createHttp, type HttpOptions } from '../../src/adaline/http.js'
import { cancelFate, cancelSuperseded, isRefusal } from '../../src/run/cancel.js'
import { AdaptiveLimit } from '../../src/run/concurrency.js'
import type { Listed } from '../../src/judge/judged-set.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
const RUN = fakeId('run', 1)
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

async function cancel(runIds: string[], transport: Partial<HttpOptions> = {}) {
  const client = createClient(
    createHttp({
      baseUrl: new URL(api.url),
      apiKey: api.apiKey,
      maxAttempts: 1,
      // a 429 is retried until the deadline: one this short gives it up at the first
      deadlineMs: 900,
      sleep: async () => undefined,
      ...transport
    })
  )
  const items: Listed[] = api
    .evaluations(PROMPT)
    .filter(evaluation => runIds.includes(evaluation.runId))
    .map(evaluation => ({ promptId: PROMPT, evaluation }))
  const warnings: string[] = []
  const outcome = await cancelSuperseded(client, items, {
    dryRun: false,
    limit: new AdaptiveLimit(4),
    log: () => undefined,
    warn: message => warnings.push(message)
  })
  return { outcome, warnings }
}

const reads = () => api.requests.filter(r => r.method === 'GET')

describe('cancelSuperseded', () => {
  it('counts an accepted cancel as cancelled', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    const { outcome } = await cancel([RUN])
    expect(outcome).toEqual({ cancelled: [RUN], finished: [], failed: [] })
  })

  it('counts a refused cancel of an evaluation that is already cancelling as cancelled', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'cancelling' })])
    const { outcome, warnings } = await cancel([RUN])
    expect(outcome).toEqual({ cancelled: [RUN], finished: [], failed: [] })
    expect(warnings).toEqual([])
  })

  it('takes a refusal because the evaluation finished meanwhile as a warning, not a failure', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'completed' })])
    const { outcome, warnings } = await cancel([RUN])
    expect(outcome.cancelled).toEqual([])
    expect(outcome.failed).toEqual([])
    expect(outcome.finished).toEqual([
      expect.objectContaining({ runId: RUN, promptId: PROMPT, status: 'completed' })
    ])
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^Superseded evaluation ${RUN} had already completed when its cancel arrived: `)
      )
    ])
  })

  it('counts a refusal after which the evaluation still runs as not delivered', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    api.inject({ method: 'POST', path: '/cancel', status: 403 })
    const { outcome } = await cancel([RUN])
    expect(outcome.cancelled).toEqual([])
    expect(outcome.failed).toEqual([
      {
        runId: RUN,
        promptId: PROMPT,
        message: expect.stringMatching(/^still running after: POST \S+ answered 403 /)
      }
    ])
    expect(api.evaluations(PROMPT)[0]!.status).toBe('running')
  })

  it('counts a refusal it cannot read back as not delivered, saying why', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    api.inject({ method: 'POST', path: '/cancel', status: 409 })
    api.inject({ method: 'GET', status: 500 })
    const { outcome } = await cancel([RUN])
    expect(outcome.failed).toEqual([
      expect.objectContaining({
        runId: RUN,
        message: expect.stringMatching(
          /answered 409 .* Reading it back failed too: GET .* answered 500/
        )
      })
    ])
  })

  it('counts a cancel given up on 429 as not delivered, without reading it back', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    api.inject({ method: 'POST', path: '/cancel', status: 429, times: Infinity })
    // a short deadline stands for the transport giving up, however it retries a 429
    const { outcome, warnings } = await cancel([RUN], {
      maxAttempts: 5,
      deadlineMs: 300,
      sleep: undefined
    })
    expect(outcome.cancelled).toEqual([])
    expect(outcome.failed.map(f => f.runId)).toEqual([RUN])
    expect(outcome.failed[0]!.message).toContain('429')
    expect(warnings).toEqual([expect.stringContaining('429')])
    expect(reads()).toEqual([])
    expect(api.evaluations(PROMPT)[0]!.status).toBe('running')
  })

  it('counts a cancel given up on 5xx as not delivered', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    api.inject({ method: 'POST', path: '/cancel', status: 500, times: Infinity })
    // a deadline long enough for every attempt's (skipped) backoff
    const { outcome } = await cancel([RUN], { maxAttempts: 5, deadlineMs: 120_000 })
    expect(outcome.failed.map(f => f.runId)).toEqual([RUN])
    expect(api.requests.filter(r => r.path.endsWith('/cancel'))).toHaveLength(5)
    expect(reads()).toEqual([])
  })

  it('takes a cancel answered “completed” as finished, not cancelled', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    api.inject({
      method: 'POST',
      path: '/cancel',
      body: makeEvaluation({ n: 1, status: 'completed' })
    })
    const { outcome, warnings } = await cancel([RUN])
    expect(outcome.cancelled).toEqual([])
    expect(outcome.finished).toEqual([expect.objectContaining({ runId: RUN, status: 'completed' })])
    expect(outcome.failed).toEqual([])
    expect(warnings[0]).toMatch(/answered with the evaluation completed, not cancelling/)
  })

  it('counts a cancel answered “running” as not delivered when the evaluation still runs', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    // answered as if accepted, but nothing was cancelled
    api.inject({
      method: 'POST',
      path: '/cancel',
      body: makeEvaluation({ n: 1, status: 'running' })
    })
    const { outcome } = await cancel([RUN])
    expect(outcome.cancelled).toEqual([])
    expect(outcome.failed).toEqual([
      expect.objectContaining({
        runId: RUN,
        message: expect.stringMatching(
          /^still running after: .*answered with the evaluation running/
        )
      })
    ])
    expect(reads()).toHaveLength(1)
  })

  it('counts a cancel answered “running” as cancelled when reading it back shows it cancelling', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    // the cancel lands, and its answer shows the status from before it
    api.inject({
      method: 'POST',
      path: '/cancel',
      replaceAnswer: true,
      status: 200,
      body: makeEvaluation({ n: 1, status: 'running' })
    })
    const { outcome } = await cancel([RUN])
    expect(outcome).toEqual({ cancelled: [RUN], finished: [], failed: [] })
  })

  it('keeps each class in the order given, whatever order the answers come in', async () => {
    const runs = [1, 2, 3, 4].map(n => makeEvaluation({ n, status: 'running' }))
    api.addPrompt(PROMPT, runs)
    api.inject({ method: 'POST', path: `${fakeId('run', 1)}/cancel`, delayMs: 150 })
    api.inject({ method: 'POST', path: `${fakeId('run', 2)}/cancel`, status: 500, delayMs: 100 })
    api.inject({ method: 'POST', path: `${fakeId('run', 4)}/cancel`, status: 500 })
    const { outcome } = await cancel(runs.map(e => e.runId))
    expect(outcome.cancelled).toEqual([fakeId('run', 1), fakeId('run', 3)])
    expect(outcome.failed.map(f => f.runId)).toEqual([fakeId('run', 2), fakeId('run', 4)])
  })
})

describe('cancelFate', () => {
  it('clears a cancel only when the evaluation no longer runs', () => {
    expect(cancelFate('cancelling')).toBe('cancelled')
    expect(cancelFate('cancelled')).toBe('cancelled')
    expect(cancelFate('completed')).toBe('finished')
    expect(cancelFate('failed')).toBe('finished')
    expect(cancelFate('running')).toBe('failed')
    expect(cancelFate('queued')).toBe('failed')
    expect(cancelFate(undefined)).toBe('failed')
  })

  it('reads back only a refusal, not a rate limit, a timeout or a server error', () => {
    expect([400, 401, 403, 404, 409, 422].every(isRefusal)).toBe(true)
    expect([undefined, 408, 429, 500, 502, 503].some(isRefusal)).toBe(false)
  })
})

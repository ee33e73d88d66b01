/** Cancelling over real HTTP against the fake Adaline API: what a refused cancel is taken for. */
import { createClient } from '../src/adaline/client.js'
import { createHttp } from '../src/adaline/http.js'
import { cancelSuperseded } from '../src/cancel.js'
import { AdaptiveLimit } from '../src/concurrency.js'
import type { Listed } from '../src/select.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

async function cancel(runIds: string[]) {
  const client = createClient(
    createHttp({
      baseUrl: new URL(api.url),
      apiKey: api.apiKey,
      maxAttempts: 1,
      // a 429 is retried until the deadline: one this short gives it up at the first
      deadlineMs: 900,
      sleep: async () => undefined
    })
  )
  const items: Listed[] = api
    .evaluations(PROMPT)
    .filter(evaluation => runIds.includes(evaluation.runId))
    .map(evaluation => ({ promptId: PROMPT, evaluation, raw: evaluation }))
  const warnings: string[] = []
  const outcome = await cancelSuperseded(client, items, {
    dryRun: false,
    limit: new AdaptiveLimit(4),
    log: () => undefined,
    warn: message => warnings.push(message)
  })
  return { outcome, warnings }
}

describe('cancelSuperseded', () => {
  it('counts a refused cancel of an evaluation that is already cancelling as cancelled', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'cancelling' })])
    const { outcome, warnings } = await cancel([fakeId('run', 1)])
    expect(outcome.cancelled).toEqual([fakeId('run', 1)])
    expect(warnings).toEqual([])
  })

  it('does not read back a rate-limited cancel, which changed nothing', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    api.inject({ method: 'POST', path: '/cancel', status: 429 })
    const { outcome, warnings } = await cancel([fakeId('run', 1)])
    expect(outcome.failed.map(f => f.runId)).toEqual([fakeId('run', 1)])
    expect(warnings).toEqual([expect.stringContaining('429')])
    expect(api.requests.filter(r => r.method === 'GET')).toEqual([])
  })
})

/**
 * Every row result of evaluations, over real HTTP against the fake API: every grade in pages of
 * 200, a cap per evaluation, fetched once per run and kept for the next purpose that asks.
 */
import { createClient } from '../../src/adaline/client.js'
import { createHttp } from '../../src/adaline/http.js'
import type { Listed } from '../../src/judge/judged-set.js'
import { AdaptiveLimit } from '../../src/run/concurrency.js'
import { RESULTS_CAP, ResultsCache } from '../../src/run/results-cache.js'
import { resultsStage } from '../../src/run/results.js'
import { rowsStage } from '../../src/run/rows.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { stageContext } from '../../test-support/stage-context.js'

const PROMPT = fakeId('prm', 1)
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

function listed(n: number): Listed {
  return {
    promptId: PROMPT,
    evaluation: api.evaluations(PROMPT).find(e => e.runId === fakeId('run', n))!
  }
}

function cache(): ResultsCache {
  const client = createClient(createHttp({ baseUrl: new URL(api.url), apiKey: api.apiKey }))
  return new ResultsCache(client, new AdaptiveLimit(8))
}

function resultRequests(runId?: string) {
  return api.requests.filter(
    r => r.path.endsWith('/results') && (runId === undefined || r.path.includes(runId))
  )
}

/** A run's context on the fake, with the log kept. */
function context() {
  return stageContext(api, { 'prompt-id': PROMPT })
}

describe('ResultsCache', () => {
  it('fetches every grade with the rows, 200 a page by cursor, and says how many requests', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 400, fail: 40, unknown: 10 })])
    const { byRunId, requests } = await cache().fetch([listed(1)])
    const pages = resultRequests()
    expect(requests).toBe(3)
    expect(pages).toHaveLength(3)
    expect(pages.map(r => Object.fromEntries(r.query))).toEqual([
      { expand: 'row', limit: '200' },
      { expand: 'row', limit: '200', cursor: expect.any(String) },
      { expand: 'row', limit: '200', cursor: expect.any(String) }
    ])
    const fetched = byRunId.get(fakeId('run', 1))
    expect(fetched).toEqual({
      ok: true,
      results: api.results(PROMPT, fakeId('run', 1)),
      leftOut: 0,
      cap: RESULTS_CAP
    })
    if (!fetched?.ok) throw new Error('not fetched')
    expect(new Set(fetched.results.map(r => r.grade))).toEqual(new Set(['pass', 'fail', 'unknown']))
  })

  it('stops at the cap, the last page only as long as the room left, and counts the rest left out', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 500, fail: 0, unknown: 0 })])
    const { byRunId } = await cache().fetch([listed(1)], 450)
    expect(resultRequests().map(r => r.query.get('limit'))).toEqual(['200', '200', '50'])
    const fetched = byRunId.get(fakeId('run', 1))
    expect(fetched).toMatchObject({ ok: true, leftOut: 50, cap: 450 })
    expect(fetched?.ok && fetched.results).toHaveLength(450)
  })

  it('fetches an evaluation once per run: a later ask for more run IDs fetches only the new ones', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, pass: 30, fail: 3 }),
      makeEvaluation({ n: 2, pass: 20, fail: 1 })
    ])
    const results = cache()
    await results.fetch([listed(1)])
    expect(resultRequests()).toHaveLength(1)
    const { byRunId, requests } = await results.fetch([listed(1), listed(2)])
    expect(requests).toBe(1)
    expect(resultRequests(fakeId('run', 1))).toHaveLength(1)
    expect(resultRequests(fakeId('run', 2))).toHaveLength(1)
    expect([...byRunId.keys()]).toEqual([fakeId('run', 1), fakeId('run', 2)])
  })

  it('counts only its own requests when asks run at once, none for pages another ask brought', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, pass: 300 }),
      makeEvaluation({ n: 2, pass: 100 }),
      makeEvaluation({ n: 3, pass: 100 })
    ])
    const results = cache()
    const [first, second] = await Promise.all([
      results.fetch([listed(1), listed(2)]),
      results.fetch([listed(1), listed(3)])
    ])
    expect(resultRequests()).toHaveLength(4)
    expect(first.requests + second.requests).toBe(4)
  })

  it('lets go of released rows but those kept, and fetches them again when asked', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 250, fail: 5, unknown: 0 })])
    const results = cache()
    await results.fetch([listed(1)])
    const runId = fakeId('run', 1)
    expect(results.whole(runId)).toHaveLength(255)
    results.release(runId, rows => rows.filter(r => r.grade === 'fail'))
    expect(results.whole(runId)).toBeUndefined()
    expect(results.shown(runId)?.map(r => r.grade)).toEqual(Array(5).fill('fail'))
    const { byRunId, requests } = await results.fetch([listed(1)])
    expect(requests).toBe(2)
    const again = byRunId.get(runId)
    expect(again?.ok && again.results).toHaveLength(255)
    expect(results.whole(runId)).toHaveLength(255)
  })

  it('keeps nothing of rows cut at the cap when released: they do not hold every failing row', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 300, fail: 5, unknown: 0 })])
    const results = cache()
    await results.fetch([listed(1)], 200)
    results.release(fakeId('run', 1), rows => rows.filter(r => r.grade === 'fail'))
    expect(results.shown(fakeId('run', 1))).toBeUndefined()
  })

  it('fetches again only what a lower cap left out, when asked under a higher one', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, pass: 300 }),
      makeEvaluation({ n: 2, pass: 100 })
    ])
    const results = cache()
    await results.fetch([listed(1), listed(2)], 250)
    const before = resultRequests().length
    const { byRunId } = await results.fetch([listed(1), listed(2)], 1_000)
    expect(resultRequests().length - before).toBe(2) // run 1 again (2 pages); run 2 was whole
    expect(byRunId.get(fakeId('run', 1))).toMatchObject({ ok: true, leftOut: 0 })
  })

  it('keeps a failure, naming the endpoint, and does not ask the failing endpoint again', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, fail: 2 })])
    api.inject({ path: '/results', status: 404, times: Infinity })
    const results = cache()
    const first = await results.fetch([listed(1)])
    expect(first.byRunId.get(fakeId('run', 1))).toEqual({
      ok: false,
      problem: expect.stringContaining(
        `GET /prompts/${PROMPT}/evaluations/${fakeId('run', 1)}/results answered 404`
      )
    })
    await results.fetch([listed(1)])
    expect(resultRequests()).toHaveLength(1)
  })

  it('ends a results listing whose cursor repeats instead of asking for ever', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 10 })])
    api.inject({
      path: '/results',
      status: 200,
      times: Infinity,
      body: { results: [], pagination: { hasMore: true, nextCursor: 'again' } }
    })
    const { byRunId } = await cache().fetch([listed(1)])
    expect(byRunId.get(fakeId('run', 1))).toEqual({
      ok: false,
      problem: expect.stringContaining('repeated a cursor on page 2')
    })
    expect(resultRequests()).toHaveLength(2)
  })
})

describe('resultsStage', () => {
  it('logs one line with the requests the rows took, as many as reached the API', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, pass: 300, fail: 20, unknown: 0 }),
      makeEvaluation({ n: 2, pass: 9, fail: 1, unknown: 0 })
    ])
    const { context: run, lines } = await context()
    const byRunId = await resultsStage(run, [listed(1), listed(2)])
    expect(byRunId.size).toBe(2)
    expect(lines).toEqual([
      'Row results for the JUnit report: 330 rows of 2 evaluations in 3 requests.'
    ])
    expect(resultRequests()).toHaveLength(3)
  })

  it('warns for an evaluation whose rows could not be fetched, and fetches the others', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, fail: 2 }), makeEvaluation({ n: 2, fail: 1 })])
    api.inject({ path: `${fakeId('run', 1)}/results`, status: 403, times: Infinity })
    const { context: run, lines } = await context()
    const byRunId = await resultsStage(run, [listed(1), listed(2)])
    expect(byRunId.get(fakeId('run', 1))?.ok).toBe(false)
    expect(byRunId.get(fakeId('run', 2))?.ok).toBe(true)
    expect(lines.filter(line => line.startsWith('warning:'))).toEqual([
      expect.stringMatching(
        new RegExp(
          `^warning: Could not fetch the row results of ${fakeId('run', 1)}: .*answered 403.* The JUnit report gives its run counts instead\\.$`
        )
      )
    ])
  })

  it('warns for a completed evaluation whose listing ends before its run counts', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, fail: 2 }), makeEvaluation({ n: 2, fail: 1 })])
    const first = listed(1)
    const all = api.results(PROMPT, first.evaluation.runId)
    api.inject({
      path: `${first.evaluation.runId}/results`,
      body: { results: all.slice(0, 3), pagination: { hasMore: false, nextCursor: null } },
      times: Infinity
    })
    const { context: run, lines } = await context()
    await resultsStage(run, [first, listed(2)])
    expect(lines.filter(line => line.startsWith('warning:'))).toEqual([
      `warning: The results of ${first.evaluation.runId} list 3 distinct rows, but its metrics count ${all.length} graded runs (the listing ended early); the JUnit report shows the rows listed.`
    ])
  })

  it('hands the failing rows stage what it fetched: no request of its own for them', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 30, fail: 25, unknown: 3 })])
    const { context: run } = await context()
    await resultsStage(run, [listed(1)])
    const asked = resultRequests().length
    const rows = await rowsStage(run, [listed(1)])
    expect(resultRequests()).toHaveLength(asked)
    // the rows the stage's own requests would give: the first 20 failing rows, in the API's order
    const all = api.results(PROMPT, fakeId('run', 1))
    expect(rows.get(fakeId('run', 1))).toEqual(all.filter(r => r.grade === 'fail').slice(0, 20))
  })
})

/** Searching for baselines the filters may hide, over real HTTP against the fake Adaline API. */
import { createClient } from '../../src/adaline/client.js'
import { createHttp } from '../../src/adaline/http.js'
import { MAX_BASELINE_PAGES, searchBaselines } from '../../src/run/baselines.js'
import { AdaptiveLimit } from '../../src/run/concurrency.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'

describe('searchBaselines', () => {
  const PROMPT = fakeId('prm', 9)
  /** a judged evaluation of an evaluator that has no earlier completed evaluation */
  const judged = makeEvaluation({ n: 99_999, evaluatorId: fakeId('evl', 1), submittedAt: 1e13 })

  async function searchAmong(others: number) {
    const search = await FakeAdaline.start()
    search.addPrompt(
      PROMPT,
      Array.from({ length: others }, (_, i) =>
        makeEvaluation({ n: i + 1, evaluatorId: fakeId('evl', 2), submittedAt: 1e12 + i })
      )
    )
    try {
      const client = createClient(
        createHttp({ baseUrl: new URL(search.url), apiKey: search.apiKey })
      )
      const result = await searchBaselines(
        client,
        [{ promptId: PROMPT, filters: { status: 'completed', sort: 'createdAt:desc' } }],
        [{ promptId: PROMPT, evaluation: judged }],
        { limit: new AdaptiveLimit(2), log: () => undefined }
      )
      return { ...result, requests: search.requests.length }
    } finally {
      await search.close()
    }
  }

  it('says the search was cut short only when more pages were left', async () => {
    const exactly = await searchAmong(MAX_BASELINE_PAGES * 200)
    expect(exactly.requests).toBe(MAX_BASELINE_PAGES)
    expect(exactly.found.size).toBe(0)
    expect(exactly.cut).toEqual([])

    const more = await searchAmong(MAX_BASELINE_PAGES * 200 + 1)
    expect(more.requests).toBe(MAX_BASELINE_PAGES)
    expect(more.cut).toEqual([PROMPT])
  })
})

/** Failing rows over real HTTP against the fake API: only what the report shows is fetched. */
import { createClient } from '../../src/adaline/client.js'
import { createHttp } from '../../src/adaline/http.js'
import { AdaptiveLimit } from '../../src/run/concurrency.js'
import {
  MAX_EVALUATIONS_WITH_ROWS,
  ROWS_PER_EVALUATION,
  evaluationsWithRows,
  failingRows
} from '../../src/run/rows.js'
import type { Listed } from '../../src/judge/judged-set.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

function judged(): Listed[] {
  return api.evaluations(PROMPT).map(evaluation => ({ promptId: PROMPT, evaluation }))
}

async function rows(items: Listed[]) {
  const client = createClient(createHttp({ baseUrl: new URL(api.url), apiKey: api.apiKey }))
  const warnings: string[] = []
  const found = await failingRows(client, items, {
    limit: new AdaptiveLimit(8),
    warn: message => warnings.push(message)
  })
  const asked = api.requests.map(r => [
    r.path.split('/')[5],
    r.query.get('grade'),
    r.query.get('limit')
  ])
  return { found, warnings, asked }
}

describe('failingRows', () => {
  it('fetches the rows of the evaluations with the most failing runs only', async () => {
    // fail counts 1..8, and one with unknown runs only
    api.addPrompt(PROMPT, [
      ...[3, 8, 1, 5, 7, 2, 6, 4].map((fail, i) =>
        makeEvaluation({ n: i + 1, pass: 30, fail, unknown: 0 })
      ),
      makeEvaluation({ n: 9, pass: 30, fail: 0, unknown: 9 })
    ])
    const { found, asked } = await rows(judged())
    const shown = [2, 5, 7, 4, 8].map(n => fakeId('run', n)) // 8, 7, 6, 5, 4 failing runs
    expect(MAX_EVALUATIONS_WITH_ROWS).toBe(5)
    expect([...found.keys()].sort()).toEqual([...shown].sort())
    expect(asked.map(([runId]) => runId).sort()).toEqual([...shown].sort())
    expect(asked.every(([, grade]) => grade === 'fail')).toBe(true)
  })

  it('asks for unknown rows only for the room the failing ones leave', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, pass: 0, fail: 25, unknown: 5 }),
      makeEvaluation({ n: 2, pass: 10, fail: 6, unknown: 4 }),
      makeEvaluation({ n: 3, pass: 10, fail: 0, unknown: 3 })
    ])
    const { found, asked } = await rows(judged())
    expect(asked.sort()).toEqual(
      [
        [fakeId('run', 1), 'fail', String(ROWS_PER_EVALUATION)],
        [fakeId('run', 2), 'fail', String(ROWS_PER_EVALUATION)],
        [fakeId('run', 2), 'unknown', String(ROWS_PER_EVALUATION - 6)],
        [fakeId('run', 3), 'unknown', String(ROWS_PER_EVALUATION)]
      ].sort()
    )
    expect(found.get(fakeId('run', 1))).toHaveLength(ROWS_PER_EVALUATION)
    expect(found.get(fakeId('run', 2))!.map(r => r.grade)).toEqual([
      ...Array(6).fill('fail'),
      ...Array(4).fill('unknown')
    ])
  })

  it('asks for nothing when no judged evaluation has failing or unknown runs', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 10, fail: 0, unknown: 0 })])
    const { found, asked } = await rows(judged())
    expect(found.size).toBe(0)
    expect(asked).toEqual([])
  })
})

describe('evaluationsWithRows', () => {
  it('breaks ties by unknown runs, then keeps the judged order', () => {
    const items = [
      makeEvaluation({ n: 1, fail: 2, unknown: 0 }),
      makeEvaluation({ n: 2, fail: 2, unknown: 1 }),
      makeEvaluation({ n: 3, fail: 2, unknown: 0 })
    ].map(evaluation => ({ promptId: PROMPT, evaluation }))
    expect(evaluationsWithRows(items).map(item => item.evaluation.runId)).toEqual(
      [2, 1, 3].map(n => fakeId('run', n))
    )
  })

  it('takes first the evaluations that broke a rule, whatever their failing runs', () => {
    const items = Array.from({ length: 7 }, (_, i) =>
      makeEvaluation({ n: i + 1, fail: 10 - i, unknown: 0 })
    ).map(evaluation => ({ promptId: PROMPT, evaluation }))
    // the two with the fewest failing runs broke a rule (say, max-failed-rows): they are kept
    const broke = new Set([fakeId('run', 6), fakeId('run', 7)])
    expect(evaluationsWithRows(items, broke).map(item => item.evaluation.runId)).toEqual(
      [6, 7, 1, 2, 3].map(n => fakeId('run', n))
    )
  })
})

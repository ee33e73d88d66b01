import * as v from 'valibot'
import {
  EVALUATION_STATUSES,
  evaluationPageSchema,
  evaluationSchema,
  evaluatorPageSchema,
  resultPageSchema,
  type Evaluation,
  type Evaluator,
  type Result
} from '../../src/adaline/schema.js'
import {
  EVALUATOR_TITLES,
  FakeAdaline,
  fakeId,
  makeEvaluation,
  pairedEvaluations,
  rowIdOf,
  sampleWorkspace,
  type FakeAdalineOptions,
  type RecordedRequest
} from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
const OTHER_PROMPT = fakeId('prm', 2)
const EVALUATOR_A = fakeId('evl', 1)
const EVALUATOR_B = fakeId('evl', 2)
const DATASET_A = fakeId('dst', 1)
const DATASET_B = fakeId('dst', 2)
const T0 = 1_760_000_000_000

interface Page {
  evaluations: Evaluation[]
  pagination: { limit: number; returned: number; hasMore: boolean; nextCursor: string | null }
}

let fake: FakeAdaline

beforeEach(async () => {
  fake = await FakeAdaline.start()
})

afterEach(async () => {
  await fake.close()
})

function auth(): Record<string, string> {
  return { authorization: `Bearer ${fake.apiKey}` }
}

function call(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${fake.url}${path}`, { ...init, headers: { ...auth(), ...init.headers } })
}

function listPath(promptId: string, query: Record<string, string | number> | string = ''): string {
  const search =
    typeof query === 'string'
      ? query
      : new URLSearchParams(
          Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])
        ).toString()
  return `/prompts/${promptId}/evaluations${search ? `?${search}` : ''}`
}

async function list(
  promptId: string,
  query: Record<string, string | number> | string = ''
): Promise<Page> {
  const response = await call(listPath(promptId, query))
  expect(response.status).toBe(200)
  const body = (await response.json()) as Page
  expect(v.safeParse(evaluationPageSchema, body).success).toBe(true)
  return body
}

async function errorOf(
  response: Response
): Promise<{ status: number; code: string; message: string }> {
  const body = (await response.json()) as { error: { code: string; message: string } }
  return { status: response.status, ...body.error }
}

/** Evaluations n = 1..count, one minute apart, alternating evaluators/datasets, statuses cycling. */
function many(count: number): Evaluation[] {
  return Array.from({ length: count }, (_, i) =>
    makeEvaluation({
      n: i + 1,
      status: EVALUATION_STATUSES[i % EVALUATION_STATUSES.length],
      evaluatorId: i % 2 === 0 ? EVALUATOR_A : EVALUATOR_B,
      datasetId: i % 3 === 0 ? DATASET_B : DATASET_A,
      submittedAt: T0 + i * 60_000
    })
  )
}

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise(r => setTimeout(r, 5))
  expect(condition()).toBe(true)
}

describe('auth', () => {
  beforeEach(() => fake.addPrompt(PROMPT, many(2)))

  it('answers 401 UNAUTHORIZED without an Authorization header', async () => {
    const response = await fetch(`${fake.url}${listPath(PROMPT)}`)
    expect(await errorOf(response)).toEqual({
      status: 401,
      code: 'UNAUTHORIZED',
      message: 'Invalid or missing API key.'
    })
  })

  it('answers 401 for a wrong key, a lowercase scheme or a bare key', async () => {
    for (const value of [
      'Bearer adl_wrong',
      `bearer ${fake.apiKey}`,
      fake.apiKey,
      `Bearer  ${fake.apiKey}`
    ]) {
      const response = await fetch(`${fake.url}${listPath(PROMPT)}`, {
        headers: { authorization: value }
      })
      expect(response.status).toBe(401)
      await response.arrayBuffer()
    }
  })

  it('accepts exactly "Bearer <apiKey>" and uses a realistic default key', async () => {
    expect(fake.apiKey).toMatch(/^adl_test_[0-9a-f]{32}$/)
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v2$/)
    await list(PROMPT)
  })

  it('uses the apiKey given in the options', async () => {
    const other = await FakeAdaline.start({ apiKey: 'adl_custom_key' })
    try {
      expect(other.apiKey).toBe('adl_custom_key')
    } finally {
      await other.close()
    }
  })
})

describe('list evaluations: validation', () => {
  beforeEach(() => fake.addPrompt(PROMPT, many(3)))

  it('answers 400 naming promptId when it is shorter than 20 or longer than 80 characters', async () => {
    for (const id of ['p'.repeat(19), 'p'.repeat(81)]) {
      const error = await errorOf(await call(listPath(id)))
      expect(error.status).toBe(400)
      expect(error.code).toBe('BAD_REQUEST')
      expect(error.message).toContain('promptId')
    }
  })

  it('accepts promptIds of exactly 20 and 80 characters', async () => {
    fake.addPrompt('p'.repeat(20))
    fake.addPrompt('p'.repeat(80))
    expect((await list('p'.repeat(20))).evaluations).toEqual([])
    expect((await list('p'.repeat(80))).evaluations).toEqual([])
  })

  it('answers 404 "Prompt not found." for an unknown prompt', async () => {
    expect(await errorOf(await call(listPath(OTHER_PROMPT)))).toEqual({
      status: 404,
      code: 'NOT_FOUND',
      message: 'Prompt not found.'
    })
  })

  it('answers 400 for limit 201, 0, negative or non-integer, and accepts 1 and 200', async () => {
    for (const limit of ['201', '0', '-1', '1.5', 'ten', '']) {
      const error = await errorOf(await call(listPath(PROMPT, { limit })))
      expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST' })
      expect(error.message).toContain('limit')
    }
    expect((await list(PROMPT, { limit: 1 })).pagination.limit).toBe(1)
    expect((await list(PROMPT, { limit: 200 })).pagination.limit).toBe(200)
  })

  it('answers 400 when status is repeated (only one value is allowed)', async () => {
    const error = await errorOf(await call(listPath(PROMPT, 'status=queued&status=running')))
    expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST' })
    expect(error.message).toContain("'status'")
  })

  it('answers 400 when any other parameter is repeated', async () => {
    const response = await call(listPath(PROMPT, 'limit=10&limit=10'))
    expect(response.status).toBe(400)
    await response.arrayBuffer()
  })

  it('answers 400 naming an unknown query parameter', async () => {
    for (const query of ['page=2', 'statuses=queued', 'evaluator_id=x', 'Status=queued']) {
      const error = await errorOf(await call(listPath(PROMPT, query)))
      expect(error.status).toBe(400)
      expect(error.message).toContain(query.split('=')[0])
    }
  })

  it('answers 400 for invalid values of status, evaluatorId, datasetId, sort, createdAfter/Before, cursor', async () => {
    const bad: Record<string, string>[] = [
      { status: 'done' },
      { status: '' },
      { evaluatorId: 'e'.repeat(19) },
      { datasetId: 'd'.repeat(81) },
      { sort: 'createdAt' },
      { sort: 'submittedAt:desc' },
      { createdAfter: '-1' },
      { createdAfter: '1.5' },
      { createdBefore: '1e3' },
      { createdBefore: '' },
      { cursor: '' }
    ]
    for (const query of bad) {
      const error = await errorOf(await call(listPath(PROMPT, query)))
      expect(error.status).toBe(400)
      expect(error.message).toContain(Object.keys(query)[0])
    }
  })

  it('answers 404 for other routes and 405 with Allow for a wrong method', async () => {
    for (const path of ['/prompts', `/prompts/${PROMPT}`, `/prompts/${PROMPT}/evaluators/x`]) {
      expect((await errorOf(await call(path))).status).toBe(404)
    }
    const outside = await fetch(fake.url.replace(/\/v2$/, '/v1') + listPath(PROMPT), {
      headers: auth()
    })
    expect(outside.status).toBe(404)
    await outside.arrayBuffer()

    const post = await call(listPath(PROMPT), { method: 'DELETE' })
    expect(post.headers.get('allow')).toBe('GET, POST')
    expect(await errorOf(post)).toMatchObject({ status: 405, code: 'METHOD_NOT_ALLOWED' })
    const runId = fake.evaluations(PROMPT)[0]!.runId
    const get = await call(`/prompts/${PROMPT}/evaluations/${runId}/cancel`)
    expect(get.headers.get('allow')).toBe('POST')
    expect((await errorOf(get)).status).toBe(405)
  })
})

describe('list evaluations: pages and cursors', () => {
  it('visits every evaluation exactly once across pages of limit=200', async () => {
    fake.addPrompt(PROMPT, many(450))
    const seen: string[] = []
    const pages: Page['pagination'][] = []
    let cursor: string | null = null
    do {
      const page: Page = await list(PROMPT, { limit: 200, ...(cursor ? { cursor } : {}) })
      seen.push(...page.evaluations.map(e => e.runId))
      pages.push(page.pagination)
      cursor = page.pagination.nextCursor
    } while (cursor)
    expect(pages.map(p => [p.returned, p.hasMore])).toEqual([
      [200, true],
      [200, true],
      [50, false]
    ])
    expect(pages[2]!.nextCursor).toBeNull()
    expect(seen).toHaveLength(450)
    expect(new Set(seen).size).toBe(450)
    expect(new Set(seen)).toEqual(new Set(fake.evaluations(PROMPT).map(e => e.runId)))
  })

  it('uses a default page size of 50, configurable by defaultPageSize', async () => {
    fake.addPrompt(PROMPT, many(60))
    const page = await list(PROMPT)
    expect(page.pagination).toMatchObject({ limit: 50, returned: 50, hasMore: true })
    const small = await FakeAdaline.start({ defaultPageSize: 7 })
    try {
      small.addPrompt(PROMPT, many(10))
      const response = await fetch(`${small.url}${listPath(PROMPT)}`, {
        headers: { authorization: `Bearer ${small.apiKey}` }
      })
      expect(((await response.json()) as Page).pagination.returned).toBe(7)
    } finally {
      await small.close()
    }
  })

  it('issues opaque random cursors', async () => {
    fake.addPrompt(PROMPT, many(5))
    const first = await list(PROMPT, { limit: 2 })
    const again = await list(PROMPT, { limit: 2 })
    const cursor = first.pagination.nextCursor!
    expect(cursor).not.toBe(again.pagination.nextCursor)
    expect(cursor).toMatch(/^[A-Za-z0-9_-]{20,}$/)
  })

  it('answers the same page again when a cursor is retried, and lets limit change between pages', async () => {
    fake.addPrompt(PROMPT, many(5))
    const cursor = (await list(PROMPT, { limit: 2 })).pagination.nextCursor!
    const a = await list(PROMPT, { limit: 2, cursor })
    const b = await list(PROMPT, { limit: 2, cursor })
    expect(b.evaluations).toEqual(a.evaluations)
    const rest = await list(PROMPT, { limit: 10, cursor })
    expect(rest.pagination).toEqual({ limit: 10, returned: 3, hasMore: false, nextCursor: null })
  })

  it('answers 400 INVALID_CURSOR for an unknown cursor, or one used with other filters or another prompt', async () => {
    fake.addPrompt(PROMPT, many(12))
    fake.addPrompt(OTHER_PROMPT, many(12))
    const cursor = (await list(PROMPT, { limit: 1, status: 'queued' })).pagination.nextCursor!
    const foreign = await FakeAdaline.start()
    let foreignCursor: string
    try {
      foreign.addPrompt(PROMPT, many(5))
      const response = await fetch(`${foreign.url}${listPath(PROMPT, { limit: 1 })}`, {
        headers: { authorization: `Bearer ${foreign.apiKey}` }
      })
      foreignCursor = ((await response.json()) as Page).pagination.nextCursor!
    } finally {
      await foreign.close()
    }
    const attempts: [string, Record<string, string | number>][] = [
      [PROMPT, { cursor: 'not-a-cursor' }],
      [PROMPT, { status: 'queued', cursor: foreignCursor }],
      [PROMPT, { cursor }],
      [PROMPT, { status: 'running', cursor }],
      [PROMPT, { status: 'queued', sort: 'createdAt:asc', cursor }],
      [OTHER_PROMPT, { status: 'queued', cursor }]
    ]
    for (const [promptId, query] of attempts) {
      const error = await errorOf(await call(listPath(promptId, query)))
      expect({ query, ...error }).toMatchObject({ query, status: 400, code: 'INVALID_CURSOR' })
    }
    // the same filters still work
    const next = await list(PROMPT, { limit: 1, status: 'queued', cursor })
    expect(next.evaluations.map(e => e.status)).toEqual(['queued'])
  })

  it('keeps page boundaries stable when evaluations are cancelled between pages', async () => {
    const evaluations = Array.from({ length: 6 }, (_, i) =>
      makeEvaluation({ n: i + 1, status: 'running', submittedAt: T0 + i })
    )
    fake.addPrompt(PROMPT, evaluations)
    const first = await list(PROMPT, { limit: 2, sort: 'createdAt:asc' })
    expect(first.evaluations.map(e => e.runId)).toEqual([fakeId('run', 1), fakeId('run', 2)])
    // cancel the first page's evaluations: an offset over the live list would now skip two
    for (const e of first.evaluations) {
      const response = await call(`/prompts/${PROMPT}/evaluations/${e.runId}/cancel`, {
        method: 'POST'
      })
      expect(response.status).toBe(200)
      await response.arrayBuffer()
    }
    const cursor = first.pagination.nextCursor!
    const second = await list(PROMPT, { limit: 2, sort: 'createdAt:asc', cursor })
    expect(second.evaluations.map(e => e.runId)).toEqual([fakeId('run', 3), fakeId('run', 4)])
  })

  it('leaves out an evaluation that stopped matching the status filter between pages', async () => {
    const evaluations = Array.from({ length: 4 }, (_, i) =>
      makeEvaluation({ n: i + 1, status: 'running', submittedAt: T0 + i })
    )
    fake.addPrompt(PROMPT, evaluations)
    const query = { limit: 2, sort: 'createdAt:asc', status: 'running' }
    const first = await list(PROMPT, query)
    const third = fakeId('run', 3)
    const response = await call(`/prompts/${PROMPT}/evaluations/${third}/cancel`, {
      method: 'POST'
    })
    await response.arrayBuffer()
    const second = await list(PROMPT, { ...query, cursor: first.pagination.nextCursor! })
    expect(second.evaluations.map(e => e.runId)).toEqual([fakeId('run', 4)])
    expect(second.pagination).toMatchObject({ returned: 1, hasMore: false, nextCursor: null })
  })
})

describe('list evaluations: filters and sort', () => {
  beforeEach(() => fake.addPrompt(PROMPT, many(24)))
  const all = (): Evaluation[] => fake.evaluations(PROMPT)
  const ids = (evaluations: Evaluation[]): string[] => evaluations.map(e => e.runId).sort()

  it('filters by status', async () => {
    for (const status of EVALUATION_STATUSES) {
      const page = await list(PROMPT, { status, limit: 200 })
      expect(page.evaluations.length).toBe(4)
      expect(ids(page.evaluations)).toEqual(ids(all().filter(e => e.status === status)))
    }
  })

  it('filters by evaluatorId and datasetId, together with status', async () => {
    const byEvaluator = await list(PROMPT, { evaluatorId: EVALUATOR_B, limit: 200 })
    expect(ids(byEvaluator.evaluations)).toEqual(
      ids(all().filter(e => e.evaluatorId === EVALUATOR_B))
    )
    const byDataset = await list(PROMPT, { datasetId: DATASET_B, limit: 200 })
    expect(ids(byDataset.evaluations)).toEqual(ids(all().filter(e => e.datasetId === DATASET_B)))
    const combined = await list(PROMPT, {
      evaluatorId: EVALUATOR_A,
      datasetId: DATASET_A,
      status: 'completed',
      limit: 200
    })
    const expected = all().filter(
      e => e.evaluatorId === EVALUATOR_A && e.datasetId === DATASET_A && e.status === 'completed'
    )
    expect(expected.length).toBeGreaterThan(0)
    expect(ids(combined.evaluations)).toEqual(ids(expected))
  })

  it('filters on timeline.submittedAt: createdAfter inclusive, createdBefore exclusive', async () => {
    const page = await list(PROMPT, {
      createdAfter: T0 + 5 * 60_000,
      createdBefore: T0 + 9 * 60_000,
      limit: 200
    })
    expect(page.evaluations.map(e => e.timeline.submittedAt).sort()).toEqual([
      T0 + 5 * 60_000,
      T0 + 6 * 60_000,
      T0 + 7 * 60_000,
      T0 + 8 * 60_000
    ])
    expect((await list(PROMPT, { createdAfter: 0, limit: 200 })).evaluations).toHaveLength(24)
  })

  it('sorts by createdAt descending by default, ascending on request', async () => {
    const times = (page: Page): number[] => page.evaluations.map(e => e.timeline.submittedAt)
    const byTime = all().map(e => e.timeline.submittedAt)
    const ascending = [...byTime].sort((a, b) => a - b)
    expect(times(await list(PROMPT, { limit: 200 }))).toEqual([...ascending].reverse())
    expect(times(await list(PROMPT, { limit: 200, sort: 'createdAt:desc' }))).toEqual(
      [...ascending].reverse()
    )
    expect(times(await list(PROMPT, { limit: 200, sort: 'createdAt:asc' }))).toEqual(ascending)
  })
})

describe('cancel and get one', () => {
  const running = makeEvaluation({ n: 1, status: 'running' })
  const queued = makeEvaluation({ n: 2, status: 'queued' })
  const completed = makeEvaluation({ n: 3, status: 'completed' })
  beforeEach(() => fake.addPrompt(PROMPT, [running, queued, completed]))
  const cancel = (promptId: string, runId: string): Promise<Response> =>
    call(`/prompts/${promptId}/evaluations/${runId}/cancel`, { method: 'POST' })

  it('sets a running or queued evaluation to cancelling and answers it, then 409 on a second cancel', async () => {
    for (const evaluation of [running, queued]) {
      const response = await cancel(PROMPT, evaluation.runId)
      expect(response.status).toBe(200)
      const body = (await response.json()) as Evaluation
      expect(v.parse(evaluationSchema, body)).toEqual({ ...evaluation, status: 'cancelling' })
      expect(fake.evaluations(PROMPT).find(e => e.runId === evaluation.runId)?.status).toBe(
        'cancelling'
      )
      expect(await errorOf(await cancel(PROMPT, evaluation.runId))).toEqual({
        status: 409,
        code: 'CONFLICT',
        message: 'Evaluation is already cancelling.'
      })
    }
  })

  it('answers 409 naming the status for a finished evaluation', async () => {
    expect(await errorOf(await cancel(PROMPT, completed.runId))).toMatchObject({
      status: 409,
      message: 'Evaluation is already completed.'
    })
  })

  it('answers 404 for an unknown prompt or evaluation and 400 for IDs of the wrong length', async () => {
    expect(await errorOf(await cancel(OTHER_PROMPT, running.runId))).toMatchObject({
      status: 404,
      message: 'Prompt not found.'
    })
    expect(await errorOf(await cancel(PROMPT, fakeId('run', 99)))).toMatchObject({
      status: 404,
      message: 'Evaluation not found.'
    })
    const short = await errorOf(await cancel(PROMPT, 'r'.repeat(19)))
    expect(short).toMatchObject({ status: 400, code: 'BAD_REQUEST' })
    expect(short.message).toContain('evaluationId')
    const long = await errorOf(await cancel('p'.repeat(81), running.runId))
    expect(long.message).toContain('promptId')
  })

  it('answers one evaluation on GET /prompts/{promptId}/evaluations/{evaluationId}', async () => {
    const response = await call(`/prompts/${PROMPT}/evaluations/${completed.runId}`)
    expect(await response.json()).toEqual(completed)
    expect((await call(`/prompts/${PROMPT}/evaluations/${fakeId('run', 9)}`)).status).toBe(404)
  })

  it('moves an evaluation along with updateEvaluation', async () => {
    fake.updateEvaluation(PROMPT, running.runId, { status: 'completed' })
    expect((await cancel(PROMPT, running.runId)).status).toBe(409)
  })
})

describe('faults', () => {
  beforeEach(() => fake.addPrompt(PROMPT, many(3)))

  it('answers an injected status with its headers and an Adaline error body', async () => {
    fake.inject({ status: 429, headers: { 'retry-after': '1' } })
    const response = await call(listPath(PROMPT))
    expect(response.headers.get('retry-after')).toBe('1')
    expect(await errorOf(response)).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' })
    await list(PROMPT) // used up
  })

  it('hits `times` matching requests, then the request is served normally; Infinity never runs out', async () => {
    fake.inject({ status: 503, times: 2 })
    const statuses: number[] = []
    for (let i = 0; i < 3; i++) {
      const response = await call(listPath(PROMPT))
      statuses.push(response.status)
      await response.arrayBuffer()
    }
    expect(statuses).toEqual([503, 503, 200])
    fake.inject({ status: 500, times: Infinity })
    for (let i = 0; i < 5; i++) expect((await call(listPath(PROMPT))).status).toBe(500)
    expect(fake.pendingFaults).toBe(1)
  })

  it('matches on method and on the full pathname (substring or RegExp), first injected first', async () => {
    const runId = fake.evaluations(PROMPT)[0]!.runId
    fake.inject({ method: 'POST', status: 502 })
    fake.inject({ path: /\/cancel$/, status: 504 })
    fake.inject({ path: `/v2/prompts/${PROMPT}/evaluations`, status: 500 })
    // GET list skips the POST-only fault and the /cancel one
    expect((await call(listPath(PROMPT))).status).toBe(500)
    // POST cancel: the first matching fault wins
    const cancelPath = `/prompts/${PROMPT}/evaluations/${runId}/cancel`
    expect((await call(cancelPath, { method: 'POST' })).status).toBe(502)
    expect((await call(cancelPath, { method: 'POST' })).status).toBe(504)
    expect(fake.pendingFaults).toBe(0)
  })

  it('applies before auth, so a request without a key can be faulted', async () => {
    fake.inject({ status: 503 })
    const response = await fetch(`${fake.url}${listPath(PROMPT)}`)
    expect(response.status).toBe(503)
    await response.arrayBuffer()
  })

  it('sends a string body raw, so a malformed JSON answer can be served', async () => {
    fake.inject({ status: 200, body: '{"evaluations": [' })
    const response = await call(listPath(PROMPT))
    expect(response.headers.get('content-type')).toContain('application/json')
    expect(await response.text()).toBe('{"evaluations": [')
    fake.inject({ body: { evaluations: 'nope' } })
    const second = await call(listPath(PROMPT))
    expect(second.status).toBe(200)
    expect(await second.json()).toEqual({ evaluations: 'nope' })
  })

  it('calls a function body with each request, so every answer can differ', async () => {
    let pages = 0
    fake.inject({
      times: Infinity,
      body: (request: RecordedRequest) => ({
        cursor: request.query.get('cursor'),
        page: ++pages
      })
    })
    expect(await (await call(listPath(PROMPT))).json()).toEqual({ cursor: null, page: 1 })
    expect(await (await call(listPath(PROMPT, { cursor: 'c1' }))).json()).toEqual({
      cursor: 'c1',
      page: 2
    })
  })

  it('sends a redirect with its Location header', async () => {
    fake.inject({ status: 307, headers: { location: 'http://127.0.0.1:9/v2/elsewhere' } })
    const response = await call(listPath(PROMPT), { redirect: 'manual' })
    expect(response.status).toBe(307)
    expect(response.headers.get('location')).toBe('http://127.0.0.1:9/v2/elsewhere')
  })

  it('resets the connection without answering', async () => {
    fake.inject({ reset: true })
    const error = await call(listPath(PROMPT)).then(
      () => undefined,
      (e: unknown) => e as Error & { cause?: { code?: string } }
    )
    expect(error?.message).toBe('fetch failed')
    expect(['ECONNRESET', 'UND_ERR_SOCKET']).toContain(error?.cause?.code)
  })

  it('serves a dropAnswer request, so a start takes effect, then resets instead of answering', async () => {
    fake.inject({ method: 'POST', dropAnswer: true })
    const error = await call(listPath(PROMPT), { method: 'POST', body: '{}' }).then(
      () => undefined,
      (e: unknown) => e as Error
    )
    expect(error?.message).toBe('fetch failed')
    expect(fake.evaluations(PROMPT)).toHaveLength(3 + 1)
    expect((await call(listPath(PROMPT), { method: 'POST', body: '{}' })).status).toBe(202)
  })

  it('hangs without answering until the server closes', async () => {
    fake.inject({ hang: true })
    let settled = false
    const pending = call(listPath(PROMPT)).finally(() => {
      settled = true
    })
    await waitFor(() => fake.requests.length === 1)
    await new Promise(r => setTimeout(r, 50))
    expect(settled).toBe(false)
    await fake.close()
    await expect(pending).rejects.toThrow('fetch failed')
  })

  it('delays the answer by delayMs, then serves normally when no status is given', async () => {
    fake.inject({ delayMs: 120 })
    const started = Date.now()
    const page = await list(PROMPT)
    expect(Date.now() - started).toBeGreaterThanOrEqual(110)
    expect(page.evaluations).toHaveLength(3)
    fake.inject({ delayMs: 50, status: 500 })
    const started2 = Date.now()
    expect((await call(listPath(PROMPT))).status).toBe(500)
    expect(Date.now() - started2).toBeGreaterThanOrEqual(45)
  })
})

describe('workspace-wide rate limit', () => {
  async function limited(rateLimit: FakeAdalineOptions['rateLimit']): Promise<FakeAdaline> {
    await fake.close()
    fake = await FakeAdaline.start({ rateLimit })
    fake.addPrompt(PROMPT, many(3))
    fake.addPrompt(OTHER_PROMPT, many(3))
    return fake
  }

  async function statusOf(path: string, init: RequestInit = {}): Promise<number> {
    const response = await call(path, init)
    await response.arrayBuffer()
    return response.status
  }

  it('answers 429 RATE_LIMIT_EXCEEDED without Retry-After past the burst, whatever the endpoint', async () => {
    await limited({ requests: 1, windowMs: 3_600_000, burst: 3 })
    const { runId, status } = fake.evaluations(PROMPT)[0]!
    expect(status).toBe('queued')
    // one bucket for the workspace: lists, reads and cancels of any prompt draw from it
    expect(await statusOf(listPath(PROMPT))).toBe(200)
    expect(await statusOf(listPath(OTHER_PROMPT))).toBe(200)
    expect(await statusOf(`/prompts/${PROMPT}/evaluations/${runId}`)).toBe(200)
    const response = await call(`/prompts/${PROMPT}/evaluations/${runId}/cancel`, {
      method: 'POST'
    })
    expect(response.headers.get('retry-after')).toBeNull()
    expect(await errorOf(response)).toMatchObject({ status: 429, code: 'RATE_LIMIT_EXCEEDED' })
    // refused: the cancel was not served
    expect(fake.evaluations(PROMPT)[0]!.status).toBe('queued')
    expect(fake.requests.map(r => r.status)).toEqual([200, 200, 200, 429])
  })

  it('refills at the given rate, and a refused request takes no token', async () => {
    await limited({ requests: 2, windowMs: 1_000, burst: 1 })
    expect(await statusOf(listPath(PROMPT))).toBe(200)
    for (let i = 0; i < 3; i++) expect(await statusOf(listPath(PROMPT))).toBe(429)
    // one token per 500 ms: had the refusals taken tokens, this would still be refused
    await new Promise(resolve => setTimeout(resolve, 700))
    expect(await statusOf(listPath(PROMPT))).toBe(200)
  })

  it("never counts a request that a fault answers: the fault's answer is not the API's", async () => {
    await limited({ requests: 1, windowMs: 3_600_000, burst: 1 })
    fake.inject({ status: 503 })
    expect(await statusOf(listPath(PROMPT))).toBe(503)
    expect(await statusOf(listPath(PROMPT))).toBe(200)
    expect(await statusOf(listPath(PROMPT))).toBe(429)
  })

  it('sends the draft RateLimit headers only when asked', async () => {
    await limited({ requests: 60, windowMs: 60_000, burst: 2, headers: true })
    const first = await call(listPath(PROMPT))
    await first.arrayBuffer()
    expect(first.headers.get('ratelimit-limit')).toBe('60')
    expect(first.headers.get('ratelimit-remaining')).toBe('1')
    expect(first.headers.get('ratelimit-reset')).toBe('0')
    await statusOf(listPath(PROMPT))
    const refused = await call(listPath(PROMPT))
    await refused.arrayBuffer()
    expect(refused.status).toBe(429)
    expect(refused.headers.get('ratelimit-remaining')).toBe('0')
    expect(refused.headers.get('ratelimit-reset')).toBe('1')

    await limited({ requests: 60, burst: 2 })
    const plain = await call(listPath(PROMPT))
    await plain.arrayBuffer()
    expect(plain.headers.get('ratelimit-limit')).toBeNull()
  })

  it('refuses a limit that could never serve a request', async () => {
    await expect(FakeAdaline.start({ rateLimit: { requests: 0 } })).rejects.toThrow(RangeError)
    await expect(FakeAdaline.start({ rateLimit: { requests: 10, burst: 0.5 } })).rejects.toThrow(
      RangeError
    )
  })
})

describe('bookkeeping', () => {
  it('records every request with method, path, query, headers and body', async () => {
    fake.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
    await list(PROMPT, { status: 'running', limit: 5 })
    const response = await call(`/prompts/${PROMPT}/evaluations/${fakeId('run', 1)}/cancel`, {
      method: 'POST',
      body: '{"reason":"superseded"}',
      headers: { 'content-type': 'application/json' }
    })
    await response.arrayBuffer()
    const [get, post] = fake.requests
    expect(get).toMatchObject({
      method: 'GET',
      path: `/v2/prompts/${PROMPT}/evaluations`,
      body: ''
    })
    expect(get!.query.get('status')).toBe('running')
    expect(get!.query.get('limit')).toBe('5')
    expect(get!.headers.authorization).toBe(`Bearer ${fake.apiKey}`)
    expect(post).toMatchObject({ method: 'POST', body: '{"reason":"superseded"}' })
    fake.clearRequests()
    expect(fake.requests).toEqual([])
  })

  it('counts peak requests in flight and the time spent serving them, latency included', async () => {
    const slow = await FakeAdaline.start({ latencyMs: 60 })
    try {
      slow.addPrompt(PROMPT, many(3))
      await Promise.all(
        Array.from({ length: 5 }, async () => {
          const response = await fetch(`${slow.url}${listPath(PROMPT)}`, {
            headers: { authorization: `Bearer ${slow.apiKey}` }
          })
          expect(response.status).toBe(200)
          await response.arrayBuffer()
        })
      )
      expect(slow.peakInFlight).toBe(5)
      expect(slow.servingMs).toBeGreaterThanOrEqual(5 * 55)
      const one = await fetch(`${slow.url}${listPath(PROMPT)}`, {
        headers: { authorization: `Bearer ${slow.apiKey}` }
      })
      await one.arrayBuffer()
      expect(slow.peakInFlight).toBe(5)
    } finally {
      await slow.close()
    }
  })

  it('rejects invalid or duplicate evaluations when they are added', () => {
    const bad = { ...makeEvaluation({ n: 1 }), runId: 'short' }
    expect(() => fake.addPrompt(PROMPT, [bad])).toThrow('invalid evaluation')
    fake.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    expect(() => fake.addEvaluations(PROMPT, [makeEvaluation({ n: 1 })])).toThrow('duplicate')
  })
})

describe('data helpers', () => {
  it('fakeId is deterministic, distinct and 20..80 characters', () => {
    expect(fakeId('prm', 1)).toBe('prm_00000000000000000001')
    expect(fakeId('prm', 1)).toBe(fakeId('prm', 1))
    expect(fakeId('prm', 1)).not.toBe(fakeId('prm', 2))
    expect(fakeId('', 0).length).toBeGreaterThanOrEqual(20)
    expect(() => fakeId('k'.repeat(60), 1)).toThrow()
  })

  it('makeEvaluation builds a valid evaluation for every status, consistent with it', () => {
    for (const status of EVALUATION_STATUSES) {
      const evaluation = makeEvaluation({ status })
      expect(v.safeParse(evaluationSchema, evaluation).success).toBe(true)
      expect(evaluation.timeline.startedAt === null).toBe(status === 'queued')
      expect(evaluation.timeline.finishedAt !== null).toBe(
        ['completed', 'failed', 'cancelled'].includes(status)
      )
    }
    expect(makeEvaluation({ status: 'completed' }).progress.percent).toBe(100)
  })

  it('makeEvaluation merges progress, metrics and timeline over the defaults', () => {
    const evaluation = makeEvaluation({
      n: 7,
      pass: 5,
      fail: 2,
      metrics: { totalCost: 0.0421 },
      timeline: { submittedAt: 123 },
      progress: { failedRows: 1 }
    })
    expect(evaluation.runId).toBe(fakeId('run', 7))
    expect(evaluation.metrics).toMatchObject({ passRuns: 5, failRuns: 2, totalCost: 0.0421 })
    expect(evaluation.metrics.totalTokenCount).toBeGreaterThan(0)
    expect(evaluation.timeline.submittedAt).toBe(123)
    expect(evaluation.timeline.startedAt).toBeGreaterThan(123)
    expect(evaluation.progress).toMatchObject({ failedRows: 1, totalRows: 9, percent: 100 })
  })

  it('sampleWorkspace has 2 prompts, 2 evaluators, 1 dataset and ~12 valid evaluations in every status', async () => {
    const now = Date.now()
    const workspace = sampleWorkspace(now)
    expect(workspace).toHaveLength(2)
    const evaluations = workspace.flatMap(p => p.evaluations)
    expect(evaluations).toHaveLength(12)
    for (const e of evaluations) expect(v.safeParse(evaluationSchema, e).success).toBe(true)
    expect(new Set(evaluations.map(e => e.status))).toEqual(new Set(EVALUATION_STATUSES))
    expect(new Set(evaluations.map(e => e.evaluatorId)).size).toBe(2)
    expect(new Set(evaluations.map(e => e.datasetId)).size).toBe(1)
    expect(new Set(evaluations.map(e => e.runId)).size).toBe(12)
    expect(evaluations.every(e => e.timeline.submittedAt <= now)).toBe(true)
    expect(evaluations.some(e => e.metrics.unknownRuns > 0)).toBe(true)
    expect(sampleWorkspace(now)).toEqual(workspace)
    for (const { promptId, evaluations: items } of workspace) fake.addPrompt(promptId, items)
    const page = await list(workspace[0]!.promptId)
    expect(page.evaluations).toHaveLength(workspace[0]!.evaluations.length)
  })
})

describe('start an evaluation', () => {
  const start = (promptId: string, body: unknown = {}): Promise<Response> =>
    call(`/prompts/${promptId}/evaluations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body)
    })

  it('answers 202 with a new queued evaluation that then shows in the listing', async () => {
    const older = makeEvaluation({ n: 1, evaluatorId: EVALUATOR_B, datasetId: DATASET_B })
    fake.addPrompt(PROMPT, [older])
    const before = fake.now()
    const response = await start(PROMPT)
    expect(response.status).toBe(202)
    const created = v.parse(evaluationSchema, await response.json())
    expect(created).toMatchObject({
      runId: fakeId('run', 900_001),
      evaluatorId: EVALUATOR_B, // the newest evaluation's
      datasetId: DATASET_B,
      status: 'queued',
      progress: { totalRows: 20, completedRows: 0, failedRows: 0, percent: 0 },
      metrics: {
        passRuns: 0,
        failRuns: 0,
        unknownRuns: 0,
        totalCost: 0,
        totalLatency: 0,
        totalTokenCount: 0
      },
      timeline: { startedAt: null, finishedAt: null }
    })
    expect(created.timeline.submittedAt).toBeGreaterThanOrEqual(before)
    expect(created.timeline.submittedAt).toBeLessThanOrEqual(fake.now())
    const page = await list(PROMPT)
    expect(page.evaluations.map(e => e.runId)).toEqual([created.runId, older.runId])
    const one = await call(`/prompts/${PROMPT}/evaluations/${created.runId}`)
    expect(((await one.json()) as Evaluation).status).toBe('queued')
  })

  it('uses the evaluatorId and datasetId given, else the prompt settings, else defaults', async () => {
    fake.addPrompt(PROMPT)
    fake.addPrompt(OTHER_PROMPT, [], {
      defaultEvaluatorId: EVALUATOR_B,
      defaultDatasetId: DATASET_B,
      lifecycle: { totalRows: 7 }
    })
    const first = (await (await start(PROMPT, '')).json()) as Evaluation
    expect(first).toMatchObject({ evaluatorId: fakeId('evl', 1), datasetId: fakeId('dst', 1) })
    const given = (await (
      await start(PROMPT, { evaluatorId: EVALUATOR_B, datasetId: DATASET_B })
    ).json()) as Evaluation
    expect(given).toMatchObject({ evaluatorId: EVALUATOR_B, datasetId: DATASET_B })
    // without IDs, the newest evaluation's
    const bare = (await (await start(PROMPT, '')).json()) as Evaluation
    expect(bare).toMatchObject({ evaluatorId: EVALUATOR_B, datasetId: DATASET_B })
    expect(bare.runId).not.toBe(given.runId)
    const configured = (await (await start(OTHER_PROMPT)).json()) as Evaluation
    expect(configured).toMatchObject({
      evaluatorId: EVALUATOR_B,
      datasetId: DATASET_B,
      progress: { totalRows: 7 }
    })
  })

  it('answers 400 for a body that is not a JSON object, an unknown field or a bad ID', async () => {
    fake.addPrompt(PROMPT)
    const cases: [unknown, string][] = [
      ['not json', 'JSON'],
      ['[]', 'object'],
      ['null', 'object'],
      [{ evaluatorId: EVALUATOR_A, priority: 'high' }, "'priority'"],
      [{ evaluatorId: 'e'.repeat(19) }, "'evaluatorId'"],
      [{ datasetId: 'd'.repeat(81) }, "'datasetId'"],
      [{ datasetId: null }, "'datasetId'"]
    ]
    for (const [body, mention] of cases) {
      const error = await errorOf(await start(PROMPT, body))
      expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST' })
      expect(error.message).toContain(mention)
    }
    const query = await call(`${listPath(PROMPT)}?dryRun=1`, { method: 'POST', body: '{}' })
    expect((await errorOf(query)).status).toBe(400)
    expect(fake.evaluations(PROMPT)).toEqual([])
  })

  it('answers 404 for an unknown prompt, 400 for a bad promptId, 401 without the key, and faults apply', async () => {
    fake.addPrompt(PROMPT)
    expect(await errorOf(await start(OTHER_PROMPT))).toMatchObject({
      status: 404,
      message: 'Prompt not found.'
    })
    expect((await errorOf(await start('p'.repeat(19)))).status).toBe(400)
    const anonymous = await fetch(`${fake.url}${listPath(PROMPT)}`, { method: 'POST', body: '{}' })
    expect((await errorOf(anonymous)).status).toBe(401)
    fake.inject({ method: 'POST', path: /\/evaluations$/, status: 503 })
    expect((await errorOf(await start(PROMPT))).status).toBe(503)
    expect(fake.evaluations(PROMPT)).toEqual([])
    expect((await start(PROMPT)).status).toBe(202)
  })
})

describe('lifecycle on the clock', () => {
  // rows 0..9: 0 fail, 2 unknown, 3 fail, 4 error, 6 fail, 9 fail; the rest pass
  const outcome = (row: number) =>
    row === 2 ? 'unknown' : row === 4 ? 'error' : row % 3 === 0 ? 'fail' : 'pass'
  let clock: number

  async function restart(options: FakeAdalineOptions = {}): Promise<void> {
    await fake.close()
    clock = T0
    fake = await FakeAdaline.start({
      now: () => clock,
      lifecycle: { queuedMs: 100, rowMs: 50, cancellingMs: 30, totalRows: 10, outcome },
      ...options
    })
    fake.addPrompt(PROMPT)
  }

  async function started(): Promise<string> {
    const response = await call(listPath(PROMPT), { method: 'POST', body: '{}' })
    expect(response.status).toBe(202)
    return ((await response.json()) as Evaluation).runId
  }

  async function at(ms: number, runId: string): Promise<Evaluation> {
    clock = T0 + ms
    const response = await call(`/prompts/${PROMPT}/evaluations/${runId}`)
    expect(response.status).toBe(200)
    return v.parse(evaluationSchema, await response.json())
  }

  beforeEach(() => restart())

  it('moves queued → running (rows one by one, metrics growing) → completed', async () => {
    const runId = await started()
    expect((await at(99, runId)).status).toBe('queued')
    const first = await at(100, runId)
    expect(first).toMatchObject({
      status: 'running',
      progress: { completedRows: 0, failedRows: 0, percent: 0 },
      timeline: { submittedAt: T0, startedAt: T0 + 100, finishedAt: null }
    })
    let previous = first
    for (let rows = 1; rows <= 9; rows++) {
      const now = await at(100 + rows * 50, runId)
      expect(now.status).toBe('running')
      const { completedRows, failedRows } = now.progress
      expect(completedRows + failedRows).toBe(rows)
      expect(now.metrics.totalCost).toBeGreaterThanOrEqual(previous.metrics.totalCost)
      expect(now.metrics.totalLatency).toBeGreaterThanOrEqual(previous.metrics.totalLatency)
      expect(now.metrics.totalTokenCount).toBeGreaterThanOrEqual(previous.metrics.totalTokenCount)
      previous = now
    }
    expect((await at(350, runId)).progress.percent).toBe(50)
    const done = await at(600, runId)
    expect(done).toMatchObject({
      status: 'completed',
      progress: { totalRows: 10, completedRows: 9, failedRows: 1, percent: 100 },
      metrics: { passRuns: 4, failRuns: 4, unknownRuns: 1 },
      timeline: { startedAt: T0 + 100, finishedAt: T0 + 600 }
    })
    expect(done.metrics.totalCost).toBeGreaterThan(0)
    expect(await at(60_000, runId)).toEqual(done)
    const completed = await list(PROMPT, { status: 'completed' })
    expect(completed.evaluations.map(e => e.runId)).toEqual([runId])
  })

  it('ends as failed when finalStatus is failed', async () => {
    await restart({ lifecycle: { queuedMs: 0, rowMs: 10, totalRows: 3, finalStatus: 'failed' } })
    const runId = await started()
    expect((await at(15, runId)).status).toBe('running')
    expect(await at(30, runId)).toMatchObject({
      status: 'failed',
      progress: { completedRows: 3, percent: 100 }
    })
  })

  it('moves along on the real clock with short queuedMs/rowMs', async () => {
    const real = await FakeAdaline.start({ lifecycle: { queuedMs: 40, rowMs: 40, totalRows: 5 } })
    try {
      real.addPrompt(PROMPT)
      const response = await fetch(`${real.url}${listPath(PROMPT)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${real.apiKey}` }
      })
      const { runId } = (await response.json()) as Evaluation
      const seen: string[] = []
      let rows = 0
      for (let i = 0; i < 400; i++) {
        const one = await fetch(`${real.url}/prompts/${PROMPT}/evaluations/${runId}`, {
          headers: { authorization: `Bearer ${real.apiKey}` }
        })
        const evaluation = (await one.json()) as Evaluation
        expect(
          evaluation.progress.completedRows + evaluation.progress.failedRows
        ).toBeGreaterThanOrEqual(rows)
        rows = evaluation.progress.completedRows + evaluation.progress.failedRows
        if (seen.at(-1) !== evaluation.status) seen.push(evaluation.status)
        if (evaluation.status === 'completed') break
        await new Promise(resolve => setTimeout(resolve, 5))
      }
      expect(seen).toEqual(['queued', 'running', 'completed'])
      expect(rows).toBe(5)
    } finally {
      await real.close()
    }
  })

  it('cancels mid-run: cancelling until the running row finishes, then cancelled and frozen', async () => {
    const runId = await started()
    clock = T0 + 260 // rows 0..2 done, row 3 running until +300
    const response = await call(`/prompts/${PROMPT}/evaluations/${runId}/cancel`, {
      method: 'POST'
    })
    expect(response.status).toBe(200)
    expect(await response.json()).toMatchObject({
      status: 'cancelling',
      progress: { completedRows: 3 }
    })
    expect((await at(299, runId)).status).toBe('cancelling')
    const cancelled = await at(300, runId)
    expect(cancelled).toMatchObject({
      status: 'cancelled',
      // row 3 (a fail) was running when the cancel came, so it still counts
      progress: { completedRows: 4, failedRows: 0, totalRows: 10, percent: 40 },
      metrics: { passRuns: 1, failRuns: 2, unknownRuns: 1 },
      timeline: { startedAt: T0 + 100, finishedAt: T0 + 300 }
    })
    expect(await at(100_000, runId)).toEqual(cancelled)
    const again = await call(`/prompts/${PROMPT}/evaluations/${runId}/cancel`, { method: 'POST' })
    expect(await errorOf(again)).toMatchObject({
      status: 409,
      message: 'Evaluation is already cancelled.'
    })
    expect(fake.results(PROMPT, runId)).toHaveLength(4)
  })

  it('cancels a queued evaluation after cancellingMs without starting it; a finished one is 409', async () => {
    const queued = await started()
    clock = T0 + 10
    await call(`/prompts/${PROMPT}/evaluations/${queued}/cancel`, { method: 'POST' })
    expect((await at(39, queued)).status).toBe('cancelling')
    expect(await at(40, queued)).toMatchObject({
      status: 'cancelled',
      progress: { completedRows: 0, failedRows: 0 },
      timeline: { startedAt: null, finishedAt: T0 + 40 }
    })
    clock = T0
    const done = await started()
    clock = T0 + 600
    const late = await call(`/prompts/${PROMPT}/evaluations/${done}/cancel`, { method: 'POST' })
    expect(await errorOf(late)).toMatchObject({
      status: 409,
      message: 'Evaluation is already completed.'
    })
  })

  it('advances instantly with advance() / clockOffsetMs on the real clock', async () => {
    const real = await FakeAdaline.start()
    try {
      real.addPrompt(PROMPT)
      const response = await fetch(`${real.url}${listPath(PROMPT)}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${real.apiKey}` },
        body: '{}'
      })
      const { runId } = (await response.json()) as Evaluation
      real.advance(2_000)
      expect(real.evaluations(PROMPT)[0]?.status).toBe('running')
      real.clockOffsetMs += 10_000
      expect(real.evaluations(PROMPT)[0]).toMatchObject({
        runId,
        status: 'completed',
        // the default lifecycle: 20 rows, 16 pass, 2 fail, 1 unknown, 1 error
        progress: { totalRows: 20, completedRows: 19, failedRows: 1 },
        metrics: { passRuns: 16, failRuns: 2, unknownRuns: 1 }
      })
    } finally {
      await real.close()
    }
  })

  it('animates an evaluation added by a test, until updateEvaluation takes over', async () => {
    const added = makeEvaluation({ n: 5, status: 'queued', progress: { totalRows: 4 } })
    fake.addEvaluations(PROMPT, [added])
    fake.animate(PROMPT, added.runId, { startAt: T0, queuedMs: 0, rowMs: 10 })
    expect(await at(25, added.runId)).toMatchObject({
      status: 'running',
      progress: { totalRows: 4, completedRows: 2 },
      timeline: { submittedAt: added.timeline.submittedAt, startedAt: T0 }
    })
    fake.updateEvaluation(PROMPT, added.runId, { status: 'failed' })
    expect(await at(1_000, added.runId)).toMatchObject({
      status: 'failed',
      progress: { completedRows: 2 }
    })
  })

  it('rejects bad lifecycle options early', async () => {
    await expect(FakeAdaline.start({ lifecycle: { rowMs: -1 } })).rejects.toThrow('rowMs')
    expect(() => fake.addPrompt(PROMPT, [], { lifecycle: { totalRows: 1.5 } })).toThrow('totalRows')
    expect(() => fake.addPrompt(PROMPT, [], { defaultEvaluatorId: 'short' })).toThrow()
  })
})

describe('results', () => {
  interface ResultPage {
    results: Result[]
    pagination: { limit: number; returned: number; hasMore: boolean; nextCursor: string | null }
  }
  const resultsPath = (runId: string, query: Record<string, string | number> = {}): string =>
    `/prompts/${PROMPT}/evaluations/${runId}/results` +
    (Object.keys(query).length
      ? `?${new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]))}`
      : '')

  async function results(
    runId: string,
    query: Record<string, string | number> = {}
  ): Promise<ResultPage> {
    const response = await call(resultsPath(runId, query))
    expect(response.status).toBe(200)
    const body = (await response.json()) as ResultPage
    expect(v.safeParse(resultPageSchema, body).success).toBe(true)
    return body
  }

  async function all(runId: string, query: Record<string, string | number> = {}) {
    const seen: Result[] = []
    let cursor: string | null = null
    do {
      const page: ResultPage = await results(runId, { ...query, ...(cursor ? { cursor } : {}) })
      seen.push(...page.results)
      cursor = page.pagination.nextCursor
    } while (cursor)
    return seen
  }

  it('has as many results of each grade as the metrics count, for stored and sample evaluations', async () => {
    const statuses = ['completed', 'running', 'failed', 'cancelled', 'queued'] as const
    const stored = statuses.map((status, i) => makeEvaluation({ n: i + 1, status }))
    fake.addPrompt(PROMPT, stored)
    const [sample] = sampleWorkspace(T0)
    fake.addPrompt(sample!.promptId, sample!.evaluations)
    const cases = [
      ...stored.map(e => [PROMPT, e] as const),
      ...sample!.evaluations.map(e => [sample!.promptId, e] as const)
    ]
    for (const [promptId, evaluation] of cases) {
      const served = fake.results(promptId, evaluation.runId)
      const count = (grade: string) => served.filter(r => r.grade === grade).length
      expect([count('pass'), count('fail'), count('unknown')]).toEqual([
        evaluation.metrics.passRuns,
        evaluation.metrics.failRuns,
        evaluation.metrics.unknownRuns
      ])
      const cost = served.reduce((sum, r) => sum + (r.cost ?? 0), 0)
      expect(cost).toBeCloseTo(evaluation.metrics.totalCost, 3)
      const tokens = served.reduce((sum, r) => sum + (r.tokenCount ?? 0), 0)
      expect(tokens).toBe(evaluation.metrics.totalTokenCount)
    }
    const fails = await results(stored[0]!.runId, { grade: 'fail' })
    expect(fails.results.map(r => r.grade)).toEqual(['fail'])
  })

  it('follows the lifecycle: one result per row done, agreeing with the metrics', async () => {
    await fake.close()
    let clock = T0
    fake = await FakeAdaline.start({ now: () => clock, lifecycle: { queuedMs: 0, rowMs: 10 } })
    fake.addPrompt(PROMPT)
    const response = await call(listPath(PROMPT), { method: 'POST' })
    const { runId } = (await response.json()) as Evaluation
    expect((await results(runId)).results).toEqual([])
    for (const ms of [35, 120, 500]) {
      clock = T0 + ms
      const served = await all(runId)
      const [evaluation] = fake.evaluations(PROMPT)
      expect(served).toHaveLength(evaluation!.progress.completedRows)
      const grades = served.map(r => r.grade)
      expect(grades.filter(g => g === 'pass')).toHaveLength(evaluation!.metrics.passRuns)
      expect(grades.filter(g => g === 'fail')).toHaveLength(evaluation!.metrics.failRuns)
      expect(grades.filter(g => g === 'unknown')).toHaveLength(evaluation!.metrics.unknownRuns)
      const cost = served.reduce((sum, r) => sum + (r.cost ?? 0), 0)
      expect(cost).toBeCloseTo(evaluation!.metrics.totalCost, 6)
      expect(served.reduce((sum, r) => sum + (r.latency ?? 0), 0)).toBe(
        evaluation!.metrics.totalLatency
      )
      for (const r of served) expect(r.createdAt).toBeLessThanOrEqual(clock)
    }
  })

  it('adds each row only with expand=row, and gives fail and unknown results a reason', async () => {
    const evaluation = makeEvaluation({ n: 1, pass: 5, fail: 4, unknown: 3 })
    fake.addPrompt(PROMPT, [evaluation])
    const plain = await results(evaluation.runId)
    expect(plain.results).toHaveLength(12)
    for (const r of plain.results) expect(r).not.toHaveProperty('row')
    const expanded = await results(evaluation.runId, { expand: 'row' })
    for (const r of expanded.results) {
      const { ticket, expected } = r.row!.values as { ticket: string; expected: string }
      expect(ticket.length).toBeGreaterThan(0)
      expect(r.id.length).toBeGreaterThanOrEqual(20)
      expect(r.rowId.length).toBeGreaterThanOrEqual(20)
      if (r.grade === 'fail') {
        expect(r.score).toBe(0)
        const match = /^Expected category '(\w+)' but got '(\w+)'$/.exec(r.reason ?? '')
        expect(match?.[1]).toBe(expected)
        expect(match?.[2]).not.toBe(expected)
      } else if (r.grade === 'unknown') {
        expect(r.score).toBeNull()
        expect(r.reason).toMatch(/^Judge /)
      } else {
        expect(r.score).toBe(1)
      }
    }
    const { row: _row, ...withoutRow } = expanded.results[0]!
    expect(withoutRow).toEqual(plain.results[0])
  })

  it('pages with limit and opaque cursors, default 50, sorted by createdAt either way', async () => {
    const evaluation = makeEvaluation({ n: 1, pass: 120, fail: 30, unknown: 10 })
    fake.addPrompt(PROMPT, [evaluation])
    const first = await results(evaluation.runId)
    expect(first.pagination).toMatchObject({ limit: 50, returned: 50, hasMore: true })
    const asc = await all(evaluation.runId, { limit: 50 })
    expect(asc).toHaveLength(160)
    expect(new Set(asc.map(r => r.id)).size).toBe(160)
    const times = asc.map(r => r.createdAt ?? 0)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    const desc = await all(evaluation.runId, { limit: 70, sort: 'createdAt:desc' })
    expect(desc.map(r => r.id)).toEqual(asc.map(r => r.id).reverse())
    const fails = await all(evaluation.runId, { grade: 'fail', limit: 7 })
    expect(fails).toHaveLength(30)
    expect(fails.every(r => r.grade === 'fail')).toBe(true)
    const last = await results(evaluation.runId, { limit: 200 })
    expect(last.pagination).toEqual({ limit: 200, returned: 160, hasMore: false, nextCursor: null })

    const cursor = first.pagination.nextCursor!
    const otherGrade = await call(resultsPath(evaluation.runId, { cursor, grade: 'pass' }))
    expect(await errorOf(otherGrade)).toMatchObject({ status: 400, code: 'INVALID_CURSOR' })
    const unknown = await call(resultsPath(evaluation.runId, { cursor: 'nope' }))
    expect((await errorOf(unknown)).code).toBe('INVALID_CURSOR')
    // expand and limit may change between pages
    const next = await results(evaluation.runId, { cursor, expand: 'row', limit: 10 })
    expect(next.results[0]?.id).toBe(asc[50]?.id)
    expect(next.results[0]?.row).toBeDefined()
  })

  it('serves results set by a test', async () => {
    const evaluation = makeEvaluation({ n: 1 })
    fake.addPrompt(PROMPT, [evaluation])
    const mine: Result[] = [
      { id: 'res_b', rowId: 'row_2', grade: 'fail', reason: 'Wrong', createdAt: 2 },
      {
        id: 'res_a',
        rowId: 'row_1',
        grade: 'pass',
        createdAt: 1,
        row: { values: { ticket: 'Hi', expected: 'sales' } }
      }
    ]
    fake.setResults(PROMPT, evaluation.runId, mine)
    const plain = await results(evaluation.runId)
    expect(plain.results).toEqual([
      { id: 'res_a', rowId: 'row_1', grade: 'pass', createdAt: 1 },
      { id: 'res_b', rowId: 'row_2', grade: 'fail', reason: 'Wrong', createdAt: 2 }
    ])
    const expanded = await results(evaluation.runId, { grade: 'fail', expand: 'row' })
    expect(expanded.results).toEqual([{ ...mine[0], row: null }])
    expect(() =>
      fake.setResults(PROMPT, evaluation.runId, [{ id: '', rowId: 'r', grade: 'pass' }])
    ).toThrow('invalid result')
    expect(() => fake.setResults(PROMPT, fakeId('run', 77), [])).toThrow('unknown evaluation')
  })

  it('answers 400 for limit 201, an unknown grade or expansion, unknown or repeated parameters', async () => {
    const evaluation = makeEvaluation({ n: 1 })
    fake.addPrompt(PROMPT, [evaluation])
    const bad: [string, string][] = [
      ['limit=201', 'limit'],
      ['limit=0', 'limit'],
      ['grade=maybe', 'grade'],
      ['grade=', 'grade'],
      ['expand=evaluator', 'expand'],
      ['sort=score', 'sort'],
      ['cursor=', 'cursor'],
      ['status=completed', 'status'],
      ['grade=pass&grade=fail', 'grade']
    ]
    for (const [query, mention] of bad) {
      const error = await errorOf(
        await call(`/prompts/${PROMPT}/evaluations/${evaluation.runId}/results?${query}`)
      )
      expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST' })
      expect(error.message).toContain(mention)
    }
    expect((await results(evaluation.runId, { limit: 200 })).pagination.limit).toBe(200)
    expect((await errorOf(await call(resultsPath(fakeId('run', 9))))).status).toBe(404)
    expect((await errorOf(await call(resultsPath('r'.repeat(19))))).status).toBe(400)
    const post = await call(resultsPath(evaluation.runId), { method: 'POST' })
    expect(post.headers.get('allow')).toBe('GET')
    expect((await errorOf(post)).status).toBe(405)
    const anonymous = await fetch(`${fake.url}${resultsPath(evaluation.runId)}`)
    expect((await errorOf(anonymous)).status).toBe(401)
    fake.inject({ path: '/results', status: 429 })
    expect((await errorOf(await call(resultsPath(evaluation.runId)))).code).toBe(
      'RATE_LIMIT_EXCEEDED'
    )
  })
})

describe('sampleWorkspace lifecycle', () => {
  it('starts an evaluation on each sample prompt that runs its 40 rows in about 5 s', async () => {
    await fake.close()
    let clock = T0
    fake = await FakeAdaline.start({ now: () => clock })
    const workspace = sampleWorkspace(T0)
    for (const { promptId, evaluations, options } of workspace) {
      fake.addPrompt(promptId, evaluations, options)
    }
    const started: Evaluation[] = []
    for (const { promptId } of workspace) {
      const response = await call(listPath(promptId), { method: 'POST', body: '{}' })
      started.push((await response.json()) as Evaluation)
    }
    expect(started.map(e => e.evaluatorId)).toEqual(
      workspace.map(p => p.evaluations[0]!.evaluatorId)
    )
    expect(started.every(e => e.datasetId === workspace[0]!.evaluations[0]!.datasetId)).toBe(true)
    clock = T0 + 2_500
    expect(fake.evaluations(workspace[0]!.promptId).at(-1)?.status).toBe('running')
    clock = T0 + 5_000
    const [triage, replies] = workspace.map(p => fake.evaluations(p.promptId).at(-1)!)
    expect(triage).toMatchObject({
      status: 'completed',
      progress: { totalRows: 40, completedRows: 40, failedRows: 0 },
      metrics: { passRuns: 36, failRuns: 3, unknownRuns: 1 }
    })
    expect(replies).toMatchObject({
      status: 'completed',
      progress: { totalRows: 40, completedRows: 39, failedRows: 1 },
      metrics: { passRuns: 30, failRuns: 7, unknownRuns: 2 }
    })
  })
})

interface Pagination {
  limit: number
  returned: number
  hasMore: boolean
  nextCursor: string | null
}

/** Every item of a cursor-paged listing, checking each page against `schema`. */
async function allPages<T>(
  path: string,
  key: string,
  schema: v.GenericSchema,
  query: Record<string, string | number> = {}
): Promise<{ items: T[]; pages: Pagination[] }> {
  const items: T[] = []
  const pages: Pagination[] = []
  let cursor: string | null = null
  do {
    const search = new URLSearchParams(
      Object.entries({ ...query, ...(cursor ? { cursor } : {}) }).map(
        ([k, value]): [string, string] => [k, String(value)]
      )
    ).toString()
    const response = await call(`${path}${search ? `?${search}` : ''}`)
    expect(response.status).toBe(200)
    const body = (await response.json()) as Record<string, unknown> & { pagination: Pagination }
    expect(v.safeParse(schema, body).success).toBe(true)
    items.push(...(body[key] as T[]))
    pages.push(body.pagination)
    cursor = body.pagination.nextCursor
  } while (cursor)
  return { items, pages }
}

describe('list evaluators', () => {
  const evaluatorsPath = (promptId: string) => `/prompts/${promptId}/evaluators`
  const listEvaluators = (promptId: string, query: Record<string, string | number> = {}) =>
    allPages<Evaluator>(evaluatorsPath(promptId), 'evaluators', evaluatorPageSchema, query)

  it('lists the evaluators the prompt’s evaluations use, once each, with distinct realistic titles', async () => {
    const EVALUATOR_C = fakeId('evl', 3)
    fake.addPrompt(PROMPT, many(30), { defaultEvaluatorId: EVALUATOR_C })
    const { items, pages } = await listEvaluators(PROMPT)
    expect(pages).toEqual([{ limit: 50, returned: 3, hasMore: false, nextCursor: null }])
    expect(items.map(e => e.id).sort()).toEqual([EVALUATOR_A, EVALUATOR_B, EVALUATOR_C])
    const titles = items.map(e => e.title)
    expect(new Set(titles).size).toBe(3)
    for (const title of titles) expect(EVALUATOR_TITLES).toContain(title)
    const evaluations = fake.evaluations(PROMPT)
    for (const evaluator of items.filter(e => e.id !== EVALUATOR_C)) {
      const own = evaluations.filter(e => e.evaluatorId === evaluator.id)
      const newest = own.reduce((a, b) => (b.timeline.submittedAt > a.timeline.submittedAt ? b : a))
      const firstUse = Math.min(...own.map(e => e.timeline.submittedAt))
      expect(evaluator).toMatchObject({
        promptId: PROMPT,
        datasetId: newest.datasetId,
        status: 'active'
      })
      expect(evaluator.createdAt).toBeLessThan(firstUse)
      expect(evaluator.updatedAt).toBeGreaterThanOrEqual(evaluator.createdAt!)
      expect(evaluator.updatedAt).toBeLessThanOrEqual(firstUse)
    }
    // the same names every time, and a new evaluator leaves the others' names alone
    expect((await listEvaluators(PROMPT)).items).toEqual(items)
    const EVALUATOR_D = fakeId('evl', 4)
    const started = await call(listPath(PROMPT), {
      method: 'POST',
      body: JSON.stringify({ evaluatorId: EVALUATOR_D })
    })
    expect(started.status).toBe(202)
    const after = (await listEvaluators(PROMPT)).items
    expect(after.map(e => e.id)).toContain(EVALUATOR_D)
    expect(after.filter(e => e.id !== EVALUATOR_D)).toEqual(items)
    // a prompt with no evaluations and no default evaluator has none
    fake.addPrompt(OTHER_PROMPT)
    expect((await listEvaluators(OTHER_PROMPT)).items).toEqual([])
  })

  it('lists exactly the evaluators setEvaluators gave, completing the fields they leave out', async () => {
    fake.addPrompt(PROMPT, [makeEvaluation({ n: 1, evaluatorId: EVALUATOR_A })])
    const unused = fakeId('evl', 9)
    const set = fake.setEvaluators(PROMPT, [
      { id: unused, title: 'Answers in valid JSON', status: 'inactive' },
      { id: EVALUATOR_A },
      { id: fakeId('evl', 10), title: 'x'.repeat(200) }
    ])
    const { items } = await listEvaluators(PROMPT)
    expect(items).toEqual(set)
    expect(items.map(e => [e.id, e.status])).toEqual([
      [unused, 'inactive'],
      [EVALUATOR_A, 'active'],
      [fakeId('evl', 10), 'active']
    ])
    expect(items[1]).toMatchObject({ promptId: PROMPT, datasetId: DATASET_A })
    expect(EVALUATOR_TITLES).toContain(items[1]!.title)
    expect(fake.evaluators(PROMPT)).toEqual(items)
  })

  it('refuses evaluators the schema refuses, duplicates, another prompt’s, and an unknown prompt', () => {
    fake.addPrompt(PROMPT)
    const bad: [unknown[], string][] = [
      [[{ id: EVALUATOR_A, title: 'x'.repeat(201) }], 'invalid evaluator'],
      [[{ id: EVALUATOR_A, title: '' }], 'invalid evaluator'],
      [[{ id: 'e'.repeat(19) }], 'invalid evaluator'],
      [[{ id: EVALUATOR_A, createdAt: -1 }], 'invalid evaluator'],
      [[{ id: EVALUATOR_A }, { id: EVALUATOR_A }], 'duplicate'],
      [[{ id: EVALUATOR_A, promptId: OTHER_PROMPT }], 'belongs to prompt']
    ]
    for (const [evaluators, message] of bad) {
      expect(() => fake.setEvaluators(PROMPT, evaluators as [])).toThrow(message)
    }
    expect(() => fake.setEvaluators(OTHER_PROMPT, [])).toThrow('unknown prompt')
    expect(fake.evaluators(PROMPT)).toEqual([])
  })

  it('pages with limit 1..200 (default 50) and opaque cursors valid only for their prompt', async () => {
    const ids = Array.from({ length: 230 }, (_, i) => fakeId('evl', 1000 + i))
    fake.addPrompt(PROMPT)
    fake.addPrompt(OTHER_PROMPT)
    fake.setEvaluators(
      PROMPT,
      ids.map(id => ({ id }))
    )
    const byDefault = await listEvaluators(PROMPT)
    expect(byDefault.pages.map(p => p.returned)).toEqual([50, 50, 50, 50, 30])
    expect(byDefault.items.map(e => e.id)).toEqual(ids)
    const largest = await listEvaluators(PROMPT, { limit: 200 })
    expect(largest.pages.map(p => [p.limit, p.returned, p.hasMore])).toEqual([
      [200, 200, true],
      [200, 30, false]
    ])
    expect(largest.items).toEqual(byDefault.items)
    expect((await listEvaluators(PROMPT, { limit: 1 })).pages).toHaveLength(230)

    const first = (await (await call(`${evaluatorsPath(PROMPT)}?limit=100`)).json()) as {
      pagination: Pagination
    }
    const cursor = first.pagination.nextCursor!
    expect(cursor).not.toMatch(/100|evl/)
    const elsewhere = await call(`${evaluatorsPath(OTHER_PROMPT)}?cursor=${cursor}`)
    expect(await errorOf(elsewhere)).toMatchObject({ status: 400, code: 'INVALID_CURSOR' })
    const unknown = await call(`${evaluatorsPath(PROMPT)}?cursor=nope`)
    expect((await errorOf(unknown)).code).toBe('INVALID_CURSOR')
    // a retried cursor answers the same page again
    const again = async () =>
      (
        (await (await call(`${evaluatorsPath(PROMPT)}?cursor=${cursor}`)).json()) as {
          evaluators: Evaluator[]
        }
      ).evaluators.map(e => e.id)
    expect(await again()).toEqual(ids.slice(100, 150))
    expect(await again()).toEqual(ids.slice(100, 150))
  })

  it('answers 400 for a bad limit, an unknown or repeated parameter or a bad promptId; 404, 405, 401; faults apply', async () => {
    fake.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    const bad: [string, string][] = [
      ['limit=201', 'limit'],
      ['limit=0', 'limit'],
      ['limit=-1', 'limit'],
      ['limit=2.5', 'limit'],
      ['cursor=', 'cursor'],
      ['sort=createdAt:asc', "'sort'"],
      ['status=active', "'status'"],
      ['limit=5&limit=6', "'limit'"]
    ]
    for (const [query, mention] of bad) {
      const error = await errorOf(await call(`${evaluatorsPath(PROMPT)}?${query}`))
      expect(error).toMatchObject({ status: 400, code: 'BAD_REQUEST' })
      expect(error.message).toContain(mention)
    }
    expect(await errorOf(await call(evaluatorsPath('p'.repeat(19))))).toMatchObject({
      status: 400,
      message: expect.stringContaining('promptId')
    })
    expect((await call(evaluatorsPath('p'.repeat(80)))).status).toBe(404)
    expect(await errorOf(await call(evaluatorsPath(OTHER_PROMPT)))).toMatchObject({
      status: 404,
      message: 'Prompt not found.'
    })
    expect((await call(`${evaluatorsPath(PROMPT)}/${EVALUATOR_A}`)).status).toBe(404)
    const post = await call(evaluatorsPath(PROMPT), { method: 'POST', body: '{}' })
    expect(post.headers.get('allow')).toBe('GET')
    expect((await errorOf(post)).status).toBe(405)
    const anonymous = await fetch(`${fake.url}${evaluatorsPath(PROMPT)}`)
    expect(await errorOf(anonymous)).toMatchObject({ status: 401, code: 'UNAUTHORIZED' })
    fake.inject({ path: /\/evaluators$/, status: 429, times: 1 })
    expect((await errorOf(await call(evaluatorsPath(PROMPT)))).code).toBe('RATE_LIMIT_EXCEEDED')
    expect((await call(evaluatorsPath(PROMPT))).status).toBe(200)
  })

  it('serves the sample workspace’s evaluators with their titles', async () => {
    const workspace = sampleWorkspace(T0)
    for (const { promptId, evaluations, options } of workspace) {
      fake.addPrompt(promptId, evaluations, options)
    }
    const listed = await Promise.all(workspace.map(p => listEvaluators(p.promptId)))
    expect(listed.map(({ items }) => items.map(e => [e.id, e.title]))).toEqual([
      [[workspace[0]!.evaluations[0]!.evaluatorId, 'Ticket category is correct (LLM judge)']],
      [[workspace[1]!.evaluations[0]!.evaluatorId, 'Tone matches brand guide']]
    ])
    const datasetId = workspace[0]!.evaluations[0]!.datasetId
    expect(listed.every(({ items }) => items[0]!.datasetId === datasetId)).toBe(true)
  })
})

describe('row grades and pairs', () => {
  const resultsPath = (promptId: string, runId: string) =>
    `/prompts/${promptId}/evaluations/${runId}/results`
  const allResults = (runId: string, query: Record<string, string | number> = {}) =>
    allPages<Result>(resultsPath(PROMPT, runId), 'results', resultPageSchema, query)
  const gradesById = (results: Result[]) => new Map(results.map(r => [r.rowId, r.grade]))

  it('gives every evaluation of a dataset the same row IDs and values, one per dataset row', async () => {
    const evaluations = [
      makeEvaluation({ n: 1, pass: 180, fail: 15, unknown: 5 }),
      makeEvaluation({ n: 2, pass: 150, fail: 40, unknown: 10, evaluatorId: EVALUATOR_B }),
      makeEvaluation({ n: 3, status: 'running', pass: 60, fail: 10, unknown: 0 }),
      makeEvaluation({ n: 4, pass: 190, fail: 10, unknown: 0, datasetId: DATASET_B })
    ]
    fake.addPrompt(PROMPT, evaluations)
    const served = await Promise.all(
      evaluations.map(async e => (await allResults(e.runId, { expand: 'row', limit: 200 })).items)
    )
    const [first, second, running, otherDataset] = served.map(results =>
      [...results].sort((a, b) => (a.rowId < b.rowId ? -1 : 1))
    )
    const ids = Array.from({ length: 200 }, (_, row) => rowIdOf(DATASET_A, row))
    expect(first!.map(r => r.rowId)).toEqual(ids)
    expect(second!.map(r => r.rowId)).toEqual(ids)
    expect(running!.map(r => r.rowId)).toEqual(ids.slice(0, 70))
    expect(second!.map(r => r.row)).toEqual(first!.map(r => r.row))
    expect(running!.map(r => r.row)).toEqual(first!.slice(0, 70).map(r => r.row))
    // the values of 200 rows all differ, so a list of rows is readable
    expect(new Set(first!.map(r => JSON.stringify(r.row!.values))).size).toBe(200)
    // another dataset: other row IDs, but the same values by position is not promised
    expect(otherDataset!.map(r => r.rowId)).toEqual(
      Array.from({ length: 200 }, (_, row) => rowIdOf(DATASET_B, row))
    )
    expect(new Set([...ids, ...otherDataset!.map(r => r.rowId)]).size).toBe(400)
  })

  it('fails mostly the same rows in evaluations of one dataset by one evaluator, as a real judge does', async () => {
    // three evaluations by evaluator A and one by B, each 200 rows with 20 failing; rows the
    // prompt's lifecycle fails would come first, so here its evaluations pass every row
    const evaluations = [1, 2, 3, 4].map(n =>
      makeEvaluation({
        n,
        pass: 180,
        fail: 20,
        unknown: 0,
        evaluatorId: n === 4 ? EVALUATOR_B : EVALUATOR_A
      })
    )
    fake.addPrompt(PROMPT, evaluations, { lifecycle: { outcome: () => 'pass' } })
    const failing = evaluations.map(
      e =>
        new Set(fake.results(PROMPT, e.runId).flatMap(r => (r.grade === 'fail' ? [r.rowId] : [])))
    )
    const shared = (a: Set<string>, b: Set<string>) => [...a].filter(id => b.has(id)).length
    // independent draws would share about 20 * 20 / 200 = 2 rows
    expect(shared(failing[0]!, failing[1]!)).toBeGreaterThanOrEqual(15)
    expect(shared(failing[1]!, failing[2]!)).toBeGreaterThanOrEqual(15)
    // but a few rows flip: the three do not fail the same 20 rows
    expect(new Set([...failing[0]!, ...failing[1]!, ...failing[2]!]).size).toBeGreaterThan(20)
    expect(shared(failing[0]!, failing[3]!)).toBeLessThan(10)
  })

  it('fails first the rows the prompt’s lifecycle fails, so started and stored evaluations pair', async () => {
    // rows 0, 10, 20, ... fail when an evaluation of this prompt runs
    const outcome = (row: number) => (row % 10 === 0 ? 'fail' : 'pass')
    fake.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 36, fail: 4, unknown: 0 })], {
      lifecycle: { outcome }
    })
    const [stored] = fake.evaluations(PROMPT)
    const grades = fake.rowGrades(PROMPT, stored!.runId)
    expect(grades).toHaveLength(40)
    expect(grades.flatMap((g, row) => (g === 'fail' ? [row] : []))).toEqual([0, 10, 20, 30])
  })

  it('setRowGrades by row index or row ID keeps metrics, progress and results consistent', async () => {
    const evaluation = makeEvaluation({ n: 1, pass: 8, fail: 1, unknown: 1, cost: 0.5 })
    fake.addPrompt(PROMPT, [evaluation])
    const grades = Array.from({ length: 40 }, (_, row) =>
      row < 5 ? 'fail' : row === 5 ? 'unknown' : row === 6 ? 'error' : 'pass'
    ) as ('pass' | 'fail' | 'unknown' | 'error')[]
    const graded = fake.setRowGrades(PROMPT, evaluation.runId, grades)
    expect(graded).toMatchObject({
      status: 'completed',
      progress: { totalRows: 40, completedRows: 39, failedRows: 1, percent: 100 },
      metrics: { passRuns: 33, failRuns: 5, unknownRuns: 1 }
    })
    // the same amount per run as before
    expect(graded.metrics.totalCost).toBeCloseTo((0.5 / 10) * 39, 6)
    expect(graded.metrics.totalTokenCount).toBe(1_240 * 39)
    expect(fake.evaluations(PROMPT)[0]).toEqual(graded)
    expect(
      (await (await call(`/prompts/${PROMPT}/evaluations/${evaluation.runId}`)).json()) as unknown
    ).toEqual(graded)

    const { items } = await allResults(evaluation.runId)
    expect(items).toHaveLength(39)
    const byId = gradesById(items)
    expect(byId.get(rowIdOf(DATASET_A, 0))).toBe('fail')
    expect(byId.get(rowIdOf(DATASET_A, 5))).toBe('unknown')
    expect(byId.has(rowIdOf(DATASET_A, 6))).toBe(false) // an errored row has no result
    expect(byId.get(rowIdOf(DATASET_A, 39))).toBe('pass')
    expect(items.reduce((sum, r) => sum + r.tokenCount!, 0)).toBe(graded.metrics.totalTokenCount)
    expect(items.reduce((sum, r) => sum + r.cost!, 0)).toBeCloseTo(graded.metrics.totalCost, 6)
    expect(items.reduce((sum, r) => sum + r.latency!, 0)).toBeCloseTo(
      graded.metrics.totalLatency,
      6
    )
    expect(new Set(items.map(r => r.latency)).size).toBeGreaterThan(1) // rows differ

    // changes keyed by row ID or row index; the other rows keep their grades
    const changed = fake.setRowGrades(PROMPT, evaluation.runId, {
      [rowIdOf(DATASET_A, 0)]: 'pass',
      '6': 'fail',
      '39': 'unknown'
    })
    expect(changed.metrics).toMatchObject({ passRuns: 33, failRuns: 5, unknownRuns: 2 })
    expect(changed.progress).toMatchObject({ completedRows: 40, failedRows: 0, totalRows: 40 })
    const after = gradesById((await allResults(evaluation.runId)).items)
    expect([0, 1, 5, 6, 39].map(row => after.get(rowIdOf(DATASET_A, row)))).toEqual([
      'pass',
      'fail',
      'unknown',
      'fail',
      'unknown'
    ])
    expect(fake.rowGrades(PROMPT, evaluation.runId)).toEqual(
      [...grades.slice(0, 39), 'unknown'].map((g, row) =>
        row === 0 ? 'pass' : row === 6 ? 'fail' : g
      )
    )
  })

  it('setRowGrades on a running evaluation: rows not run yet count toward totalRows only', () => {
    const evaluation = makeEvaluation({ n: 1, status: 'running' })
    fake.addPrompt(PROMPT, [evaluation])
    const graded = fake.setRowGrades(PROMPT, evaluation.runId, [
      'pass',
      'fail',
      null,
      'pass',
      ...Array<null>(16).fill(null)
    ])
    expect(graded).toMatchObject({
      status: 'running',
      progress: { totalRows: 20, completedRows: 3, failedRows: 0, percent: 15 },
      metrics: { passRuns: 2, failRuns: 1, unknownRuns: 0 }
    })
    expect(fake.results(PROMPT, evaluation.runId).map(r => r.rowId)).toEqual(
      [0, 1, 3].map(row => rowIdOf(DATASET_A, row))
    )
  })

  it('setRowGrades refuses grades the status cannot have, rows not in the dataset and unknown grades', () => {
    const completed = makeEvaluation({ n: 1 })
    const queued = makeEvaluation({ n: 2, status: 'queued' })
    fake.addPrompt(PROMPT, [completed, queued])
    const cases: [string, Parameters<FakeAdaline['setRowGrades']>[2], string][] = [
      [completed.runId, ['pass', null, 'pass', ...Array(7).fill('pass')], 'completed'],
      [queued.runId, ['pass'], 'queued'],
      [completed.runId, { [rowIdOf(DATASET_B, 1)]: 'fail' }, 'not one of the 10 rows'],
      [completed.runId, { '10': 'fail' }, 'not one of the 10 rows'],
      [completed.runId, { row_1: 'fail' }, 'not one of'],
      [completed.runId, ['maybe' as 'pass'], 'invalid row grade']
    ]
    const before = fake.evaluations(PROMPT)
    const gradesBefore = fake.rowGrades(PROMPT, completed.runId)
    for (const [runId, grades, message] of cases) {
      expect(() => fake.setRowGrades(PROMPT, runId, grades)).toThrow(message)
    }
    expect(fake.evaluations(PROMPT)).toEqual(before)
    expect(fake.rowGrades(PROMPT, completed.runId)).toEqual(gradesBefore)
    expect(() => fake.setRowGrades(PROMPT, fakeId('run', 99), [])).toThrow('unknown evaluation')
  })

  it('setRowGrades stops a lifecycle and replaces setResults; updateEvaluation with other counts drops the grades', async () => {
    await fake.close()
    let clock = T0
    fake = await FakeAdaline.start({ now: () => clock, lifecycle: { queuedMs: 0, rowMs: 10 } })
    fake.addPrompt(PROMPT)
    const { runId } = (await (
      await call(listPath(PROMPT), { method: 'POST' })
    ).json()) as Evaluation
    clock = T0 + 55 // 5 of 20 rows done
    expect(fake.rowGrades(PROMPT, runId)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass'])
    fake.setRowGrades(PROMPT, runId, { '2': 'fail' })
    clock = T0 + 10_000
    expect(fake.evaluations(PROMPT)[0]).toMatchObject({
      status: 'running',
      progress: { completedRows: 5 },
      metrics: { passRuns: 4, failRuns: 1 }
    })

    fake.setResults(PROMPT, runId, [{ id: 'res_x', rowId: 'row_x', grade: 'unknown' }])
    expect(fake.results(PROMPT, runId).map(r => r.id)).toEqual(['res_x'])
    fake.setRowGrades(PROMPT, runId, { '3': 'fail' })
    expect(fake.results(PROMPT, runId).map(r => r.grade)).toEqual([
      'pass',
      'pass',
      'fail',
      'fail',
      'pass'
    ])

    // a status change that keeps the counts keeps the grades; other counts drop them
    fake.updateEvaluation(PROMPT, runId, { status: 'cancelled' })
    expect(fake.rowGrades(PROMPT, runId)[3]).toBe('fail')
    fake.updateEvaluation(PROMPT, runId, {
      metrics: { ...fake.evaluations(PROMPT)[0]!.metrics, passRuns: 1, failRuns: 0 }
    })
    const results = fake.results(PROMPT, runId)
    expect(results.map(r => r.grade)).toEqual(['pass'])
  })

  it('serves results that follow the evaluation when updateEvaluation changes its counts or costs', async () => {
    const evaluation = makeEvaluation({ n: 1, pass: 150, fail: 40, unknown: 10 })
    fake.addPrompt(PROMPT, [evaluation])
    const count = (results: Result[], grade: string) =>
      results.filter(r => r.grade === grade).length
    expect(count((await allResults(evaluation.runId)).items, 'fail')).toBe(40)
    fake.updateEvaluation(PROMPT, evaluation.runId, {
      metrics: { ...evaluation.metrics, passRuns: 170, failRuns: 20 }
    })
    const recounted = (await allResults(evaluation.runId)).items
    expect([count(recounted, 'pass'), count(recounted, 'fail')]).toEqual([170, 20])
    fake.updateEvaluation(PROMPT, evaluation.runId, {
      metrics: { ...fake.evaluations(PROMPT)[0]!.metrics, totalCost: 9 }
    })
    const repriced = (await allResults(evaluation.runId)).items
    expect(repriced.reduce((sum, r) => sum + r.cost!, 0)).toBeCloseTo(9, 6)
    expect(repriced.map(r => r.grade)).toEqual(recounted.map(r => r.grade))
  })

  it('lists every grade when grade is left out, in pages of 200 with cursors', async () => {
    const evaluation = makeEvaluation({ n: 1, pass: 300, fail: 120, unknown: 30 })
    fake.addPrompt(PROMPT, [evaluation])
    const { items, pages } = await allResults(evaluation.runId, { limit: 200 })
    expect(pages.map(p => [p.returned, p.hasMore])).toEqual([
      [200, true],
      [200, true],
      [50, false]
    ])
    expect(new Set(items.map(r => r.id)).size).toBe(450)
    expect(new Set(items.map(r => r.rowId)).size).toBe(450)
    const count = (grade: string) => items.filter(r => r.grade === grade).length
    expect([count('pass'), count('fail'), count('unknown')]).toEqual([300, 120, 30])
    // the grade filter pages on its own
    const fails = await allResults(evaluation.runId, { limit: 200, grade: 'fail' })
    expect(fails.items.map(r => r.id)).toEqual(items.filter(r => r.grade === 'fail').map(r => r.id))
  })

  it('pairs a baseline and a judged evaluation where exactly k rows newly fail and j newly pass', async () => {
    const pair = fake.addPairedEvaluations(PROMPT, {
      rows: 200,
      baselineFails: [0, 1, 2, 50, 51],
      nowFails: [0, 1, 2, 10, 11, 12, 13, 14, 15, 16],
      baselineUnknown: [100],
      nowUnknown: [101],
      nowErrors: [150, 151]
    })
    expect(pair.baseline).toMatchObject({
      status: 'completed',
      evaluatorId: EVALUATOR_A,
      datasetId: DATASET_A,
      progress: { totalRows: 200, completedRows: 200, failedRows: 0, percent: 100 },
      metrics: { passRuns: 194, failRuns: 5, unknownRuns: 1 }
    })
    expect(pair.judged).toMatchObject({
      status: 'completed',
      progress: { totalRows: 200, completedRows: 198, failedRows: 2, percent: 100 },
      metrics: { passRuns: 187, failRuns: 10, unknownRuns: 1 }
    })
    expect(pair.baseline.timeline.submittedAt).toBeLessThan(pair.judged.timeline.submittedAt)
    // the listing serves both, newest first: the baseline is the completed one before
    expect((await list(PROMPT)).evaluations).toEqual([pair.judged, pair.baseline])

    // pair the served results by rowId, as the action will
    const baseline = gradesById((await allResults(pair.baseline.runId, { limit: 200 })).items)
    const judged = gradesById((await allResults(pair.judged.runId, { limit: 200 })).items)
    const paired = [...judged.keys()].filter(id => baseline.has(id))
    const changed = (was: string, now: string) =>
      paired.filter(id => baseline.get(id) === was && judged.get(id) === now)
    expect(changed('pass', 'fail')).toEqual(
      [10, 11, 12, 13, 14, 15, 16].map(row => rowIdOf(DATASET_A, row))
    )
    expect(changed('fail', 'pass')).toEqual([50, 51].map(row => rowIdOf(DATASET_A, row)))
    expect(changed('fail', 'fail')).toHaveLength(3)
    expect(changed('pass', 'fail')).toEqual(pair.newlyFailing)
    expect(changed('fail', 'pass')).toEqual(pair.newlyPassing)
    expect(baseline.size - paired.length).toBe(2) // errored now: on one side only
    expect(
      paired.filter(id => baseline.get(id) === 'unknown' || judged.get(id) === 'unknown')
    ).toHaveLength(2)
  })

  it('pairedEvaluations takes IDs and times, and refuses rows out of range or given two grades', () => {
    const pair = pairedEvaluations({
      rows: 3,
      nowFails: [2],
      evaluatorId: EVALUATOR_B,
      datasetId: DATASET_B,
      baselineRunId: fakeId('run', 7),
      runId: fakeId('run', 8),
      submittedAt: T0,
      baselineSubmittedAt: T0 - 5
    })
    expect(pair.baselineGrades).toEqual(['pass', 'pass', 'pass'])
    expect(pair.judgedGrades).toEqual(['pass', 'pass', 'fail'])
    expect(pair.newlyFailing).toEqual([rowIdOf(DATASET_B, 2)])
    expect(pair.baseline).toMatchObject({
      runId: fakeId('run', 7),
      evaluatorId: EVALUATOR_B,
      datasetId: DATASET_B,
      timeline: { submittedAt: T0 - 5 }
    })
    expect(pair.judged).toMatchObject({ runId: fakeId('run', 8), timeline: { submittedAt: T0 } })
    expect(() => pairedEvaluations({ rows: 3, nowFails: [3] })).toThrow('not one of the 3 rows')
    expect(() => pairedEvaluations({ rows: 3, baselineFails: [-1] })).toThrow('not one of')
    expect(() => pairedEvaluations({ rows: 3, nowFails: [1], nowUnknown: [1] })).toThrow(
      'two grades'
    )
    expect(() => pairedEvaluations({ rows: 1.5 })).toThrow('rows')
  })
})

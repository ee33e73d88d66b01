/**
 * The fault matrix of the transport and the client, over real HTTP against the fake Adaline API.
 * Waits between retries are recorded instead of slept, so the delays themselves are asserted.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createClient, type ClientOptions, type ListFilters } from '../../src/adaline/client.js'
import { RateGovernor } from '../../src/adaline/governor.js'
import type { Evaluation } from '../../src/adaline/schema.js'
import { ApiError, createHttp, retryAfter, type HttpOptions } from '../../src/adaline/http.js'
import {
  FakeAdaline,
  fakeId,
  makeEvaluation,
  type RecordedRequest
} from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
let api: FakeAdaline
let waits: number[]
let throttles: number

beforeEach(async () => {
  api = await FakeAdaline.start()
  api.addPrompt(PROMPT, [makeEvaluation({ n: 1 }), makeEvaluation({ n: 2 })])
  waits = []
  throttles = 0
})

afterEach(async () => {
  await api.close()
})

function client(options: Partial<HttpOptions> = {}, clientOptions: ClientOptions = {}) {
  const http = createHttp({
    baseUrl: new URL(api.url),
    apiKey: api.apiKey,
    timeoutMs: 500,
    random: () => 0.5,
    sleep: async ms => {
      waits.push(ms)
    },
    onThrottle: () => (throttles += 1),
    ...options
  })
  return createClient(http, clientOptions)
}

async function listAll(options: Partial<HttpOptions> = {}, clientOptions: ClientOptions = {}) {
  const runIds: string[] = []
  for await (const page of client(options, clientOptions).listEvaluations(PROMPT, {})) {
    runIds.push(...page.items.map(item => item.evaluation.runId))
  }
  return runIds
}

async function listError(
  options: Partial<HttpOptions> = {},
  clientOptions: ClientOptions = {}
): Promise<ApiError> {
  try {
    await listAll(options, clientOptions)
  } catch (error) {
    if (error instanceof ApiError) return error
    throw error
  }
  throw new Error('the listing succeeded')
}

const ALL = [fakeId('run', 2), fakeId('run', 1)]

describe('retries', () => {
  it('waits at least a Retry-After in seconds after a 429, plus jitter, and tells of the throttle', async () => {
    api.inject({ path: '/evaluations', status: 429, headers: { 'retry-after': '3' } })
    expect(await listAll()).toEqual(ALL)
    // 3 s, and random() = 0.5 of the first backoff window (1 s)
    expect(waits).toEqual([3500])
    expect(throttles).toBe(1)
    expect(api.requests).toHaveLength(2)
  })

  it('waits until a Retry-After HTTP date after a 429', async () => {
    api.inject({
      path: '/evaluations',
      status: 429,
      headers: { 'retry-after': new Date(Date.now() + 10_000).toUTCString() }
    })
    expect(await listAll()).toEqual(ALL)
    expect(waits[0]).toBeGreaterThan(8_000)
    expect(waits[0]).toBeLessThanOrEqual(10_500)
  })

  it.each([
    ['3 hours ahead of', 3 * 3_600_000],
    ['3 hours behind', -3 * 3_600_000]
  ])(
    'reads a Retry-After date on the API’s clock, its Date header, when that is %s the runner’s',
    async (_, offsetMs) => {
      await api.close()
      api = await FakeAdaline.start({ now: () => Date.now() + offsetMs })
      api.addPrompt(PROMPT, [makeEvaluation({ n: 1 }), makeEvaluation({ n: 2 })])
      api.inject({
        path: '/evaluations',
        status: 429,
        headers: { 'retry-after': new Date(api.now() + 10_000).toUTCString() }
      })
      expect(await listAll()).toEqual(ALL)
      // 9 to 10 s (HTTP dates are to the second), plus jitter: neither none nor hours
      expect(waits[0]).toBeGreaterThan(8_000)
      expect(waits[0]).toBeLessThanOrEqual(10_500)
    }
  )

  it('keeps its deadlines on a clock that does not jump when the wall clock is set a day ahead', async () => {
    api.inject({ path: '/evaluations', status: 503 })
    const wallNow = Date.now
    let calls = 0
    // NTP steps the clock a day forward just after the request begins
    Date.now = () => wallNow() + (++calls > 1 ? 86_400_000 : 0)
    try {
      expect(await listAll({ deadlineMs: 60_000 })).toEqual(ALL)
    } finally {
      Date.now = wallNow
    }
    expect(api.requests).toHaveLength(2)
  })

  it('backs off from a 1 s floor, exponentially with full jitter, when a 429 has no Retry-After', async () => {
    api.inject({ path: '/evaluations', status: 429, times: 3 })
    expect(await listAll()).toEqual(ALL)
    // 1 s, and random() = 0.5 of 1 s, 2 s, 4 s
    expect(waits).toEqual([1500, 2000, 3000])
  })

  it('caps the backoff at the maximum delay', async () => {
    api.inject({ path: '/evaluations', status: 503, times: 4 })
    expect(await listAll({ maxDelayMs: 1500 })).toEqual(ALL)
    expect(waits).toEqual([500, 750, 750, 750])
  })

  it.each([408, 500, 502, 503, 504])('retries a %i and then succeeds', async status => {
    api.inject({ path: '/evaluations', status })
    expect(await listAll()).toEqual(ALL)
    expect(api.requests).toHaveLength(2)
  })

  it('retries a reset connection', async () => {
    api.inject({ path: '/evaluations', reset: true })
    expect(await listAll()).toEqual(ALL)
    expect(api.requests).toHaveLength(2)
  })

  it('gives up on a hung request after the timeout and retries it', async () => {
    api.inject({ path: '/evaluations', hang: true })
    const started = Date.now()
    expect(await listAll({ timeoutMs: 300 })).toEqual(ALL)
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(api.requests).toHaveLength(2)
  })

  it('retries a refused connection, then fails naming the endpoint', async () => {
    const closed = await FakeAdaline.start()
    const url = closed.url
    await closed.close()
    const http = createHttp({
      baseUrl: new URL(url),
      apiKey: 'k',
      maxAttempts: 3,
      sleep: async ms => void waits.push(ms)
    })
    await expect(
      http({
        method: 'GET',
        path: '/x',
        schema: { safeParse: () => ({ success: true, data: 1 }) } as never
      })
    ).rejects.toThrow(
      /GET \/x failed: network error ECONNREFUSED\. Check base-url.* \(gave up after 3 attempts\)/
    )
    expect(waits).toHaveLength(2)
  })

  it('makes a bounded number of attempts against a lasting 500, with a clear error', async () => {
    api.inject({ path: '/evaluations', status: 500, times: Infinity })
    const error = await listError({ maxAttempts: 4 })
    expect(api.requests).toHaveLength(4)
    expect(error.message).toBe(
      `GET /prompts/${PROMPT}/evaluations answered 500 INTERNAL_SERVER_ERROR: Internal Server Error. Adaline had a server error; try again later. (gave up after 4 attempts)`
    )
    expect(error.status).toBe(500)
  })

  it('gives up at once, saying why, when Retry-After lands past the deadline', async () => {
    api.inject({ path: '/evaluations', status: 429, headers: { 'retry-after': '120' } })
    const error = await listError({ deadlineMs: 60_000 })
    expect(api.requests).toHaveLength(1)
    expect(waits).toEqual([])
    expect(error.message).toContain(
      '(gave up after 1 attempt: Retry-After asks to wait 120 s, past the 60 s a request may take)'
    )
  })

  it('waits a Retry-After longer than the longest backoff in full, when it fits in the deadline', async () => {
    api.inject({ path: '/evaluations', status: 503, headers: { 'retry-after': '100' } })
    expect(await listAll({ maxDelayMs: 60_000, deadlineMs: 300_000 })).toEqual(ALL)
    expect(waits).toEqual([100_000])
  })

  it('cuts an attempt short at the deadline instead of letting it run its whole timeout', async () => {
    api.inject({ path: '/evaluations', hang: true })
    const started = Date.now()
    const error = await listError({ timeoutMs: 10_000, deadlineMs: 400 })
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(error.message).toBe(
      `GET /prompts/${PROMPT}/evaluations failed: no answer in time. Check base-url and the runner's network. (gave up after 1 attempt: another attempt would end past the 0.4 s a request may take)`
    )
  })
})

describe('an answer about another evaluation', () => {
  it('is refused, naming the endpoint, rather than taken for the one asked about', async () => {
    const other = makeEvaluation({ n: 2, status: 'completed' })
    api.inject({ method: 'GET', path: fakeId('run', 1), status: 200, body: other })
    const error = await client()
      .getEvaluation(PROMPT, fakeId('run', 1))
      .then(
        () => undefined,
        (e: unknown) => e
      )
    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).message).toBe(
      `GET /prompts/${PROMPT}/evaluations/${fakeId('run', 1)} answered with evaluation ${fakeId('run', 2)}, not the one asked for.`
    )
  })

  const T = 1_800_000_000_000
  const listed = (filters: ListFilters, evaluation: Evaluation) => {
    api.inject({
      method: 'GET',
      path: '/evaluations',
      body: { evaluations: [evaluation], pagination: { hasMore: false } }
    })
    return (async () => {
      for await (const page of client().listEvaluations(PROMPT, filters)) void page
    })().then(
      () => 'listed',
      (e: unknown) => (e instanceof ApiError ? e.message : e)
    )
  }

  it.each<[string, ListFilters, Evaluation, string]>([
    [
      'another status',
      { status: 'completed' },
      makeEvaluation({ n: 5, status: 'running' }),
      'status running, not completed'
    ],
    [
      'another evaluator',
      { evaluatorId: fakeId('evl', 1) },
      makeEvaluation({ n: 5, evaluatorId: fakeId('evl', 2) }),
      `evaluator ${fakeId('evl', 2)}, not ${fakeId('evl', 1)}`
    ],
    [
      'another dataset',
      { datasetId: fakeId('dst', 1) },
      { ...makeEvaluation({ n: 5 }), datasetId: fakeId('dst', 2) },
      `dataset ${fakeId('dst', 2)}, not ${fakeId('dst', 1)}`
    ],
    [
      'a time before the window',
      { createdAfter: T },
      makeEvaluation({ n: 5, submittedAt: T - 1 }),
      'submitted at 2027-01-15T07:59:59.999Z, before createdAfter 2027-01-15T08:00:00.000Z'
    ],
    [
      'a time after the window',
      { createdBefore: T },
      makeEvaluation({ n: 5, submittedAt: T + 60_000 }),
      'submitted at 2027-01-15T08:01:00.000Z, after createdBefore 2027-01-15T08:00:00.000Z)'
    ]
  ])(
    'a listing page with an evaluation of %s than its filters ask is refused: nothing is judged or cancelled on it',
    async (_, filters, evaluation, said) => {
      const message = await listed(filters, evaluation)
      expect(message).toContain(
        `GET /prompts/${PROMPT}/evaluations answered with evaluation ${evaluation.runId} (${said}`
      )
      expect(message).toContain("check that base-url is Adaline's v2 API.")
    }
  )

  it('takes an evaluation on the edge of the window, or with no dataset named, as within it', async () => {
    const edge = makeEvaluation({ n: 5, submittedAt: T })
    expect(await listed({ createdAfter: T, createdBefore: T }, edge)).toBe('listed')
    const unnamed = { ...makeEvaluation({ n: 6 }), datasetId: null }
    expect(await listed({ datasetId: fakeId('dst', 1) }, unnamed)).toBe('listed')
  })
})

describe('whether a failure may pass later', () => {
  it('is so for a retryable failure the retries did not get past', async () => {
    api.inject({ path: '/evaluations', status: 503, times: 10 })
    expect((await listError({ maxAttempts: 2 })).transient).toBe(true)
  })

  it('is not so for a refusal, nor for a host that does not exist', async () => {
    api.inject({ path: '/evaluations', status: 404 })
    expect((await listError()).transient).toBe(false)
    const nowhere = await listError({ baseUrl: new URL('https://adaline-evals.invalid/v2') })
    expect(nowhere.message).toMatch(/host not found/)
    expect(nowhere.transient).toBe(false)
  })
})

describe('refusals', () => {
  it.each([
    [401, 'The key in api-key is missing or wrong'],
    [403, 'The key in api-key has no access to this'],
    [400, 'answered 400 BAD_REQUEST'],
    [409, 'answered 409 CONFLICT'],
    [422, 'answered 422']
  ])('does not retry a %i, and says what it means', async (status, message) => {
    api.inject({ path: '/evaluations', status })
    const error = await listError()
    expect(api.requests).toHaveLength(1)
    expect(error.message).toContain(message)
    expect(error.message).toContain(`GET /prompts/${PROMPT}/evaluations`)
  })

  it('names what was not found on a 404', async () => {
    const error = await (async () => {
      try {
        for await (const page of client().listEvaluations(fakeId('prm', 9), {})) void page
      } catch (e) {
        return e as ApiError
      }
      throw new Error('no error')
    })()
    expect(error.message).toContain(`Prompt ${fakeId('prm', 9)} was not found: check prompt-id`)
  })

  it('reads the older error body form {"error": "text"}', async () => {
    api.inject({ path: '/evaluations', status: 400, body: { error: 'limit is too large' } })
    expect((await listError()).message).toContain('answered 400 limit is too large.')
  })

  it('never puts the key into an error message, even when the API echoes it', async () => {
    api.inject({
      path: '/evaluations',
      status: 400,
      body: { error: { code: `BAD_${api.apiKey}`, message: `Bearer ${api.apiKey} is malformed` } }
    })
    const error = await listError()
    expect(error.message).toBe(
      `GET /prompts/${PROMPT}/evaluations answered 400 BAD_***: Bearer *** is malformed.`
    )
    expect(error.code).toBe('BAD_***')
  })
})

describe('answers that cannot be trusted', () => {
  it('fails on a body that is not JSON', async () => {
    api.inject({ path: '/evaluations', status: 200, body: '<html>oops' })
    expect((await listError()).message).toBe(
      `GET /prompts/${PROMPT}/evaluations answered 200 with a body that is not JSON. Check that base-url is Adaline's v2 API.`
    )
  })

  it('reads JSON after a byte order mark', async () => {
    const page = { evaluations: [makeEvaluation({ n: 7 })], pagination: { hasMore: false } }
    api.inject({ path: '/evaluations', status: 200, body: `\uFEFF${JSON.stringify(page)}` })
    expect(await listAll()).toEqual([fakeId('run', 7)])
  })

  it.each([
    ['an empty 200', { status: 200, body: '' }, 'answered 200 with a body that is not JSON'],
    ['a 204', { status: 204 }, 'answered 204 with a body that is not JSON'],
    ['a 200 cut short', { status: 200, body: '{"evaluations": [{"runId"' }, 'not JSON'],
    ['UTF-16', { status: 200, body: Buffer.from('{"evaluations":[]}', 'utf16le') }, 'not JSON'],
    ['JSON null', { status: 200, body: 'null' }, 'unexpected shape: body: Invalid type'],
    ['a JSON array', { status: 200, body: '[]' }, 'unexpected shape: body.evaluations'],
    ['a JSON string', { status: 200, body: '"ok"' }, 'unexpected shape: body: Invalid type'],
    [
      'an error body with a 200',
      { status: 200, body: { error: { code: 'INTERNAL', message: 'db down' } } },
      'unexpected shape: body.evaluations'
    ],
    [
      'evaluations under __proto__',
      { status: 200, body: '{"__proto__":{"evaluations":[],"pagination":{"hasMore":false}}}' },
      'unexpected shape: body.evaluations'
    ]
  ])('fails on %s naming the endpoint and what to check', async (_, fault, problem) => {
    api.inject({ path: '/evaluations', ...fault })
    const error = await listError()
    expect(error.message).toContain(
      `GET /prompts/${PROMPT}/evaluations ${problem.startsWith('answered') ? '' : 'answered '}`
    )
    expect(error.message).toContain(problem)
    expect(error.message).toMatch(/Check that base-url is Adaline's v2 API\.$/)
    expect(api.requests).toHaveLength(1)
  })

  it('names the field of an answer in the wrong shape', async () => {
    const bad = { ...makeEvaluation({ n: 3 }), metrics: { passRuns: 'many' } }
    api.inject({
      path: '/evaluations',
      status: 200,
      body: { evaluations: [bad], pagination: { hasMore: false } }
    })
    expect((await listError()).message).toMatch(
      /unexpected shape: body\.evaluations\[0\]\.metrics\.passRuns: /
    )
  })

  it('refuses a figure JSON reads as Infinity (1e400), naming the field', async () => {
    const evaluation = makeEvaluation({ n: 3 })
    const text = JSON.stringify({ evaluations: [evaluation], pagination: { hasMore: false } })
    api.inject({
      path: '/evaluations',
      status: 200,
      body: text.replace(`"totalCost":${evaluation.metrics.totalCost}`, '"totalCost":1e400')
    })
    expect((await listError()).message).toMatch(
      /unexpected shape: body\.evaluations\[0\]\.metrics\.totalCost: /
    )
  })

  it('names a missing pagination', async () => {
    api.inject({ path: '/evaluations', status: 200, body: { evaluations: [] } })
    expect((await listError()).message).toMatch(/unexpected shape: body\.pagination: /)
  })

  it('stops a listing whose cursor repeats', async () => {
    api.inject({
      path: '/evaluations',
      status: 200,
      times: Infinity,
      body: { evaluations: [], pagination: { hasMore: true, nextCursor: 'again' } }
    })
    expect((await listError()).message).toContain(
      'repeated a cursor on page 2: the listing would never end'
    )
    expect(api.requests).toHaveLength(2)
  })

  /** Pages of one new evaluation each (or none), each with a new cursor: a listing without end. */
  function endlessCursor(perPage = 1) {
    let served = 0
    api.inject({
      path: '/evaluations',
      times: Infinity,
      body: (request: RecordedRequest) => ({
        evaluations: Array.from({ length: perPage }, () => makeEvaluation({ n: 100 + ++served })),
        pagination: {
          limit: 200,
          returned: perPage,
          hasMore: true,
          nextCursor: `c${request.query.get('cursor') ?? ''}.`
        }
      })
    })
  }

  it('stops a cursor that never ends at the page cap, naming the endpoint', async () => {
    endlessCursor()
    const error = await listError({}, { maxPages: 25 })
    expect(api.requests).toHaveLength(25)
    expect(error.message).toBe(
      `GET /prompts/${PROMPT}/evaluations still said hasMore after 25 pages of 200: taken as a listing that never ends. If it is really that long, narrow it with created-after.`
    )
  })

  it('stops after 10 empty pages in a row that say hasMore, well before the page cap', async () => {
    endlessCursor(0)
    const error = await listError()
    expect(api.requests).toHaveLength(10)
    expect(error.message).toBe(
      `GET /prompts/${PROMPT}/evaluations sent 10 empty pages in a row that said hasMore (to page 10): the listing would never end`
    )
  })

  it('stops a listing that says hasMore without a cursor', async () => {
    api.inject({
      path: '/evaluations',
      status: 200,
      body: { evaluations: [], pagination: { hasMore: true } }
    })
    expect((await listError()).message).toContain('said hasMore without a nextCursor on page 1')
  })

  it('sends the key only to its own origin: a redirect elsewhere is not followed', async () => {
    const other = await recordingServer()
    try {
      api.inject({
        path: '/evaluations',
        status: 302,
        headers: { location: `${other.url}/v2/steal` }
      })
      const error = await listError()
      expect(error.message).toBe(
        `GET /prompts/${PROMPT}/evaluations answered 302, a redirect to another origin or to no valid address; not following it with the API key. Check base-url.`
      )
      expect(other.requests).toHaveLength(0)
    } finally {
      await other.close()
    }
  })

  it('follows no redirect to its own origin with credentials in it, and never quotes it', async () => {
    // node-fetch threw a TypeError quoting the target: an unexpected error with the server's text
    api.inject({
      path: '/evaluations',
      status: 307,
      headers: { location: api.url.replace('//', `//${api.apiKey}:x@`) + '/steal' }
    })
    const error = await listError()
    expect(error.message).toBe(
      `GET /prompts/${PROMPT}/evaluations answered 307, a redirect to another origin or to no valid address; not following it with the API key. Check base-url.`
    )
    expect(api.requests).toHaveLength(1)
  })

  it('ends redirects within the origin after 5, saying what to check', async () => {
    api.inject({
      path: /\/evaluations$|\/loop$/,
      status: 302,
      headers: { location: `${api.url}/loop` },
      times: Infinity
    })
    expect((await listError()).message).toBe(
      `GET /prompts/${PROMPT}/evaluations redirected more than 5 times. Check base-url.`
    )
    expect(api.requests).toHaveLength(6)
  })

  it('follows a redirect within the same origin', async () => {
    api.inject({
      path: '/evaluations',
      status: 307,
      headers: { location: `${api.url}/prompts/${PROMPT}/evaluations?limit=200` }
    })
    expect(await listAll()).toEqual(ALL)
    expect(api.requests).toHaveLength(2)
    expect(api.requests[1]?.headers.authorization).toBe(`Bearer ${api.apiKey}`)
  })
})

describe('retryAfter', () => {
  it.each([
    ['2', 2000],
    ['0', 0],
    [' 7 ', 7000],
    // delta-seconds, not the year 2026
    ['2026', 2_026_000],
    ['Fri, 20 Nov 2026 12:00:10 GMT', 10_000],
    ['Friday, 20-Nov-26 12:00:10 GMT', 10_000],
    ['Fri Nov 20 12:00:10 2026', 10_000],
    ['Fri, 20 Nov 2026 11:00:00 GMT', 0],
    // neither delta-seconds nor an HTTP-date, though Date.parse would take some of them
    ['1.5', undefined],
    ['-1', undefined],
    ['2026-11-20T12:00:10Z', undefined],
    ['soon', undefined],
    ['', undefined],
    [null, undefined]
  ])('reads %j as %p ms', (value, ms) => {
    expect(retryAfter(value, Date.parse('2026-11-20T12:00:00Z'))).toBe(ms)
  })
})

async function recordingServer(): Promise<{
  url: string
  requests: string[]
  close: () => Promise<void>
}> {
  const requests: string[] = []
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`)
    response.end('{}')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  // localhost vs 127.0.0.1: another origin even on the same machine
  return {
    url: `http://localhost:${port}`,
    requests,
    close: () => new Promise(resolve => server.close(() => resolve()))
  }
}

describe('the run’s budget for the rate limit', () => {
  it('ends a busy limit with an error naming what to do, long before the requests’ deadlines, and still sends a cancel', async () => {
    api.addEvaluations(PROMPT, [makeEvaluation({ n: 3, status: 'running' })])
    // every GET answered 429 without Retry-After, for as long as it is asked
    api.inject({ method: 'GET', path: '/evaluations', status: 429, times: Infinity })
    let clock = 0
    const sleep = async (ms: number) => {
      clock += ms
    }
    const governor = new RateGovernor({ now: () => clock, sleep, throttleBudgetMs: 120_000 })
    const c = client({ governor, now: () => clock, sleep, deadlineMs: 300_000 })
    const listing = async () => {
      for await (const page of c.listEvaluations(PROMPT, {})) void page
    }
    // one request after another, as a run's stages make them: together they outlast any one deadline
    const errors: ApiError[] = []
    while (errors.length < 5 && !errors.at(-1)?.message.includes('was not sent'))
      await listing().catch((error: ApiError) => void errors.push(error))
    const last = errors.at(-1)!
    expect(last.message).toMatch(
      /^GET \/prompts\/\S+\/evaluations was not sent: Adaline's rate limit for the workspace has held this run back for [\d.]+ min in all, past the 2(\.0)? min a run waits for it\. The limit is shared by every job of the workspace: run fewer at once, or give each a share with max-requests-per-minute\.$/
    )
    expect(last.transient).toBe(false)
    expect(clock).toBeLessThan(300_000)
    const sent = api.requests.length
    // a cancel stops billing: sent whatever the budget
    const cancelled = await c.cancelEvaluation(PROMPT, fakeId('run', 3))
    expect(cancelled.status).toBe('cancelling')
    expect(api.requests).toHaveLength(sent + 1)
  })
})

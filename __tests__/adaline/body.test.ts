/**
 * What the transport reads of an answer, over real HTTP against the fake API: every body capped at
 * 16 MiB on the wire and decoded (gzip, deflate and brotli bombs included), a body cut mid-stream,
 * fields nested without end that the schema does not know, and API text clipped in errors.
 */
import zlib from 'node:zlib'
import { createClient } from '../../src/adaline/client.js'
import { MAX_BODY_BYTES } from '../../src/adaline/body.js'
import { ApiError, createHttp, type HttpOptions } from '../../src/adaline/http.js'
import {
  FakeAdaline,
  errorBody,
  fakeId,
  makeEvaluation,
  type ContentCoding
} from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
const LISTING = `GET /prompts/${PROMPT}/evaluations`
const ALL = [fakeId('run', 2), fakeId('run', 1)]
const MIB = 2 ** 20
let api: FakeAdaline
let waits: number[]

beforeEach(async () => {
  api = await FakeAdaline.start()
  api.addPrompt(PROMPT, [makeEvaluation({ n: 1 }), makeEvaluation({ n: 2 })])
  waits = []
})

afterEach(async () => {
  await api.close()
})

function client(options: Partial<HttpOptions> = {}) {
  return createClient(
    createHttp({
      baseUrl: new URL(api.url),
      apiKey: api.apiKey,
      timeoutMs: 5_000,
      random: () => 0.5,
      sleep: async ms => void waits.push(ms),
      ...options
    })
  )
}

async function list(options: Partial<HttpOptions> = {}) {
  const pages = []
  for await (const page of client(options).listEvaluations(PROMPT, {})) pages.push(page)
  return pages
}

async function listError(options: Partial<HttpOptions> = {}): Promise<ApiError> {
  const error = await list(options).then(
    () => undefined,
    (e: unknown) => e
  )
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`)
  return error
}

const runIds = (pages: Awaited<ReturnType<typeof list>>) =>
  pages.flatMap(page => page.items.map(item => item.evaluation.runId))

const ENCODINGS: ContentCoding[] = ['gzip', 'deflate', 'br']

describe('compressed answers', () => {
  it.each(ENCODINGS)('reads a %s answer, and asks for all three', async encoding => {
    api.inject({ method: 'GET', path: '/evaluations', encoding })
    expect(runIds(await list())).toEqual(ALL)
    expect(api.requests[0]!.headers['accept-encoding']).toBe('gzip, deflate, br')
  })

  it.each(ENCODINGS)(
    'refuses a %s bomb once 16 MiB are decoded, naming the endpoint, without trying again',
    async encoding => {
      // 1 GiB of zeros: a few hundred KiB to 1 MiB on the wire
      api.inject({ method: 'GET', path: '/evaluations', bomb: { encoding, decodedBytes: 2 ** 30 } })
      const error = await listError()
      expect(error.message).toBe(
        `${LISTING} answered 200, but its body decoded (${encoding}) is over the 16 MiB an answer may have. Adaline's answers are far smaller: check base-url.`
      )
      expect(error.transient).toBe(false)
      expect(api.requests).toHaveLength(1)
    }
  )

  it('refuses a coding it did not ask for, without quoting the header', async () => {
    api.inject({
      method: 'GET',
      path: '/evaluations',
      headers: { 'content-encoding': `zstd-${api.apiKey}` }
    })
    const error = await listError()
    expect(error.message).toBe(
      `${LISTING} answered 200, but its body has a content-encoding the action does not read (it asks for gzip, deflate, br only). Check base-url.`
    )
  })

  it('refuses a body that does not decode as its coding says', async () => {
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 200,
      body: Buffer.from('not gzip at all'),
      headers: { 'content-encoding': 'gzip' }
    })
    expect((await listError()).message).toMatch(/its body does not decode as gzip/)
    expect(api.requests).toHaveLength(1)
  })

  const page = JSON.stringify({ evaluations: [], pagination: { hasMore: false } })
  it.each([
    ['gzip', Buffer.from('not gzip at all')],
    ['gzip', zlib.gzipSync(page).subarray(0, 20)],
    ['deflate', zlib.deflateRawSync(page)],
    // brotli's errors are ERR__ERROR_FORMAT_…: read as a cut body, they were retried
    ['br', Buffer.from('not brotli at all')],
    ['br', zlib.brotliCompressSync(page).subarray(0, 5)]
  ])(
    'refuses a corrupt %s body as undecodable, naming the endpoint, without trying again',
    async (coding, bytes) => {
      api.inject({
        method: 'GET',
        path: '/evaluations',
        status: 200,
        body: bytes,
        headers: { 'content-encoding': coding }
      })
      const error = await listError()
      expect(error.message).toMatch(
        new RegExp(
          `^${LISTING} answered 200, but its body does not decode as ${coding} \\(.+\\)\\. Check base-url\\.$`
        )
      )
      expect(api.requests).toHaveLength(1)
    }
  )
})

describe('bodies over the cap on the wire', () => {
  it('refuses a Content-Length over the cap before reading the body', async () => {
    // the fake declares 17 MiB, sends a few bytes and holds the connection: only a refusal that
    // reads nothing ends before the timeout
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 200,
      body: '{"evaluations":[',
      headers: { 'content-length': String(17 * MIB) }
    })
    const started = Date.now()
    const error = await listError({ timeoutMs: 10_000 })
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(error.message).toBe(
      `${LISTING} answered 200, but its Content-Length (17 MiB) is over the 16 MiB an answer may have. Adaline's answers are far smaller: check base-url.`
    )
    expect(api.requests).toHaveLength(1)
  })

  it('stops reading a body without end once it passes the cap', async () => {
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 200,
      body: '{"evaluations":[',
      endless: true
    })
    const error = await listError()
    expect(error.message).toMatch(/but its body on the wire is over the 16 MiB an answer may have/)
    // the connection was closed soon after the cap: what the fake wrote is the cap and what sat in
    // the sockets' buffers, not the 1 GiB it would have sent
    await until(() => api.requests[0]!.answeredAt !== undefined)
    expect(api.requests[0]!.sentBytes).toBeGreaterThan(MAX_BODY_BYTES)
    expect(api.requests[0]!.sentBytes).toBeLessThan(MAX_BODY_BYTES + 16 * MIB)
  })

  it('counts compressed bytes on the wire too: empty gzip members without end', async () => {
    const empty = zlib.gzipSync(Buffer.alloc(0))
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 200,
      body: empty,
      endless: Buffer.concat(Array<Buffer>(4096).fill(empty)),
      headers: { 'content-encoding': 'gzip' }
    })
    expect((await listError()).message).toMatch(/but its body on the wire is over the 16 MiB/)
  })
})

describe('a body cut mid-stream', () => {
  it('is retried like a reset when it is a listing page (chunked)', async () => {
    api.inject({ method: 'GET', path: '/evaluations', cutAfterBytes: 40 })
    expect(runIds(await list())).toEqual(ALL)
    expect(api.requests).toHaveLength(2)
    expect(waits).toHaveLength(1)
  })

  it('is retried when it stalls short of its Content-Length until the attempt times out', async () => {
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 200,
      body: '{"evaluations":[',
      headers: { 'content-length': '1000' }
    })
    const retries: string[] = []
    const pages = await list({ timeoutMs: 500, onRetry: ({ reason }) => retries.push(reason) })
    expect(runIds(pages)).toEqual(ALL)
    expect(api.requests).toHaveLength(2)
    expect(retries).toEqual(['an answer cut off mid-body'])
  })

  it('ends a body that drips a byte at a time at the attempt timeout: it covers the body, not the gaps', async () => {
    // a byte every 20 ms never idles long enough for a timeout between bytes to end it
    api.inject({ method: 'GET', path: '/evaluations', dripEveryMs: 20, times: Infinity })
    const started = Date.now()
    const error = await listError({ timeoutMs: 400, maxAttempts: 2 })
    expect(Date.now() - started).toBeLessThan(3_000)
    expect(error.message).toBe(
      `${LISTING} answered 200, but no complete answer in time. Check base-url and the runner's network. (gave up after 2 attempts)`
    )
    expect(api.requests).toHaveLength(2)
  })

  it('fails, naming the endpoint, when every attempt is cut', async () => {
    api.inject({ method: 'GET', path: '/evaluations', cutAfterBytes: 40, times: Infinity })
    const error = await listError({ maxAttempts: 3 })
    expect(error.message).toBe(
      `${LISTING} answered 200, but its body was cut off (ERR_STREAM_PREMATURE_CLOSE). Check base-url and the runner's network. (gave up after 3 attempts)`
    )
    expect(error.transient).toBe(true)
  })
})

describe('fields the schema does not know', () => {
  const DEPTH = 100_000
  const deep = '['.repeat(DEPTH) + ']'.repeat(DEPTH)

  it('drops a field nested 100,000 deep, and a huge array, before anything walks them', async () => {
    const evaluation = JSON.stringify(makeEvaluation({ n: 3 }))
    // the key in the answer, so that the key's redaction walks it too
    const page = `{"evaluations":[${evaluation.slice(0, -1)},"extra":{"deep":${deep}},"huge":[${'0,'.repeat(1_000_000)}0]}],"pagination":{"hasMore":false,"more":${deep}},"echo":"${api.apiKey}","deep":${deep}}`
    api.inject({ method: 'GET', path: '/evaluations', status: 200, body: page })
    const [first] = await list()
    const kept = first!.items[0]!.evaluation
    expect(Object.keys(kept).sort()).toEqual(
      ['datasetId', 'evaluatorId', 'metrics', 'progress', 'runId', 'status', 'timeline'].sort()
    )
    expect(JSON.parse(JSON.stringify(kept))).toEqual(makeEvaluation({ n: 3 }))
  })

  it('keeps a row value to 8 levels, so that the report can print it', async () => {
    const result = {
      id: 'res_1',
      rowId: 'row_1',
      grade: 'fail',
      score: 0,
      reason: 'wrong',
      row: { values: { ticket: 'text', nested: 'DEEP' } }
    }
    const body = JSON.stringify({ results: [result], pagination: { hasMore: false } }).replace(
      '"DEEP"',
      deep
    )
    api.inject({ method: 'GET', path: '/results', status: 200, body })
    const [row] = await client().listResults(PROMPT, fakeId('run', 1), 'fail', 10)
    const nested = row!.row!.values.nested
    expect(JSON.stringify(nested)).toBe(`${'['.repeat(8)}"…"${']'.repeat(8)}`)
    expect(row!.row!.values.ticket).toBe('text')
  })

  it('never quotes the key, nor megabytes of text, in a shape problem', async () => {
    const evaluation = makeEvaluation({ n: 3 })
    const page = (status: string) =>
      JSON.stringify({ evaluations: [{ ...evaluation, status }], pagination: { hasMore: false } })
    api.inject({ method: 'GET', path: '/evaluations', status: 200, body: page(api.apiKey) })
    const echoed = await listError()
    expect(echoed.message).toBe(
      `${LISTING} answered in an unexpected shape: body.evaluations[0].status: Invalid type: Expected ("queued" | "running" | "completed" | "failed" | "cancelled" | "cancelling") but received "***". Check that base-url is Adaline's v2 API.`
    )
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 200,
      body: page(`${'x'.repeat(5 * MIB)}${api.apiKey}`)
    })
    const long = await listError()
    expect(long.message.length).toBeLessThan(700)
    expect(long.message).toMatch(/xxx…\. Check that base-url is Adaline's v2 API\.$/)
    expect(long.message).not.toContain(api.apiKey.slice(0, 12))
  })

  it('refuses an answer whose only run ID was the key, rather than judge a run ID of ***', async () => {
    const evaluation = { ...makeEvaluation({ n: 3 }), runId: api.apiKey }
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 200,
      body: { evaluations: [evaluation], pagination: { hasMore: false } }
    })
    const error = await listError()
    expect(error.message).toMatch(/unexpected shape: body\.evaluations\[0\]\.runId: Invalid length/)
    expect(error.message).not.toContain(api.apiKey)
  })
})

describe('API text in an error', () => {
  it('is clipped to 500 characters, after the key is taken out', async () => {
    const message = `${api.apiKey} ${'y'.repeat(5 * MIB)}`
    api.inject({ method: 'GET', path: '/evaluations', status: 400, body: errorBody(400, message) })
    const error = await listError()
    expect(error.message).toBe(
      `${LISTING} answered 400 BAD_REQUEST: *** ${'y'.repeat(500 - 'BAD_REQUEST: *** '.length - 1)}…`
    )
  })

  it('is left out when the error body is too long to read; the status still speaks', async () => {
    api.inject({
      method: 'GET',
      path: '/evaluations',
      status: 401,
      body: '{"error":{"code":"UNAUTHORIZED","message":"',
      endless: Buffer.alloc(MIB, 'z')
    })
    expect((await listError()).message).toBe(
      `${LISTING} answered 401. The key in api-key is missing or wrong: use a workspace API key from Adaline.`
    )
  })
})

async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const started = Date.now()
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

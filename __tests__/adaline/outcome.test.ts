/**
 * Which failures leave a request's outcome unknown, over real HTTP against the fake API. A start
 * (POST, not idempotent) answered by anything but a clean, valid 2xx or a clear refusal may have
 * created and billed an evaluation: it is an ApiError marked ambiguous, for the caller to check the
 * listing; and no POST is ever sent again to where a redirect points.
 */
import { createClient } from '../../src/adaline/client.js'
import { ApiError, createHttp } from '../../src/adaline/http.js'
import { FakeAdaline, fakeId, makeEvaluation, type Fault } from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
const RUN = fakeId('run', 1)
const CREATE_PATH = /^\/v2\/prompts\/[^/]+\/evaluations$/
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
  api.addPrompt(PROMPT, [makeEvaluation({ n: 1, status: 'running' })])
})

afterEach(async () => {
  await api.close()
})

function client() {
  return createClient(
    createHttp({
      baseUrl: new URL(api.url),
      apiKey: api.apiKey,
      timeoutMs: 1_000,
      random: () => 0.5,
      sleep: async () => undefined
    })
  )
}

async function failure(work: Promise<unknown>): Promise<ApiError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e
  )
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`)
  return error
}

const posts = () => api.requests.filter(r => r.method === 'POST')
const start = () => client().createEvaluation(PROMPT, {})

describe('a start whose outcome is unknown', () => {
  const unknown: [string, Fault, RegExp][] = [
    [
      'a 303 (the start went through; the POST is not sent again to the Location)',
      {
        replaceAnswer: true,
        status: 303,
        headers: { location: `/v2/prompts/${PROMPT}/evaluations/${RUN}` }
      },
      /answered 303\. A POST is never sent again to where a redirect points\. Check base-url\.$/
    ],
    [
      'a 307 to another origin',
      { replaceAnswer: true, status: 307, headers: { location: 'http://localhost:1/v2/x' } },
      /answered 307\./
    ],
    [
      'a 202 whose body is cut mid-stream (chunked)',
      { cutAfterBytes: 25 },
      /answered 202, but its body was cut off \(ERR_STREAM_PREMATURE_CLOSE\)/
    ],
    [
      'a 202 that is not JSON',
      { replaceAnswer: true, status: 202, body: '<html>Accepted</html>' },
      /answered 202 with a body that is not JSON/
    ],
    [
      'a 202 in the wrong shape',
      { replaceAnswer: true, status: 202, body: { runId: 'x' } },
      /answered in an unexpected shape: body\.runId: /
    ],
    [
      'a 202 whose body decodes to more than the cap',
      { replaceAnswer: true, status: 202, bomb: { encoding: 'gzip', decodedBytes: 64 * 2 ** 20 } },
      /answered 202, but its body decoded \(gzip\) is over the 16 MiB an answer may have/
    ],
    ['a 500 after the start went through', { replaceAnswer: true, status: 500 }, /answered 500/],
    ['a 405', { replaceAnswer: true, status: 405 }, /answered 405/],
    ['a reset after the start went through', { dropAnswer: true }, /network error ECONNRESET/]
  ]

  it.each(unknown)('is ambiguous on %s, and makes one POST', async (_, fault, message) => {
    api.inject({ method: 'POST', path: CREATE_PATH, ...fault })
    const error = await failure(start())
    expect(error.ambiguous).toBe(true)
    expect(error.message).toMatch(message)
    expect(posts()).toHaveLength(1)
    // the start did go through: the caller's listing finds it
    expect(api.evaluations(PROMPT)).toHaveLength(2)
  })

  it('is ambiguous when no answer comes in time', async () => {
    api.inject({ method: 'POST', path: CREATE_PATH, hang: true })
    const error = await failure(start())
    expect(error.ambiguous).toBe(true)
    expect(error.message).toMatch(/no answer in time/)
    expect(posts()).toHaveLength(1)
  })
})

describe('a start that surely created nothing', () => {
  it.each([400, 401, 403, 404, 409, 422])('is a plain error on a %i, not retried', async status => {
    api.inject({ method: 'POST', path: CREATE_PATH, status })
    const error = await failure(start())
    expect(error.ambiguous).toBe(false)
    expect(error.status).toBe(status)
    expect(posts()).toHaveLength(1)
  })

  it.each([429, 408])('is tried again after a %i, and starts once', async status => {
    api.inject({ method: 'POST', path: CREATE_PATH, status })
    const evaluation = await start()
    expect(posts()).toHaveLength(2)
    expect(api.evaluations(PROMPT).map(e => e.runId)).toContain(evaluation.runId)
    expect(api.evaluations(PROMPT)).toHaveLength(2)
  })

  it('is a plain error when the connection is refused', async () => {
    const closed = await FakeAdaline.start()
    const url = closed.url
    await closed.close()
    const http = createHttp({
      baseUrl: new URL(url),
      apiKey: 'k',
      maxAttempts: 2,
      sleep: async () => undefined
    })
    const error = await failure(createClient(http).createEvaluation(PROMPT, {}))
    expect(error.ambiguous).toBe(false)
    expect(error.message).toMatch(/ECONNREFUSED/)
  })
})

describe('a redirect on a POST', () => {
  it('is not followed on a cancel either: one POST, and an error that says why', async () => {
    api.inject({
      method: 'POST',
      path: '/cancel',
      status: 307,
      headers: { location: `/v2/prompts/${PROMPT}/evaluations/${RUN}/cancel` }
    })
    const error = await failure(client().cancelEvaluation(PROMPT, RUN))
    expect(error.message).toBe(
      `POST /prompts/${PROMPT}/evaluations/${RUN}/cancel answered 307. A POST is never sent again to where a redirect points. Check base-url.`
    )
    expect(posts()).toHaveLength(1)
    expect(api.evaluations(PROMPT)[0]!.status).toBe('running')
  })
})

describe('a redirect target the server named', () => {
  it.each([
    ['in the host', (key: string) => `http://${key}.example.com/v2/prompts`],
    ['in the user part', (key: string) => `https://${key}@elsewhere.example/v2`],
    ['in a same-origin path, past the redirect limit', (key: string) => `/v2/${key}`],
    ['not a URL at all', (key: string) => `http://[${key}`]
  ])('is never printed, though the key is %s', async (_, location) => {
    api.inject({
      method: 'GET',
      path: /./,
      times: Infinity,
      status: 302,
      headers: { location: location(api.apiKey) }
    })
    const listing = (async () => {
      for await (const page of client().listEvaluations(PROMPT, {})) void page
    })()
    const error = await failure(listing)
    expect(error.message).not.toContain(api.apiKey)
    expect(error.message).not.toContain('example')
    expect(error.message).toMatch(/^GET \/prompts\/\S+\/evaluations (answered 302|redirected)/)
  })
})

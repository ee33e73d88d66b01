/**
 * The fault matrix, end to end: dist/index.js on a force-push that supersedes running evaluations,
 * against the fake Adaline API injecting one fault per case. For each case: the verdict and the
 * cancels, or one clear ::error naming the endpoint and nothing cancelled; and the key nowhere in
 * what the action printed or wrote. (A hung request is proved in __tests__/adaline/http.test.ts
 * with a short timeout: the action's own is 30 s. A proxy, in __tests__/e2e/transport.test.ts.)
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { intervals, peakInFlight } from '../../bench/intervals.js'
import {
  FakeAdaline,
  fakeId,
  makeEvaluation,
  type Fault,
  type RecordedRequest
} from '../../test-support/fake-adaline.js'
import { PUSH_TIME, pushEvent } from '../../test-support/events.js'
import { runAction, type ActionRun } from '../../test-support/run-action.js'

const PROMPT = fakeId('prm', 1)
const SUPERSEDED = [1, 2, 3, 4, 5, 6].map(n => fakeId('run', n))
const LISTING = `GET /prompts/${PROMPT}/evaluations`
/** the listing only: not one evaluation, its results or a cancel */
const LISTING_PATH = /\/evaluations$/

let api: FakeAdaline
/** another origin on this machine, for the redirect: it must never be asked anything */
let elsewhere: { server: Server; url: string; requests: string[] }

beforeAll(async () => {
  const requests: string[] = []
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`)
    response.end('{}')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  // localhost, not 127.0.0.1: another origin
  elsewhere = {
    server,
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    requests
  }
})

afterAll(async () => {
  await new Promise(resolve => elsewhere.server.close(resolve))
})

beforeEach(async () => {
  api = await FakeAdaline.start()
  api.addPrompt(PROMPT, [
    ...SUPERSEDED.map((runId, i) =>
      makeEvaluation({ n: i + 1, runId, status: 'running', submittedAt: PUSH_TIME - 3_600_000 + i })
    ),
    makeEvaluation({ n: 10, status: 'completed', submittedAt: PUSH_TIME + 60_000 })
  ])
})

afterEach(async () => {
  await api.close()
})

function run(): Promise<ActionRun> {
  return runAction(
    {
      'api-key': api.apiKey,
      'prompt-id': PROMPT,
      'base-url': api.url,
      'cancel-superseded': 'force-push',
      policy: 'max-fail-runs: 1'
    },
    { event: pushEvent() }
  )
}

function listRequests() {
  return api.requests.filter(r => r.method === 'GET' && LISTING_PATH.test(r.path))
}

function cancelRequests() {
  return api.requests.filter(r => r.method === 'POST' && r.path.endsWith('/cancel'))
}

/** An Adaline error body that echoes the key, as a careless API might. */
function echoingKey(code: string, message: string) {
  return { error: { code, message: `${message} (request had Bearer ${api.apiKey})` } }
}

/** The key appears nowhere the action printed or wrote, but in the mask command. */
function expectNoKey(result: ActionRun) {
  const stdout = result.stdout.replace(`::add-mask::${api.apiKey}`, '')
  for (const text of [stdout, result.stderr, result.summary, JSON.stringify(result.outputs)]) {
    expect(text).not.toContain(api.apiKey)
  }
}

interface PassingCase {
  name: string
  faults: () => Fault[]
  /** the superseded evaluations cancelled in the end; default all */
  cancelled?: string[]
  /** what the log says of the fault */
  log: RegExp
  /** and the summary */
  summary?: string
}

const once =
  (fault: Fault): (() => Fault[]) =>
  () => [{ method: 'GET', path: LISTING_PATH, ...fault }]

const passing: PassingCase[] = [
  {
    name: 'a 429 with Retry-After in seconds',
    faults: once({ status: 429, headers: { 'retry-after': '1' } }),
    // 1 s, plus jitter over the first backoff window (1 s)
    log: /evaluations: HTTP 429; retry 1 in (1\.\d|2\.0) s/
  },
  {
    name: 'a 429 with Retry-After as an HTTP date',
    // to the second, as HTTP dates are: 2 to 3 s from now, less the action's start-up
    faults: () => [
      {
        method: 'GET',
        path: LISTING_PATH,
        status: 429,
        headers: { 'retry-after': new Date(Date.now() + 3_000).toUTCString() }
      }
    ],
    log: /evaluations: HTTP 429; retry 1 in [1-4]\.\d s/
  },
  {
    name: 'a 429 without Retry-After (1 s, plus jitter over 1 s)',
    faults: once({ status: 429 }),
    log: /evaluations: HTTP 429; retry 1 in (1\.\d|2\.0) s/
  },
  ...[500, 502, 503, 504, 408].map(status => ({
    name: `a transient ${status}`,
    faults: once({ status }),
    log: new RegExp(`evaluations: HTTP ${status}; retry 1 in`)
  })),
  {
    name: 'a reset connection',
    faults: once({ reset: true }),
    log: /evaluations: network error ECONNRESET; retry 1 in/
  },
  {
    name: 'a listing page cut mid-body (chunked)',
    faults: once({ cutAfterBytes: 100 }),
    log: /evaluations: an answer cut off mid-body; retry 1 in/
  },
  {
    name: 'a 409 on one cancel among many, which had completed meanwhile (its body echoing the key)',
    faults: () => [
      {
        method: 'POST',
        path: `${SUPERSEDED[2]}/cancel`,
        status: 409,
        // it completes just before its cancel arrives: nothing is left running
        body: () => {
          api.updateEvaluation(PROMPT, SUPERSEDED[2]!, { status: 'completed' })
          return echoingKey('CONFLICT', 'Evaluation is already completed.')
        }
      }
    ],
    cancelled: SUPERSEDED.filter(runId => runId !== SUPERSEDED[2]),
    summary: 'Finished before their cancel arrived (1)',
    log: new RegExp(
      `::warning::Superseded evaluation ${SUPERSEDED[2]} had already completed when its cancel arrived: POST .* answered 409 CONFLICT: Evaluation is already completed. \\(request had Bearer \\*\\*\\*\\)`
    )
  },
  {
    name: 'the answer to one cancel lost (a reset after it took effect; the retry hears 409)',
    faults: () => [{ method: 'POST', path: `${SUPERSEDED[1]}/cancel`, dropAnswer: true }],
    log: new RegExp(`cancelled ${SUPERSEDED[1]} .*: already cancelling \\(POST .* answered 409`)
  }
]

describe('a fault the action rides out: the verdict stands and the cancels happen', () => {
  it.each(passing)('$name', async ({ faults, cancelled = SUPERSEDED, log, summary }) => {
    for (const fault of faults()) api.inject(fault)
    const result = await run()
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs.gate).toBe('passed')
    expect(JSON.parse(result.outputs.cancelled!).sort()).toEqual([...cancelled].sort())
    expect(
      api
        .evaluations(PROMPT)
        .filter(e => e.status === 'cancelling')
        .map(e => e.runId)
        .sort()
    ).toEqual([...cancelled].sort())
    expect(result.stdout).toMatch(log)
    if (summary) expect(result.summary).toContain(summary)
    expectNoKey(result)
  })
})

interface FailingCase {
  name: string
  faults: () => Fault[]
  /** the one ::error line, which names the listing */
  error: RegExp
  /** listing requests made: the bound on retries or pages */
  listings?: number
}

const failing: FailingCase[] = [
  {
    name: 'a lasting 500 (Retry-After 0, so the 5 attempts come at once)',
    faults: once({ status: 500, times: Infinity, headers: { 'retry-after': '0' } }),
    error:
      /answered 500 INTERNAL_SERVER_ERROR: Internal Server Error\. Adaline had a server error; try again later\. \(gave up after 5 attempts\)$/,
    listings: 5
  },
  {
    name: 'a 401 (its body echoing the key)',
    faults: () => [
      {
        method: 'GET',
        path: LISTING_PATH,
        status: 401,
        body: echoingKey('UNAUTHORIZED', 'Invalid API key.')
      }
    ],
    error:
      /answered 401 UNAUTHORIZED: Invalid API key\. \(request had Bearer \*\*\*\)\. The key in api-key is missing or wrong/,
    listings: 1
  },
  {
    name: 'a 404',
    faults: once({ status: 404 }),
    error: new RegExp(`answered 404 NOT_FOUND: Not Found\\. Prompt ${PROMPT} was not found`),
    listings: 1
  },
  {
    name: 'malformed JSON',
    faults: once({ status: 200, body: '{"evaluations": [' }),
    error: /answered 200 with a body that is not JSON\. Check that base-url is Adaline's v2 API\.$/,
    listings: 1
  },
  {
    name: 'a wrong shape',
    faults: once({
      status: 200,
      body: { evaluations: [{ runId: 'x' }], pagination: { hasMore: false } }
    }),
    error: /answered in an unexpected shape: body\.evaluations\[0\]\.runId: /,
    listings: 1
  },
  {
    name: 'a cursor that never ends (a new one on every page, each with a superseded evaluation)',
    faults: () => {
      let page = 0
      return [
        {
          method: 'GET',
          path: LISTING_PATH,
          times: Infinity,
          body: (request: RecordedRequest) => {
            page += 1
            return {
              evaluations: [
                makeEvaluation({ n: 1_000 + page, status: 'running', submittedAt: PUSH_TIME - 1 })
              ],
              pagination: {
                limit: 200,
                returned: 1,
                hasMore: true,
                nextCursor: `${request.query.get('cursor') ?? 'c'}${page}`
              }
            }
          }
        }
      ]
    },
    error: /still said hasMore after 1000 pages of 200: taken as a listing that never ends/,
    listings: 1_000
  },
  {
    name: 'a redirect to another origin',
    faults: () => [
      {
        method: 'GET',
        path: LISTING_PATH,
        status: 302,
        headers: { location: `${elsewhere.url}/v2/prompts/${PROMPT}/evaluations` }
      }
    ],
    error:
      /answered 302, a redirect to another origin or to no valid address; not following it with the API key\. Check base-url\.$/,
    listings: 1
  },
  {
    name: 'a redirect whose Location holds the key in its host (never printed)',
    faults: () => [
      {
        method: 'GET',
        path: LISTING_PATH,
        status: 302,
        headers: { location: `http://${api.apiKey}.example.com/v2/prompts/${PROMPT}/evaluations` }
      }
    ],
    error:
      /answered 302, a redirect to another origin or to no valid address; not following it with the API key\. Check base-url\.$/,
    listings: 1
  },
  {
    // 3 MiB on the wire that decode to 3 GiB: once a native crash of the whole process
    name: 'a gzip bomb (3 GiB decoded)',
    faults: once({ status: 200, bomb: { encoding: 'gzip', decodedBytes: 3 * 2 ** 30 } }),
    error:
      /answered 200, but its body decoded \(gzip\) is over the 16 MiB an answer may have\. Adaline's answers are far smaller: check base-url\.$/,
    listings: 1
  },
  {
    name: 'a brotli bomb (1 GiB decoded)',
    faults: once({ status: 200, bomb: { encoding: 'br', decodedBytes: 2 ** 30 } }),
    error: /answered 200, but its body decoded \(br\) is over the 16 MiB an answer may have/,
    listings: 1
  },
  {
    name: 'a body without end',
    faults: once({ status: 200, body: '{"evaluations":[', endless: true }),
    error: /answered 200, but its body on the wire is over the 16 MiB an answer may have/,
    listings: 1
  },
  {
    name: 'an error message of 5 MB (clipped)',
    faults: once({
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: 'w'.repeat(5e6) } }
    }),
    // 500 characters of API text in all, the ellipsis included
    error: /answered 400 BAD_REQUEST: w{486}…$/,
    listings: 1
  }
]

describe('a listing fault: one clear error, and nothing judged or cancelled', () => {
  it.each(failing)('$name', async ({ faults, error, listings }) => {
    for (const fault of faults()) api.inject(fault)
    elsewhere.requests.length = 0
    const result = await run()
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([expect.stringMatching(error)])
    expect(result.errors[0]!.startsWith(LISTING)).toBe(true)
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /)
    expect(cancelRequests()).toHaveLength(0)
    expect(api.evaluations(PROMPT).filter(e => e.status === 'cancelling')).toHaveLength(0)
    expect(result.outputs).toEqual({})
    if (listings !== undefined) expect(listRequests()).toHaveLength(listings)
    expect(elsewhere.requests).toEqual([])
    expect(result.errors[0]!.length).toBeLessThan(1_000)
    expectNoKey(result)
  })
})

describe('an answer with fields the action does not know, nested 100,000 deep', () => {
  it('is read without a crash, and the evaluations output carries the fields the action knows', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000)
    const judged = makeEvaluation({ n: 10, status: 'completed', submittedAt: PUSH_TIME + 60_000 })
    const page = JSON.stringify({ evaluations: [judged], pagination: { hasMore: false } })
      .replace('"runId"', `"extra":${deep},"runId"`)
      .replace(
        '"pagination"',
        `"echo":"${api.apiKey}","huge":[${'1,'.repeat(500_000)}1],"pagination"`
      )
    api.inject({ method: 'GET', path: LISTING_PATH, status: 200, body: page })
    const result = await run()
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs.evaluations!)).toEqual([judged])
    expect(result.stdout + result.stderr).not.toMatch(/Maximum call stack|Unexpected error/)
    expectNoKey(result)
  })
})

describe('a 429 among concurrent cancels', () => {
  it('halves the requests in flight for the rest of the run', async () => {
    const more = Array.from({ length: 40 }, (_, i) =>
      makeEvaluation({ n: 100 + i, status: 'running', submittedAt: PUSH_TIME - 60_000 + i })
    )
    api.addEvaluations(PROMPT, more)
    // every cancel takes 40 ms, so 8 run at once; the first to arrive is rate limited
    api.inject({
      method: 'POST',
      path: '/cancel',
      delayMs: 40,
      status: 429,
      headers: { 'retry-after': '0' }
    })
    api.inject({ method: 'POST', path: '/cancel', delayMs: 40, times: Infinity })
    const result = await run()
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.outputs.cancelled!)).toHaveLength(SUPERSEDED.length + more.length)

    const cancels = cancelRequests()
    const throttledAt = cancels.find(r => r.status === 429)!.answeredAt!
    const spans = intervals(cancels)
    const before = peakInFlight(
      spans
        .filter(c => c.receivedAt < throttledAt)
        .map(c => ({ ...c, answeredAt: Math.min(c.answeredAt, throttledAt) }))
    )
    // once the cancels in flight at the 429 are answered, only the lowered bound counts
    const drained = Math.max(
      ...spans.filter(c => c.receivedAt < throttledAt).map(c => c.answeredAt)
    )
    expect(spans.filter(c => c.receivedAt > drained).length).toBeGreaterThan(20)
    expect(before).toBe(8)
    expect(peakInFlight(spans, drained)).toBeLessThanOrEqual(4)
  })
})

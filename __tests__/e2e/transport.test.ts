/**
 * End to end, the network around the action: HTTPS through a CONNECT proxy as self-hosted runners
 * configure it, NO_PROXY, the runner stopping the step with a signal, a start whose answer leaves
 * its outcome unknown, and max-requests-per-minute.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import { FakeAdaline, fakeId, makeEvaluation, type Fault } from '../../test-support/fake-adaline.js'
import { runAction } from '../../test-support/run-action.js'

const PROMPT = fakeId('prm', 1)
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
  api.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 9, fail: 1, unknown: 0 })])
})

afterEach(async () => {
  await api.close()
})

describe('behind a proxy', () => {
  /** A name only the proxy can resolve, as on a runner that reaches the internet only through it. */
  const API_HOST = 'adaline.test'
  let certDir: string
  let tls: TlsServer
  let proxy: Server
  let apiUrl: string
  let localUrl: string
  let proxyUrl: string
  /** what the proxy was asked: `CONNECT host:port` or `GET http://…`, with any authorization */
  const asked: string[] = []
  /** answers the proxy gives to CONNECTs instead of a tunnel, in order; then it tunnels */
  const refusals: number[] = []
  const sockets = new Set<Socket>()

  beforeAll(async () => {
    // A self-signed certificate for the API's name and localhost, trusted by the action through
    // NODE_EXTRA_CA_CERTS. (Host names, as the real API has: https-proxy-agent checks tunnelled
    // certificates by name.)
    certDir = mkdtempSync(join(tmpdir(), 'adaline-evals-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        `/CN=${API_HOST}`,
        '-addext',
        `subjectAltName=DNS:${API_HOST},DNS:localhost`,
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem')
      ],
      { stdio: 'ignore' }
    )
  })

  beforeEach(async () => {
    // TLS in front of the fake API
    const apiPort = Number(new URL(api.url).port)
    tls = createTlsServer(
      {
        key: readFileSync(join(certDir, 'key.pem')),
        cert: readFileSync(join(certDir, 'cert.pem'))
      },
      socket => {
        const upstream = connect(apiPort, '127.0.0.1')
        socket.pipe(upstream).pipe(socket)
        socket.on('error', () => upstream.destroy())
        upstream.on('error', () => socket.destroy())
      }
    )
    await new Promise<void>(resolve => tls.listen(0, '127.0.0.1', resolve))
    const tlsPort = (tls.address() as AddressInfo).port
    apiUrl = `https://${API_HOST}:${tlsPort}/v2`
    localUrl = `https://localhost:${tlsPort}/v2`

    // A proxy that records what it is asked, and tunnels CONNECTs to the API's name to the TLS
    // server unless told to refuse.
    asked.length = 0
    refusals.length = 0
    proxy = createServer((request, response) => {
      asked.push(`${request.method} ${request.url} ${request.headers.authorization ?? ''}`.trim())
      response.writeHead(502).end()
    })
    proxy.on('connect', (request, client: Socket, head) => {
      asked.push(`CONNECT ${request.url} ${request.headers.authorization ?? ''}`.trim())
      client.on('error', () => undefined)
      const refusal = refusals.shift()
      const [host, port] = (request.url ?? '').split(':')
      if (refusal !== undefined || host !== API_HOST) {
        client.end(`HTTP/1.1 ${refusal ?? 502} Refused\r\ncontent-length: 0\r\n\r\n`)
        return
      }
      const upstream = connect(Number(port), '127.0.0.1', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
        upstream.write(head)
        upstream.pipe(client).pipe(upstream)
      })
      for (const socket of [client, upstream]) {
        sockets.add(socket)
        socket.on('error', () => undefined)
        socket.on('close', () => sockets.delete(socket))
      }
    })
    await new Promise<void>(resolve => proxy.listen(0, '127.0.0.1', resolve))
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`
  })

  afterEach(async () => {
    for (const socket of sockets) socket.destroy()
    proxy.closeAllConnections()
    await new Promise(resolve => proxy.close(resolve))
    await new Promise(resolve => tls.close(resolve))
  })

  afterAll(() => rmSync(certDir, { recursive: true, force: true }))

  function run(env: Record<string, string>, baseUrl = apiUrl) {
    return runAction(
      {
        'api-key': api.apiKey,
        'prompt-id': PROMPT,
        'base-url': baseUrl,
        policy: 'max-fail-runs: 1'
      },
      { env: { NODE_EXTRA_CA_CERTS: join(certDir, 'cert.pem'), ...env } }
    )
  }

  it('reaches the API through HTTPS_PROXY with a CONNECT tunnel; the proxy never sees the key', async () => {
    const result = await run({ HTTPS_PROXY: proxyUrl })
    expect(result.errors).toEqual([])
    expect(result.exitCode).toBe(0)
    expect(result.outputs.gate).toBe('passed')
    // every request (the listing, then the failing rows) went through the tunnel
    expect(asked.length).toBe(api.requests.length)
    expect(new Set(asked)).toEqual(new Set([`CONNECT ${new URL(apiUrl).host}`]))
    expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${api.apiKey}`)
  })

  it('reads a proxy setting without a scheme as http://, as curl does', async () => {
    const result = await run({ HTTPS_PROXY: proxyUrl.replace(/^http:\/\//, '') })
    expect(result.errors).toEqual([])
    expect(result.outputs.gate).toBe('passed')
    expect(new Set(asked)).toEqual(new Set([`CONNECT ${new URL(apiUrl).host}`]))
  })

  it('goes direct when NO_PROXY names the host', async () => {
    // Direct, the runner cannot resolve the name that only the proxy knows.
    const result = await run({ HTTPS_PROXY: proxyUrl, NO_PROXY: API_HOST })
    expect(result.exitCode).toBe(1)
    expect(asked).toEqual([])
    expect(result.errors).toEqual([
      `GET /prompts/${PROMPT}/evaluations failed: host not found (ENOTFOUND). Check base-url.`
    ])
  })

  it('never proxies a loopback API: the key does not travel in clear to the proxy', async () => {
    const env = { HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, ALL_PROXY: proxyUrl }
    const plain = await run(env, api.url)
    expect(plain.errors).toEqual([])
    expect(plain.outputs.gate).toBe('passed')
    const tunnelled = await run(env, localUrl)
    expect(tunnelled.errors).toEqual([])
    expect(tunnelled.outputs.gate).toBe('passed')
    expect(asked).toEqual([])
    expect(api.requests.length).toBeGreaterThanOrEqual(4)
  })

  it('says the proxy wants credentials when it answers the CONNECT 407, and does not retry', async () => {
    refusals.push(407)
    const result = await run({ HTTPS_PROXY: proxyUrl.replace('//', '//user:s3cret@') })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([
      `GET /prompts/${PROMPT}/evaluations failed: the proxy ${proxyUrl} answered 407 instead of opening a tunnel to ${new URL(apiUrl).host}. The proxy wants credentials: give them in HTTPS_PROXY (http://user:password@host:port).`
    ])
    expect(asked).toHaveLength(1)
    expect(api.requests).toHaveLength(0)
    expect(result.stdout + result.stderr).not.toContain('s3cret')
  })

  it('retries a 502 from the proxy, saying the proxy answered it, not the API', async () => {
    refusals.push(502)
    const result = await run({ HTTPS_PROXY: proxyUrl })
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(
      new RegExp(`GET /prompts/${PROMPT}/evaluations: the proxy answered 502; retry 1 in`)
    )
    expect(result.stdout).not.toContain('Adaline had a server error')
  })

  it('fails at once, naming the endpoint, on a certificate it cannot trust', async () => {
    const result = await runAction({
      'api-key': api.apiKey,
      'prompt-id': PROMPT,
      'base-url': localUrl
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([
      expect.stringMatching(
        /failed: TLS error SELF_SIGNED_CERT_IN_CHAIN|failed: TLS error DEPTH_ZERO_SELF_SIGNED_CERT/
      )
    ])
    expect(result.errors[0]).not.toContain('gave up after')
  })

  it('fails naming the endpoint and the proxy when the proxy is unreachable', async () => {
    const result = await run({ HTTPS_PROXY: 'http://127.0.0.1:1' })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^GET /prompts/${PROMPT}/evaluations failed: network error ECONNREFUSED through the proxy http://127.0.0.1:1\\. Check HTTPS_PROXY and NO_PROXY`
        )
      )
    ])
  }, 90_000)
})

describe('when the runner stops the step', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'ends within 5 s of %s with a message and a non-zero exit',
    async signal => {
      api.inject({ path: '/evaluations', hang: true })
      let signalledAt = 0
      const result = await runAction(
        { 'api-key': api.apiKey, 'prompt-id': PROMPT, 'base-url': api.url },
        {
          onStart: child => {
            const poll = setInterval(() => {
              if (api.requests.length > 0) {
                clearInterval(poll)
                signalledAt = Date.now()
                child.kill(signal)
              }
            }, 10)
          }
        }
      )
      expect(signalledAt).toBeGreaterThan(0)
      expect(Date.now() - signalledAt).toBeLessThan(5_000)
      expect(result.exitCode).toBe(1)
      expect(result.errors).toEqual([
        `Stopped by ${signal} before the step finished: no verdict was reached. Cancels already accepted stay in effect.`
      ])
    }
  )
})

describe('a start whose outcome is unknown', () => {
  const CREATE_PATH = /^\/v2\/prompts\/[^/]+\/evaluations$/
  const creates = () => api.requests.filter(r => r.method === 'POST' && CREATE_PATH.test(r.path))

  it.each<[string, Fault]>([
    [
      'a 303 (not followed with a second POST)',
      {
        replaceAnswer: true,
        status: 303,
        headers: { location: `/v2/prompts/${PROMPT}/evaluations` }
      }
    ],
    [
      'a 303 whose Location holds the key in its host',
      {
        replaceAnswer: true,
        status: 303,
        headers: { location: 'http://KEY.example.com/v2/x' }
      }
    ],
    ['a 202 cut mid-body (chunked)', { cutAfterBytes: 30 }],
    ['a 202 that is not JSON', { replaceAnswer: true, status: 202, body: '<html>Accepted' }],
    ['a 202 in the wrong shape', { replaceAnswer: true, status: 202, body: { runId: 'x' } }]
  ])(
    'finds the evaluation it started after %s: one created, one POST, named in started',
    async (_, fault) => {
      const location = fault.headers?.location?.replace('KEY', api.apiKey)
      api.inject({
        method: 'POST',
        path: CREATE_PATH,
        ...fault,
        ...(location ? { headers: { location } } : {})
      })
      const result = await runAction({
        'api-key': api.apiKey,
        'prompt-id': PROMPT,
        'base-url': api.url,
        start: 'true'
      })
      expect(result.errors).toEqual([])
      expect(result.exitCode).toBe(0)
      expect(creates()).toHaveLength(1)
      const evaluations = api.evaluations(PROMPT)
      expect(evaluations).toHaveLength(2)
      const created = evaluations.find(e => e.runId !== fakeId('run', 1))!
      expect(JSON.parse(result.outputs.started!)).toEqual([created.runId])
      expect(result.stdout).toMatch(/may have failed .*checking the listing before trying again/)
      expect(result.stdout).toMatch(/is new since the attempt: using it/)
      const stdout = result.stdout.replace(`::add-mask::${api.apiKey}`, '')
      for (const text of [stdout, result.stderr, result.summary, JSON.stringify(result.outputs)])
        expect(text).not.toContain(api.apiKey)
    },
    60_000
  )
})

describe('max-requests-per-minute', () => {
  it('keeps the action to that many requests a minute, measured where they arrive', async () => {
    // one listing per status (the API takes one status a request), at least four requests
    const result = await runAction({
      'api-key': api.apiKey,
      'prompt-id': PROMPT,
      'base-url': api.url,
      status: 'queued,running,completed,failed',
      'max-requests-per-minute': '120'
    })
    expect(result.errors).toEqual([])
    const times = api.requests.map(r => r.receivedAt)
    expect(times.length).toBeGreaterThanOrEqual(4)
    // any k+1 requests in a row span k × 500 ms, less what a request's way to the fake may vary
    for (let i = 0; i < times.length; i += 1)
      for (let j = i + 1; j < times.length; j += 1)
        expect(times[j]! - times[i]!).toBeGreaterThan((j - i) * 500 - 150)
  })

  it('is refused, before any request, when it is not a whole number', async () => {
    const result = await runAction({
      'api-key': api.apiKey,
      'prompt-id': PROMPT,
      'base-url': api.url,
      'max-requests-per-minute': '1.5'
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([
      expect.stringMatching(/^Input max-requests-per-minute is "1\.5"; accepted: a whole number/)
    ])
    expect(api.requests).toHaveLength(0)
  })
})

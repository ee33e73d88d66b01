/**
 * End to end, the network around the action: HTTPS through a CONNECT proxy as self-hosted runners
 * configure it, NO_PROXY, and the runner stopping the step with a signal.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { connect, type AddressInfo, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
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
  let certDir: string
  let tls: TlsServer
  let proxy: Server
  let tlsUrl: string
  let proxyUrl: string
  const tunnels: string[] = []
  const sockets = new Set<Socket>()

  beforeAll(async () => {
    // A self-signed certificate for localhost, trusted by the action through NODE_EXTRA_CA_CERTS.
    // (A host name, as the real API has: https-proxy-agent checks tunnelled certificates by name.)
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
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
        '-keyout',
        join(certDir, 'key.pem'),
        '-out',
        join(certDir, 'cert.pem')
      ],
      { stdio: 'ignore' }
    )
  })

  beforeEach(async () => {
    // TLS in front of the fake API: https://127.0.0.1:<port>/v2
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
    tlsUrl = `https://localhost:${(tls.address() as AddressInfo).port}/v2`

    // A CONNECT proxy that records the tunnels it opens.
    tunnels.length = 0
    proxy = createServer((_, response) => response.writeHead(405).end())
    proxy.on('connect', (request, client: Socket, head) => {
      tunnels.push(`${request.url} ${request.headers.authorization ?? ''}`.trim())
      const [host, port] = (request.url ?? '').split(':')
      const upstream = connect(Number(port), host, () => {
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
    await new Promise(resolve => proxy.close(resolve))
    await new Promise(resolve => tls.close(resolve))
  })

  afterAll(() => rmSync(certDir, { recursive: true, force: true }))

  function run(env: Record<string, string>) {
    return runAction(
      {
        'api-key': api.apiKey,
        'prompt-id': PROMPT,
        'base-url': tlsUrl,
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
    expect(tunnels.length).toBe(api.requests.length)
    expect(new Set(tunnels)).toEqual(new Set([`localhost:${new URL(tlsUrl).port}`]))
    expect(api.requests[0]?.headers.authorization).toBe(`Bearer ${api.apiKey}`)
  })

  it('goes direct when NO_PROXY names the host', async () => {
    const result = await run({ HTTPS_PROXY: proxyUrl, NO_PROXY: 'localhost' })
    expect(result.exitCode).toBe(0)
    expect(tunnels).toEqual([])
    expect(api.requests.length).toBeGreaterThan(0)
  })

  it('fails at once, naming the endpoint, on a certificate it cannot trust', async () => {
    const result = await runAction({
      'api-key': api.apiKey,
      'prompt-id': PROMPT,
      'base-url': tlsUrl
    })
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([
      expect.stringMatching(
        /failed: TLS error SELF_SIGNED_CERT_IN_CHAIN|failed: TLS error DEPTH_ZERO_SELF_SIGNED_CERT/
      )
    ])
    expect(result.errors[0]).not.toContain('gave up after')
  })

  it('fails naming the endpoint when the proxy is unreachable', async () => {
    const result = await runAction(
      { 'api-key': api.apiKey, 'prompt-id': PROMPT, 'base-url': tlsUrl },
      { env: { NODE_EXTRA_CA_CERTS: join(certDir, 'cert.pem'), HTTPS_PROXY: 'http://127.0.0.1:1' } }
    )
    expect(result.exitCode).toBe(1)
    expect(result.errors).toEqual([
      expect.stringMatching(new RegExp(`^GET /prompts/${PROMPT}/evaluations failed: network error`))
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

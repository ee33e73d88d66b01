/**
 * scripts/serve-fake.ts serves the sample workspace for the CI smoke job and local-action: it must
 * listen on the port asked for, print what the job reads, and stop cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { resolve } from 'node:path'

const TSX = resolve('node_modules/.bin/tsx')

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>(done => server.listen(0, '127.0.0.1', done))
  const { port } = server.address() as { port: number }
  await new Promise(done => server.close(done))
  return port
}

it('serves the sample workspace on the port asked for until SIGTERM', async () => {
  const port = await freePort()
  const child = spawn(TSX, ['scripts/serve-fake.ts', '--port', String(port), '--api-key', 'k'], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  child.stdout.setEncoding('utf8').on('data', chunk => (stdout += chunk))
  const exited = new Promise<number | null>(done => child.on('close', code => done(code)))
  try {
    for (let i = 0; i < 300 && !stdout.includes('serve-fake: listening'); i++) {
      await new Promise(r => setTimeout(r, 50))
    }
    expect(stdout).toContain(`url=http://127.0.0.1:${port}/v2\napi-key=k\nprompt-ids=`)
    const promptId = /^prompt-ids=([^,\n]+)/m.exec(stdout)![1]!
    const response = await fetch(`http://127.0.0.1:${port}/v2/prompts/${promptId}/evaluations`, {
      headers: { authorization: 'Bearer k' }
    })
    expect(response.status).toBe(200)
    expect(
      ((await response.json()) as { evaluations: unknown[] }).evaluations.length
    ).toBeGreaterThan(0)
    // the sample evaluators have names, for reports that show them
    const evaluators = await fetch(`http://127.0.0.1:${port}/v2/prompts/${promptId}/evaluators`, {
      headers: { authorization: 'Bearer k' }
    })
    expect(evaluators.status).toBe(200)
    const { evaluators: listed } = (await evaluators.json()) as { evaluators: { title: string }[] }
    expect(listed.map(e => e.title)).toEqual(['Ticket category is correct (LLM judge)'])
  } finally {
    child.kill('SIGTERM')
  }
  expect(await exited).toBe(0)
}, 30_000)

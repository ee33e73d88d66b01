/** Runs bench/peer.sh, the hand-written curl + jq listing, against the fake API. */
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FakeAdaline } from '../test-support/fake-adaline.js'
import { PROMPT } from './workload.js'

const PEER_SCRIPT = fileURLToPath(new URL('./peer.sh', import.meta.url))

/** Whether the peer can run here: it needs bash, curl and jq. */
export function peerAvailable(): boolean {
  const found = spawnSync('bash', ['-c', 'command -v curl && command -v jq'], { stdio: 'ignore' })
  return found.status === 0
}

/** Lists PROMPT with the peer; returns how many evaluations it counted. */
export async function listWithPeer(api: FakeAdaline): Promise<number> {
  const child = spawn('bash', [PEER_SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '',
      ADALINE_API_KEY: api.apiKey,
      ADALINE_BASE_URL: api.url,
      ADALINE_PROMPT_ID: PROMPT
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', chunk => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', chunk => (stderr += chunk))
  const code = await new Promise<number | null>(done => child.on('close', done))
  if (code !== 0) throw new Error(`bench/peer.sh exited ${code}: ${stderr.trim()}`)
  return (JSON.parse(stdout) as { count: number }).count
}

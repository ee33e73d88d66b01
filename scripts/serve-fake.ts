/**
 * Serves the fake Adaline API with the sample workspace (its evaluations, their per-row results,
 * and its evaluators with their titles) until stopped, for the CI smoke job and
 * `npm run local-action`:
 *
 *   npx tsx scripts/serve-fake.ts --port 8787 [--api-key KEY]
 *
 * The port and key also come from FAKE_ADALINE_PORT and FAKE_ADALINE_API_KEY; without a port any
 * free one is taken, without a key a random one. Once listening it prints `url=`, `api-key=` and
 * `prompt-ids=` lines (the same lines go to $GITHUB_OUTPUT when set), then serves until SIGINT or
 * SIGTERM.
 */
import { appendFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { FakeAdaline, sampleWorkspace } from '../test-support/fake-adaline.js'

const { values } = parseArgs({
  options: { port: { type: 'string' }, 'api-key': { type: 'string' } },
  strict: true
})

const portText = values.port ?? process.env.FAKE_ADALINE_PORT ?? '0'
const port = Number(portText)
if (!/^\d+$/.test(portText) || port > 65_535) {
  console.error(`serve-fake: --port must be an integer 0..65535, got "${portText}"`)
  process.exit(2)
}
const apiKey = values['api-key'] ?? (process.env.FAKE_ADALINE_API_KEY || undefined)

const api = await FakeAdaline.start({ apiKey, port })

const prompts = sampleWorkspace(Date.now())
for (const { promptId, evaluations, options } of prompts) {
  api.addPrompt(promptId, evaluations, options)
}

const lines = [
  `url=${api.url}`,
  `api-key=${api.apiKey}`,
  `prompt-ids=${prompts.map(p => p.promptId).join(',')}`
]
if (process.env.GITHUB_OUTPUT) await appendFile(process.env.GITHUB_OUTPUT, lines.join('\n') + '\n')
console.log(lines.join('\n'))
console.log(`serve-fake: listening on ${api.url} until stopped (Ctrl-C)`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void api.close().then(() => process.exit(0)))
}

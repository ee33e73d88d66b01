/**
 * `npm run demo`: the action at work without an Adaline account. Starts the project's fake Adaline
 * API on loopback with sample evaluations, runs the bundled dist/index.js the way the runner does
 * (a force-push event, a gate policy, cancel-superseded: force-push), and prints the step log, the
 * job summary and the outputs.
 */
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeAdaline, sampleWorkspace } from '../test-support/fake-adaline.js'
import { markdownForTerminal } from '../src/report/terminal.js'
import { decodeCommandText, runAction } from '../test-support/run-action.js'

const POLICY = `max-fail-rate: 10%
min-pass-rate: 85%
max-cost: 0.10
max-avg-latency: 1500`

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text)
const rule = (title: string) => console.log(`\n${bold(`── ${title} `.padEnd(78, '─'))}\n`)

/** The runner's workflow commands, shown as the Actions log shows them. */
function logForTerminal(stdout: string): string {
  return stdout
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::') && line !== '::endgroup::')
    .map(line =>
      line
        .replace(/^::group::(.*)$/, (_, title: string) => bold(`▸ ${title}`))
        .replace(
          /^::(error|warning|notice)(?: [^:]*)?::(.*)$/,
          (_, kind: string, text: string) => `${kind.toUpperCase()}: ${decodeCommandText(text)}`
        )
    )
    .join('\n')
}

async function main(): Promise<void> {
  const now = Date.now()
  const api = await FakeAdaline.start()
  const prompts = sampleWorkspace(now)
  for (const { promptId, evaluations } of prompts) api.addPrompt(promptId, evaluations)
  try {
    const pushedAt = now - 4 * 60_000
    rule('Scenario')
    console.log(
      `Fake Adaline API on ${api.url} with ${prompts.length} prompts and sample evaluations.`
    )
    console.log('A force-push landed 4 minutes ago. The step judges the completed evaluations')
    console.log('against this policy and cancels what the force-push made obsolete:\n')
    console.log(POLICY.replace(/^/gm, '    '))

    const run = await runAction(
      {
        'api-key': api.apiKey,
        'base-url': api.url,
        'prompt-id': prompts.map(p => p.promptId).join('\n'),
        status: 'completed',
        policy: POLICY,
        'cancel-superseded': 'force-push'
      },
      {
        event: {
          name: 'push',
          payload: {
            forced: true,
            ref: 'refs/heads/feature/better-triage',
            head_commit: { id: 'f'.repeat(40), timestamp: new Date(pushedAt).toISOString() },
            repository: {
              name: 'support-bot',
              owner: { login: 'acme' },
              pushed_at: Math.floor(pushedAt / 1000)
            }
          }
        }
      }
    )

    rule('Step log (node dist/index.js)')
    console.log(logForTerminal(run.stdout).trim())
    if (run.stderr.trim()) console.log(run.stderr.trim())

    rule('Job summary')
    console.log(markdownForTerminal(run.summary).trim())
    const summaryFile = join(tmpdir(), 'adaline-evals-demo-summary.md')
    await writeFile(summaryFile, run.summary)

    rule('Step outputs')
    for (const [name, value] of Object.entries(run.outputs)) {
      const shown =
        value.length > 100 ? `${value.slice(0, 97)}… (${value.length} characters)` : value
      console.log(`${name.padEnd(17)} ${shown}`)
    }

    rule('Result')
    console.log(
      `The step exited with code ${run.exitCode} (${run.exitCode === 0 ? 'success' : 'failure: the gate failed'}).`
    )
    const cancelled: string[] = JSON.parse(run.outputs.cancelled ?? '[]')
    const status = new Map(
      prompts.flatMap(p => api.evaluations(p.promptId)).map(e => [e.runId, e.status])
    )
    console.log(
      `Cancelled by the step: ${cancelled.map(id => `${id} (now ${status.get(id)} in the fake API)`).join(', ') || 'none'}.`
    )
    console.log(`The raw Markdown summary is in ${summaryFile}.`)
  } finally {
    await api.close()
  }
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})

/**
 * `npm run demo`: the action at work without an Adaline account. Starts the project's fake Adaline
 * API (and a fake GitHub API for the pull request comment) on loopback with sample evaluations,
 * runs the bundled dist/index.js the way the runner does, and prints the step log as it happens
 * and the outputs of two scenarios, each followed by the `adaline-evals` command's terminal report
 * (dist/cli/index.js) on the same data, as a developer's shell or a GitLab job shows it:
 *
 * 1. a force-push: judge the completed evaluations, cancel the ones the push made obsolete;
 * 2. a pull request: start an evaluation per prompt for this commit, wait for it with progress,
 *    explain the verdict (failing rows, baseline deltas) and write the sticky comment.
 */
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { FakeAdaline, sampleWorkspace } from '../test-support/fake-adaline.js'
import { FakeGitHub } from '../test-support/fake-github.js'
import {
  decodeCommandText,
  runAction,
  runCommand,
  type ActionRun,
  type ActionRunOptions
} from '../test-support/run-action.js'

const FORCE_PUSH_POLICY = `max-fail-rate: 10%
min-pass-rate: 85%
max-cost: 0.10
max-avg-latency: 1500`

const PULL_REQUEST_POLICY = `min-pass-rate: 80%
max-pass-rate-drop: 5%
significance: 5%`

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text)
const rule = (title: string) => console.log(`\n${bold(`── ${title} `.padEnd(78, '─'))}\n`)

/** One line of the runner's log as the Actions log shows it; undefined for hidden commands. */
function logLine(line: string): string | undefined {
  if (line.startsWith('::add-mask::') || line === '::endgroup::') return undefined
  return line
    .replace(/^::group::(.*)$/, (_, title: string) => bold(`▸ ${title}`))
    .replace(
      /^::(error|warning|notice)(?: [^:]*)?::(.*)$/,
      (_, kind: string, text: string) => `${kind.toUpperCase()}: ${decodeCommandText(text)}`
    )
}

/** Runs the action, printing its log line by line as it happens, then its summary and outputs. */
async function runAndShow(
  name: string,
  inputs: Record<string, string>,
  options: ActionRunOptions
): Promise<ActionRun> {
  rule(`${name}: step log (node dist/index.js), as it happens`)
  let pending = ''
  const run = await runAction(inputs, {
    ...options,
    // what a runner sets, so that the summary links the commit and the workflow run
    env: {
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_REPOSITORY: 'acme/support-bot',
      GITHUB_RUN_ID: '4242424242',
      GITHUB_RUN_ATTEMPT: '1',
      GITHUB_SHA: 'f'.repeat(40),
      ...options.env
    },
    onStart: child => {
      child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = (pending + chunk).split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          const shown = logLine(line)
          if (shown !== undefined) console.log(shown)
        }
      })
    }
  })
  const last = logLine(pending)
  if (pending && last !== undefined) console.log(last)
  if (run.stderr.trim()) console.log(run.stderr.trim())

  rule(`${name}: step outputs`)
  for (const [output, value] of Object.entries(run.outputs)) {
    const shown = value.length > 100 ? `${value.slice(0, 97)}… (${value.length} characters)` : value
    console.log(`${output.padEnd(17)} ${shown}`)
  }
  console.log(
    `\nThe step exited with code ${run.exitCode} (${run.exitCode === 0 ? 'success' : 'failure: the gate failed'}).`
  )
  return run
}

/**
 * The command's terminal report on the same data: the way a shell shows it, as wide as this
 * terminal and coloured when this is one (the demo's stdout, not the child's pipe, decides).
 */
async function showCommand(name: string, api: FakeAdaline, args: string[]): Promise<void> {
  rule(`${name}: the same from a shell (adaline-evals, the terminal report)`)
  console.log(
    `$ adaline-evals ${args.map(arg => (/[\s'"]/.test(arg) ? `'${arg}'` : arg)).join(' ')}\n`
  )
  const tty = process.stdout.isTTY === true
  const command = await runCommand(['--base-url', api.url, ...args, '--quiet'], {
    env: {
      ADALINE_API_KEY: api.apiKey,
      ...(tty ? { FORCE_COLOR: '1' } : { NO_COLOR: '1' }),
      ...(tty && process.stdout.columns ? { COLUMNS: String(process.stdout.columns) } : {})
    }
  })
  process.stdout.write(command.stdout)
  if (command.stderr.trim()) console.log(command.stderr.trim())
  console.log(`\nThe command exited with ${command.exitCode}.`)
}

async function main(): Promise<void> {
  const now = Date.now()
  const api = await FakeAdaline.start()
  const github = await FakeGitHub.start()
  const prompts = sampleWorkspace(now)
  for (const { promptId, evaluations, options } of prompts) {
    api.addPrompt(promptId, evaluations, options)
  }
  const promptIds = prompts.map(p => p.promptId).join('\n')
  const repository = { name: 'support-bot', owner: { login: 'acme' } }
  try {
    rule('Scenario 1: a force-push')
    console.log(
      `Fake Adaline API on ${api.url} with ${prompts.length} prompts and sample evaluations.`
    )
    console.log('A force-push landed 4 minutes ago. The step judges the completed evaluations')
    console.log('against this policy and cancels what the force-push made obsolete:\n')
    console.log(FORCE_PUSH_POLICY.replace(/^/gm, '    '))
    const pushedAt = now - 4 * 60_000
    const first = await runAndShow(
      'Scenario 1',
      {
        'api-key': api.apiKey,
        'base-url': api.url,
        'prompt-id': promptIds,
        status: 'completed',
        policy: FORCE_PUSH_POLICY,
        'cancel-superseded': 'force-push'
      },
      {
        event: {
          name: 'push',
          payload: {
            forced: true,
            ref: 'refs/heads/feature/better-triage',
            head_commit: { id: 'f'.repeat(40), timestamp: new Date(pushedAt).toISOString() },
            repository: { ...repository, pushed_at: Math.floor(pushedAt / 1000) }
          }
        }
      }
    )
    const cancelled: string[] = JSON.parse(first.outputs.cancelled ?? '[]')
    const status = new Map(
      prompts.flatMap(p => api.evaluations(p.promptId)).map(e => [e.runId, e.status])
    )
    console.log(
      `Cancelled by the step: ${cancelled.map(id => `${id} (now ${status.get(id)} in the fake API)`).join(', ') || 'none'}.`
    )
    await showCommand('Scenario 1', api, [
      ...prompts.flatMap(p => ['--prompt-id', p.promptId]),
      '--status',
      'completed',
      '--policy',
      FORCE_PUSH_POLICY
    ])

    rule('Scenario 2: a pull request that starts, waits and explains')
    console.log('Pull request #42 was pushed. The step starts one evaluation per prompt for this')
    console.log('commit, waits for them (the fake runs their 40 rows in about 5 s), compares each')
    console.log('with the completed evaluation before it row by row (a drop counts only when it is')
    console.log('beyond chance), and writes a sticky comment. Policy:\n')
    console.log(PULL_REQUEST_POLICY.replace(/^/gm, '    '))
    const second = await runAndShow(
      'Scenario 2',
      {
        'api-key': api.apiKey,
        'base-url': api.url,
        'prompt-id': promptIds,
        start: 'true',
        wait: '5m',
        policy: PULL_REQUEST_POLICY,
        comment: 'on',
        'github-token': 'ghs_demo_token_not_a_real_one_Xq7Vb2Lm9Pz'
      },
      {
        event: {
          name: 'pull_request',
          payload: {
            action: 'synchronize',
            pull_request: { number: 42, head: { sha: 'e'.repeat(40) } },
            repository
          }
        },
        env: { GITHUB_API_URL: github.url, GITHUB_WORKFLOW: 'PR gate', GITHUB_JOB: 'evals' }
      }
    )
    const comments = github.comments.get('acme/support-bot#42') ?? []
    console.log(
      `Pull request #42 has ${comments.length} comment(s) from the step (the fake GitHub API holds it); started: ${second.outputs.started}.`
    )
    await showCommand('Scenario 2', api, [
      ...prompts.flatMap(p => ['--prompt-id', p.promptId]),
      '--policy',
      PULL_REQUEST_POLICY
    ])
    const summaryFile = join(tmpdir(), 'adaline-evals-demo-summary.md')
    await writeFile(summaryFile, `${first.summary}\n\n---\n\n${second.summary}`)
    console.log(`\nThe two job summaries (Markdown, as GitHub shows them) are in ${summaryFile}.`)
  } finally {
    await Promise.all([api.close(), github.close()])
  }
}

main().catch(error => {
  console.error(error)
  process.exitCode = 1
})

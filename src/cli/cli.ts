/**
 * `adaline-evals`: the action's engine on the command line, for GitLab CI, Jenkins and a
 * developer's shell. The same options as flags, the key from ADALINE_API_KEY, the report on stdout
 * (text, Markdown or JSON), progress on stderr, and exit 1 on a failed gate.
 */
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { parseArgs } from 'node:util'
import { onAbort, type AbortWatch } from '../run/abort.js'
import { ApiError } from '../adaline/http.js'
import { createEngine, decideFromEvent, type Engine, type Log } from '../run/engine.js'
import { CLOCK_SKEW_MS, readEvent, type SupersedeDecision } from '../github/event.js'
import {
  API_KEY_MIN,
  InputError,
  parseTime,
  readSettings,
  type Settings
} from '../inputs/settings.js'
import { TotalsError } from '../judge/metrics.js'
import { Secrets, clipLine, inertLines, inertLogLine } from '../secrets/redact.js'
import { cancelFailedMessage } from '../report/cancel-failed.js'
import { formatTime } from '../format.js'
import { buildSummary, type RunReport } from '../report/summary.js'
import { markdownForTerminal } from '../report/terminal.js'

export const EXIT = { passed: 0, gateFailed: 1, usage: 2, error: 3, cancelFailed: 4 } as const

const HELP = `Usage: adaline-evals --prompt-id ID [options]

Gates on Adaline prompt evaluations: lists them, judges them against a policy, reports pass / fail /
unknown runs, cost, latency and tokens, and cancels the evaluations a new commit made obsolete.
The same engine as the GitHub Action, with its inputs as flags.

Environment:
  ADALINE_API_KEY            workspace API key (required)
  GITHUB_TOKEN               only for --cancel-superseded on a GitHub pull_request event

Options:
  --prompt-id ID             prompt to list; repeat or separate with commas for several (required)
  --evaluator-id ID          only evaluations of this evaluator
  --dataset-id ID            only evaluations on this dataset
  --status LIST              only these statuses: queued, running, completed, failed, cancelled,
                             cancelling (repeat or separate with commas); default all
  --created-after TIME       ISO 8601, Unix ms, or a duration back from now (90m, 24h, 7d)
  --policy YAML              gate rules, e.g. 'max-fail-runs: 0'
  --policy-file PATH         gate rules from a YAML file
  --superseded-before TIME   cancel queued and running evaluations submitted before TIME
                             (e.g. the pipeline's start time on GitLab or Jenkins)
  --cancel-superseded MODE   never | force-push | new-commit, decided from the GitHub event in
                             GITHUB_EVENT_NAME / GITHUB_EVENT_PATH (as the action does)
  --keep-run-ids LIST        run IDs never to cancel
  --start                    start one evaluation per prompt for this commit and judge those
  --wait DURATION            wait up to DURATION (90s, 30m, 1h) for the judged evaluations to finish
  --cancel-on-abort BOOL     on Ctrl-C, SIGTERM or an error after starting, cancel the
                             evaluations this run started (default true)
  --dry-run                  report what would be cancelled, cancel nothing
  --fail-on-gate BOOL        exit 1 when the gate fails (default true)
  --base-url URL             API root (default https://api.adaline.ai/v2)
  --max-requests-per-minute N
                             at most N requests a minute to Adaline (this job's share of the
                             workspace's rate limit); default: slow down only after a 429
  --format FORMAT            text (default), markdown, or json
  --quiet                    no progress on stderr
  -h, --help                 this help

Exit status: 0 gate passed or skipped, 1 gate failed, 2 bad option, 3 API or other error,
4 some superseded evaluations could not be cancelled and may still run (the report is printed,
and stderr names them; this wins over 1), 130 / 143 stopped by SIGINT / SIGTERM (after cancelling
what the run started, and naming what it could not).
`

const OPTIONS = {
  'prompt-id': { type: 'string', multiple: true },
  'evaluator-id': { type: 'string' },
  'dataset-id': { type: 'string' },
  status: { type: 'string', multiple: true },
  'created-after': { type: 'string' },
  policy: { type: 'string' },
  'policy-file': { type: 'string' },
  'superseded-before': { type: 'string' },
  'cancel-superseded': { type: 'string' },
  'keep-run-ids': { type: 'string', multiple: true },
  start: { type: 'boolean' },
  wait: { type: 'string' },
  'cancel-on-abort': { type: 'string' },
  'dry-run': { type: 'boolean' },
  'fail-on-gate': { type: 'string' },
  'base-url': { type: 'string' },
  'max-requests-per-minute': { type: 'string' },
  format: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
} as const

/** Runs the command; returns the exit status. Output goes to the given streams. */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (text: string) => void,
  err: (text: string) => void
): Promise<number> {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values']
  try {
    values = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    err(`adaline-evals: ${(error as Error).message}\nRun adaline-evals --help for the options.\n`)
    return EXIT.usage
  }
  if (values.help) {
    out(HELP)
    return EXIT.passed
  }
  const apiKey = env.ADALINE_API_KEY ?? ''
  const secrets = new Secrets()
  // one too short to be a key is refused by readSettings, and would hide its letters everywhere
  if (apiKey.trim().length >= API_KEY_MIN) secrets.add(apiKey.trim())
  // run inside GitHub Actions too, where the runner obeys workflow commands on stdout and stderr
  const print = (text: string) => out(inertLines(secrets.redact(text)))
  const tell = (text: string) => err(inertLines(secrets.redact(text)))
  let engine: Engine | undefined
  let abort: AbortWatch | undefined
  try {
    const format = values.format ?? 'text'
    if (!['text', 'markdown', 'json'].includes(format)) {
      throw new InputError('format', `is "${format}"; accepted: text, markdown, json`)
    }
    const policy =
      values['policy-file'] !== undefined
        ? readPolicyFile(values['policy-file'])
        : (values.policy ?? '')
    const inputs: Record<string, string | undefined> = {
      'api-key': apiKey,
      'github-token': env.GITHUB_TOKEN,
      'prompt-id': values['prompt-id']?.join('\n'),
      'evaluator-id': values['evaluator-id'],
      'dataset-id': values['dataset-id'],
      status: values.status?.join('\n'),
      'created-after': values['created-after'],
      policy,
      'cancel-superseded': values['cancel-superseded'],
      'keep-run-ids': values['keep-run-ids']?.join('\n'),
      'dry-run': values['dry-run'] ? 'true' : '',
      'fail-on-gate': values['fail-on-gate'],
      'base-url': values['base-url'],
      start: values.start ? 'true' : '',
      wait: values.wait,
      'cancel-on-abort': values['cancel-on-abort'],
      'max-requests-per-minute': values['max-requests-per-minute']
    }
    const now = Date.now()
    const settings = await readSettings(name => inputs[name] ?? '', {
      now,
      mask: secret => secrets.add(secret)
    })
    const cutoff = parseTime('superseded-before', values['superseded-before'] ?? '', now)
    const log = values.quiet ? silentLog : stderrLog(tell, text => secrets.redact(text))
    const decision = await decide(settings, cutoff, env, now)
    // JSON shows no rows: none is fetched for it
    engine = createEngine(settings, log, { showsRows: format !== 'json' })
    const running = engine
    abort = onAbort({
      run: () => running,
      cancel: () => settings.cancelOnAbort,
      stopped: (signal, account) => {
        const cancels = running.supersededCancels()
        const cancelFailed = cancels ? cancelFailedMessage(cancels) : undefined
        tell(
          `adaline-evals: stopped by ${signal}; no verdict was reached.${account ? ` ${account}` : ''}${cancelFailed ? ` ${cancelFailed}` : ''}\n`
        )
        process.exit(128 + constants.signals[signal]) // 130 for SIGINT, 143 for SIGTERM
      }
    })
    const report = await engine.evaluate(decision).finally(() => abort?.stopListening())
    // once a signal came, the abort reports and exits
    if (abort.signalled) return untilExit()

    print(render(report, format))
    const failed = report.verdict.gate === 'failed'
    // after the report: superseded evaluations that may still run fail the command whatever the gate
    const cancelFailed = cancelFailedMessage(report.cancel)
    if (cancelFailed) {
      tell(`adaline-evals: ${cancelFailed}\n`)
      return EXIT.cancelFailed
    }
    if (failed && !settings.failOnGate)
      tell('The gate failed, but --fail-on-gate is false: exit 0.\n')
    return failed && settings.failOnGate ? EXIT.gateFailed : EXIT.passed
  } catch (error) {
    if (abort?.signalled) return untilExit()
    if (error instanceof InputError) {
      const name = error.input === 'api-key' ? 'ADALINE_API_KEY (environment)' : `--${error.input}`
      tell(`adaline-evals: ${name} ${error.detail}\n`)
      return EXIT.usage
    }
    const message =
      error instanceof ApiError || error instanceof TotalsError
        ? error.message
        : `Unexpected error: ${(error as Error).stack ?? String(error)}`
    // one message: what ended the run, what it had started (the command has no started output),
    // and superseded evaluations that may still run
    const started = engine?.startedRunIds() ?? []
    const named = started.length > 0 ? ` This run had started: ${started.join(', ')}.` : ''
    const cancels = engine?.supersededCancels()
    const cancelFailed = cancels ? cancelFailedMessage(cancels) : undefined
    tell(
      `adaline-evals: ${clipLine(secrets.redact(`${message}${named}${cancelFailed ? ` ${cancelFailed}` : ''}`))}\n`
    )
    return EXIT.error
  }
}

/** The abort ends the process (with 130 or 143) once it has cancelled and told; until then, wait. */
function untilExit(): Promise<number> {
  return new Promise<number>(() => undefined)
}

function readPolicyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new InputError('policy-file', `cannot be read: ${(error as Error).message}`)
  }
}

/**
 * An explicit cutoff wins; otherwise the GitHub event decides, as in the action. An explicit one
 * later than `now` (plus the clock skew the event's times are allowed) would cancel evaluations
 * submitted after it: a usage error.
 */
async function decide(
  settings: Settings,
  cutoff: number | undefined,
  env: NodeJS.ProcessEnv,
  now: number
): Promise<SupersedeDecision> {
  if (cutoff !== undefined) {
    if (cutoff > now + CLOCK_SKEW_MS) {
      throw new InputError(
        'superseded-before',
        `is ${formatTime(cutoff)}, later than now (${formatTime(now)}) plus ${CLOCK_SKEW_MS / 60_000} min: it would cancel evaluations submitted after it. Give a time that has passed, such as the pipeline's start time`
      )
    }
    return {
      act: true,
      cutoff,
      reason: `evaluations submitted before ${formatTime(cutoff)} are superseded (--superseded-before)`
    }
  }
  return decideFromEvent(settings, readEvent(env))
}

function render(report: RunReport, format: string): string {
  // "##[" can only stand inside a JSON string, where \u0023 is the same "#" and no command
  if (format === 'json')
    return `${JSON.stringify(asJson(report), null, 2).replace(/##\[/g, '#\\u0023[')}\n`
  const markdown = buildSummary(report)
  return format === 'markdown' ? markdown : markdownForTerminal(markdown)
}

/** The report for scripts: the verdict, the numbers as numbers, the evaluations as the API gave them. */
export function asJson(report: RunReport) {
  const { verdict, metrics, gathered, cancel } = report
  return {
    gate: verdict.gate,
    broken: verdict.broken,
    metrics,
    listedCount: gathered.listedCount,
    listedByStatus: gathered.listedByStatus,
    cancelled: cancel.cancelled,
    cancelFailures: cancel.failed,
    finishedBeforeCancel: cancel.finished,
    started: report.started,
    waitedMs: report.wait?.waitedMs ?? null,
    stillRunning: report.wait?.timedOut ?? [],
    baselines: Object.fromEntries(
      [...report.baselines].map(([runId, item]) => [runId, item.evaluation.runId])
    ),
    evaluations: gathered.judged.map(item => item.raw)
  }
}

const silentLog: Log = {
  flat: true,
  info: () => undefined,
  warning: () => undefined,
  group: (_, work) => work()
}

/** Progress on stderr, a line a message, redacted before it is cut to LOG_LINE_LIMIT. */
function stderrLog(write: (text: string) => void, redact: (text: string) => string): Log {
  const line = (message: string) => inertLogLine(clipLine(redact(message)))
  return {
    flat: true,
    info: message => write(`${line(message)}\n`),
    warning: message => write(`warning: ${line(message)}\n`),
    group: async (title, work) => {
      write(`${line(title)}\n`)
      return work()
    }
  }
}

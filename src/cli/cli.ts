/**
 * `adaline-evals`: the action's engine on the command line, for GitLab CI, Jenkins and a
 * developer's shell. The same options as flags, the key from ADALINE_API_KEY, the report on stdout
 * (text, Markdown or JSON), progress on stderr, and exit 1 on a failed gate.
 */
import { constants } from 'node:os'
import { ApiError } from '../adaline/http.js'
import { writeTextFiles } from '../files.js'
import { formatTime } from '../format.js'
import { readEvent, type GitHubEvent, type SupersedeDecision } from '../github/event.js'
import { parseFormat, parseSupersededBefore, readPolicyFile } from '../inputs/command.js'
import {
  API_KEY_MIN,
  InputError,
  readSettings,
  type Naming,
  type Settings
} from '../inputs/settings.js'
import { TotalsError } from '../judge/metrics.js'
import type { SettingNaming } from '../judge/policy.js'
import { cancelFailedMessage } from '../report/cancel-failed.js'
import { buildReportFiles } from '../report/ci-files.js'
import { buildJsonReport, jsonReportText } from '../report/json-report.js'
import { buildSummary } from '../report/summary.js'
import { buildTerminalReport } from '../report/terminal.js'
import { onAbort, type AbortWatch } from '../run/abort.js'
import type { Log } from '../run/context.js'
import { decideFromEvent } from '../run/decide.js'
import { createEngine, type Engine } from '../run/engine.js'
import type { RunReport } from '../run/run-report.js'
import { Secrets, clipLine, inertLines, inertLogLine } from '../secrets/redact.js'
import packageJson from '../../package.json' with { type: 'json' }
import { HELP, commandNaming, flagOf, inputsFromFlags, parseFlags, type Flags } from './flags.js'

export const EXIT = { passed: 0, gateFailed: 1, usage: 2, error: 3, cancelFailed: 4 } as const

/** What stdout is: a terminal (with its width) or a pipe or file. */
export interface Stdout {
  isTTY: boolean
  /** the terminal's columns, when it is one */
  columns?: number
}

/** The text report's width when stdout is not a terminal (a CI log, a file, a pager). */
const PIPED_WIDTH = 80

/** Runs the command; returns the exit status. Output goes to the given streams. */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv,
  out: (text: string) => void,
  err: (text: string) => void,
  stdout: Stdout = { isTTY: false }
): Promise<number> {
  let values: Flags
  try {
    values = parseFlags(argv)
  } catch (error) {
    err(`adaline-evals: ${(error as Error).message}\nRun adaline-evals --help for the options.\n`)
    return EXIT.usage
  }
  if (values.help) {
    out(HELP)
    return EXIT.passed
  }
  if (values.version) {
    // bundled at build time: dist/cli/index.js carries its own version
    out(`adaline-evals ${packageJson.version}\n`)
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
    const format = parseFormat(values.format)
    const policy =
      values['policy-file'] !== undefined
        ? readPolicyFile(values['policy-file'])
        : (values.policy ?? '')
    const inputs = inputsFromFlags(values, env, policy)
    const now = Date.now()
    const settings = await readSettings(name => inputs[name] ?? '', {
      now,
      mask: secret => secrets.add(secret)
    })
    const cutoff = parseSupersededBefore(values['superseded-before'] ?? '', now)
    const log = values.quiet ? silentLog : stderrLog(tell, text => secrets.redact(text))
    const event = readEvent(env)
    const naming = commandNaming(values)
    const decision = await decide(settings, cutoff, event, naming)
    engine = createEngine(settings, log, naming)
    const running = engine
    abort = onAbort({
      nameOf: naming.nameOf,
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

    print(
      render(report, format, naming, {
        width: reportWidth(env, stdout),
        color: useColor(env, stdout.isTTY),
        commit: commitOf(env, event)
      })
    )
    // after the report, so that a file that cannot be written takes nothing from stdout
    const unwritten = await writeTextFiles(buildReportFiles(report, settings), text =>
      secrets.redact(text)
    )
    for (const { input, path, problem } of unwritten)
      tell(`adaline-evals: ${flagOf(input)}: cannot write ${JSON.stringify(path)}: ${problem}\n`)
    const failed = report.verdict.gate === 'failed'
    // after the report: superseded evaluations that may still run fail the command whatever the gate
    const cancelFailed = cancelFailedMessage(report.cancel)
    if (cancelFailed) {
      tell(`adaline-evals: ${cancelFailed}\n`)
      return EXIT.cancelFailed
    }
    if (unwritten.length > 0) return EXIT.error
    if (failed && !settings.failOnGate)
      tell('The gate failed, but --fail-on-gate is false: exit 0.\n')
    return failed && settings.failOnGate ? EXIT.gateFailed : EXIT.passed
  } catch (error) {
    if (abort?.signalled) return untilExit()
    if (error instanceof InputError) {
      tell(`adaline-evals: ${error.describe(commandNaming(values))}\n`)
      return EXIT.usage
    }
    const message =
      error instanceof TotalsError
        ? error.describe(commandNaming(values).nameOf)
        : error instanceof ApiError
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

/** An explicit cutoff (--superseded-before) wins; otherwise the GitHub event decides, as in the action. */
async function decide(
  settings: Settings,
  cutoff: number | undefined,
  event: GitHubEvent,
  naming: Naming
): Promise<SupersedeDecision> {
  if (cutoff !== undefined) {
    return {
      act: true,
      cutoff,
      reason: `evaluations submitted before ${formatTime(cutoff)} are superseded (--superseded-before)`
    }
  }
  return decideFromEvent(settings, event, Date.now, naming)
}

function render(
  report: RunReport,
  format: string,
  naming: SettingNaming,
  terminal: { width: number; color: boolean; commit?: string }
): string {
  if (format === 'json') return jsonReportText(buildJsonReport(report))
  if (format === 'markdown') return buildSummary(report, { naming })
  return buildTerminalReport(report, terminal)
}

/**
 * The terminal's width; when piped, COLUMNS if it is set to a width (a CI log wider than 80), or
 * 80.
 */
export function reportWidth(env: NodeJS.ProcessEnv, stdout: Stdout): number {
  if (stdout.isTTY && stdout.columns) return stdout.columns
  const columns = Number(env.COLUMNS)
  return Number.isInteger(columns) && columns >= 20 && columns <= 1000 ? columns : PIPED_WIDTH
}

/**
 * Colour on a terminal only; NO_COLOR (set, not empty) turns it off and wins; FORCE_COLOR (set,
 * not empty, not 0 or false) turns it on where stdout is piped, as in a CI log that shows colour.
 */
export function useColor(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false
  const force = env.FORCE_COLOR
  if (force) return !/^(0|false)$/i.test(force)
  return isTTY
}

/**
 * The commit the run is for, where the CI says: GitLab's CI_COMMIT_SHA, Jenkins' GIT_COMMIT, or
 * on GitHub the pull request's head (GITHUB_SHA is then the merge commit) or GITHUB_SHA.
 */
function commitOf(env: NodeJS.ProcessEnv, event: GitHubEvent): string | undefined {
  const head = (event.payload.pull_request as { head?: { sha?: unknown } } | undefined)?.head?.sha
  return (
    env.CI_COMMIT_SHA ||
    env.GIT_COMMIT ||
    (typeof head === 'string' && head ? head : undefined) ||
    env.GITHUB_SHA ||
    undefined
  )
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

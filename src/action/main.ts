/** The action: inputs → plan → API → judgement → reports, with the runner's log, outputs and summary. */
import * as core from '@actions/core'
import { ApiError } from '../adaline/http.js'
import { writeTextFiles } from '../files.js'
import {
  commentMarker,
  commentTarget,
  describeCommentError,
  upsertComment
} from '../github/comment.js'
import { readEvent, type GitHubEvent } from '../github/event.js'
import { reportLinks, type ReportLinks } from '../github/links.js'
import { ACTION_NAMING, InputError, readSettings, type Settings } from '../inputs/settings.js'
import { TotalsError } from '../judge/metrics.js'
import { cancelFailedMessage } from '../report/cancel-failed.js'
import { buildReportFiles } from '../report/ci-files.js'
import { buildOutputs } from '../report/outputs.js'
import { buildErrorReport, buildSummary } from '../report/summary.js'
import { onAbort } from '../run/abort.js'
import type { Log } from '../run/context.js'
import { decideFromEvent } from '../run/decide.js'
import { createEngine, type Engine } from '../run/engine.js'
import type { RunReport } from '../run/run-report.js'
import { Secrets, clipLine, encodedForms, inertLines, inertLogLine } from '../secrets/redact.js'

/**
 * The engine's progress in the Actions log: no secret, no workflow command from API text, and no
 * line longer than LOG_LINE_LIMIT however long the API's text.
 */
function actionsLog(secrets: Secrets): Log {
  const line = (message: string) => inertLogLine(clipLine(secrets.redact(message)))
  return {
    info: message => core.info(line(message)),
    // core escapes a warning's line breaks itself; the old "##[" form is broken all the same
    warning: message => core.warning(inertLines(clipLine(secrets.redact(message)))),
    group: (title, work) => core.group(line(title), work)
  }
}

/**
 * A secret masked in the runner's log (which hides exact matches only) in every form redact()
 * finds it in, and known to redact() for the summary, the outputs and the comment.
 */
function maskSecret(secrets: Secrets, secret: string): void {
  core.setSecret(secret)
  for (const form of encodedForms(secret)) core.setSecret(form)
  secrets.add(secret)
}

/** GitHub refuses comments over 65,536 characters; bytes bound characters. */
const COMMENT_LIMIT_BYTES = 60_000

/**
 * An input as the runner passes it. github-token's default (${{ github.token }}) is the job's token:
 * where no value arrives (a runner stand-in applies no action.yml defaults) or the default arrives
 * unexpanded (@github/local-action copies it as written), it is taken from GITHUB_TOKEN.
 */
function input(name: string): string {
  const value = core.getInput(name)
  if (name !== 'github-token' || !/^(\s*|\$\{\{\s*github\.token\s*\}\})$/.test(value)) return value
  return process.env.GITHUB_TOKEN ?? ''
}

export async function run(): Promise<void> {
  const secrets = new Secrets()
  const redact = (text: string) => secrets.redact(text)
  let pipeline: Engine | undefined
  let cancelOnAbort = false
  let known: { settings: Settings; event: GitHubEvent } | undefined
  // once the run's summary is written, an error after it does not add the error report
  let summaryWritten = false
  const abort = onAbort({
    run: () => pipeline,
    cancel: () => cancelOnAbort,
    stopped: (signal, account) => {
      writeStarted(pipeline)
      const cancelFailed = writeCancelFailed(pipeline)
      core.setFailed(
        inertLines(
          redact(
            `Stopped by ${signal} before the step finished: no verdict was reached.${account ? ` ${account}` : ''} Cancels already accepted stay in effect.${cancelFailed ? ` ${cancelFailed}` : ''}`
          )
        )
      )
      process.exit(core.ExitCode.Failure)
    }
  })
  try {
    const settings = await readSettings(input, {
      now: Date.now(),
      mask: secret => maskSecret(secrets, secret)
    })
    const event = readEvent(process.env)
    known = { settings, event }
    const decision = await decideFromEvent(settings, event)
    pipeline = createEngine(settings, actionsLog(secrets), ACTION_NAMING)
    cancelOnAbort = settings.cancelOnAbort
    const report = await pipeline.evaluate(decision)
    // once a signal came, the abort reports and ends the step
    if (abort.signalled) return

    const links = reportLinks(process.env, event)
    await writeReports(report, links, redact)
    summaryWritten = true
    // after the outputs and summary, so that a file that cannot be written takes neither away
    const unwritten = await writeTextFiles(buildReportFiles(report, settings), redact)
    // on-failure: no new comment for a passing run, but an old failure report is brought up to date
    const failed = report.verdict.gate === 'failed'
    await writeComment(settings, event, redact, {
      body: buildSummary(report, { limitBytes: COMMENT_LIMIT_BYTES, links }),
      create: settings.comment === 'on' || failed
    })
    const { verdict } = report
    if (verdict.gate === 'failed') {
      // with fail-on-gate: false a broken rule is a warning, as action.yml says, not an error
      const annotate = settings.failOnGate ? core.error : core.warning
      for (const broken of verdict.broken)
        annotate(redact(broken.message), { title: `adaline-evals: ${broken.rule}` })
      if (settings.failOnGate) process.exitCode = core.ExitCode.Failure
      else core.warning('The gate failed, but fail-on-gate is false: the step passes.')
    }
    core.info(`Gate: ${verdict.gate}`)
    // after the report: superseded evaluations that may still run fail the step whatever the gate
    const cancelFailed = cancelFailedMessage(report.cancel)
    if (cancelFailed) {
      core.error(redact(cancelFailed), { title: 'adaline-evals: cancel-failed' })
      process.exitCode = core.ExitCode.Failure
    }
    for (const { input, path, problem } of unwritten) {
      core.setFailed(
        inertLines(
          clipLine(
            redact(
              `Input ${input}: cannot write ${JSON.stringify(path)}: ${problem}. Give a file path the job can write, relative to the working directory.`
            )
          )
        )
      )
    }
  } catch (error) {
    if (abort.signalled) return
    writeStarted(pipeline)
    const cancelFailed = writeCancelFailed(pipeline)
    const expected =
      error instanceof InputError || error instanceof ApiError || error instanceof TotalsError
    const cause = expected ? (error as Error).cause : error
    if (cause !== undefined && !(cause instanceof ApiError))
      core.debug(redact((cause as Error)?.stack ?? String(cause)))
    const failure = expected
      ? error.message
      : `Unexpected error: ${(error as Error).message ?? String(error)}`
    // one error line: what ended the run, and superseded evaluations that may still run
    const message = cancelFailed ? `${failure} ${cancelFailed}` : failure
    core.setFailed(inertLines(clipLine(redact(message))))
    const event = known?.event ?? readEvent(process.env)
    const errorReport = (where: 'summary' | 'comment') =>
      buildErrorReport(
        message,
        pipeline?.startedRunIds() ?? [],
        reportLinks(process.env, event),
        where
      )
    // the job summary says there is no verdict, unless the run's own summary is already there
    if (!summaryWritten) await writeSummary(redact(errorReport('summary')))
    // an earlier report in the comment must not stand for this commit; no new comment, though
    if (known)
      await writeComment(known.settings, known.event, redact, {
        body: errorReport('comment'),
        create: false
      })
  }
}

/**
 * The job summary, appended to GITHUB_STEP_SUMMARY; without one, or when it cannot be written, in
 * the log instead (a report that cannot be written is no reason to lose the verdict). True when
 * written to the summary.
 */
async function writeSummary(summary: string): Promise<boolean> {
  if (!process.env.GITHUB_STEP_SUMMARY) {
    core.info('GITHUB_STEP_SUMMARY is not set; the summary follows in the log.')
    core.info(summary)
    return false
  }
  try {
    await core.summary.addRaw(summary).write({ overwrite: false })
    return true
  } catch (error) {
    core.summary.emptyBuffer()
    core.warning(
      `Cannot write the job summary to GITHUB_STEP_SUMMARY (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); it follows in the log.`
    )
    core.info(summary)
    return false
  }
}

/** What a run that fails or is stopped had started, for a later step or a person to find. */
function writeStarted(engine: Engine | undefined): void {
  const started = engine?.startedRunIds() ?? []
  if (started.length > 0) core.setOutput('started', JSON.stringify(started))
}

/**
 * The superseded cancels that did not land, once the cancels were made, for a run that fails or is
 * stopped later: the `cancel-failed` output, and the sentence its error line ends with (if any).
 */
function writeCancelFailed(engine: Engine | undefined): string | undefined {
  const cancels = engine?.supersededCancels()
  if (!cancels) return undefined
  core.setOutput('cancel-failed', JSON.stringify(cancels.failed.map(failed => failed.runId)))
  return cancelFailedMessage(cancels)
}

/**
 * The sticky comment on pull_request events, when the comment input asks for it: updated when
 * there is one, created only when `create`.
 */
async function writeComment(
  settings: Settings,
  event: GitHubEvent,
  redact: (text: string) => string,
  { body, create }: { body: string; create: boolean }
): Promise<void> {
  if (settings.comment === 'off') return
  const target = commentTarget(event)
  if (!target) {
    core.info(
      `comment: ${settings.comment}, but ${event.unreadable ?? 'this is not a pull_request event'}: no comment.`
    )
    return
  }
  if (!settings.githubToken) {
    core.warning('comment is on, but no github-token was given: no pull request comment.')
    return
  }
  const marker = commentMarker(
    process.env.GITHUB_WORKFLOW ?? '',
    process.env.GITHUB_JOB ?? '',
    settings.promptIds
  )
  try {
    const result = await upsertComment(settings.githubToken, target, marker, redact(body), create)
    core.info(`Pull request #${target.number} comment: ${result}.`)
  } catch (error) {
    core.warning(redact(describeCommentError(error)))
  }
}

async function writeReports(
  report: RunReport,
  links: ReportLinks,
  redact: (text: string) => string
): Promise<void> {
  const outputs = buildOutputs(report)
  for (const [name, value] of Object.entries(outputs.values)) core.setOutput(name, redact(value))
  if (outputs.truncated) {
    core.warning(
      `The evaluations output holds the newest ${outputs.truncated.kept} of ${outputs.truncated.total} judged evaluations: GitHub limits an output to 1 MB.`
    )
  }
  await writeSummary(redact(buildSummary(report, { links })))
}

/** The action: inputs → plan → API → judgement → reports, with the runner's log, outputs and summary. */
import * as core from '@actions/core'
import { ApiError } from './adaline/http.js'
import { decideFromEvent, evaluate, type Log } from './engine.js'
import { readEvent } from './github/event.js'
import { InputError, readSettings } from './inputs.js'
import { buildOutputs } from './report/outputs.js'
import { buildSummary, type RunReport } from './report/summary.js'

const actionsLog: Log = { info: core.info, warning: core.warning, group: core.group }

export async function run(): Promise<void> {
  stopOnSignals()
  const secrets: string[] = []
  const redact = (text: string) =>
    secrets.reduce((out, secret) => out.split(secret).join('***'), text)
  try {
    const settings = readSettings(name => core.getInput(name), {
      now: Date.now(),
      mask: secret => (core.setSecret(secret), secrets.push(secret))
    })
    const decision = await decideFromEvent(settings, readEvent(process.env))
    const report = await evaluate(settings, decision, actionsLog)

    await writeReports(report, redact)
    const { verdict } = report
    if (verdict.gate === 'failed') {
      for (const broken of verdict.broken)
        core.error(redact(broken.message), { title: `adaline-evals: ${broken.rule}` })
      if (settings.failOnGate) process.exitCode = core.ExitCode.Failure
      else core.warning('The gate failed, but fail-on-gate is false: the step passes.')
    }
    core.info(`Gate: ${verdict.gate}`)
  } catch (error) {
    const expected = error instanceof InputError || error instanceof ApiError
    if (!expected) core.debug(redact((error as Error).stack ?? String(error)))
    core.setFailed(
      redact(
        expected ? error.message : `Unexpected error: ${(error as Error).message ?? String(error)}`
      )
    )
  }
}

/**
 * The runner stops a cancelled step with SIGINT, then SIGTERM about 7.5 s later: end at once with
 * a message and a non-zero exit rather than being killed mid-write.
 */
function stopOnSignals(): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      core.setFailed(
        `Stopped by ${signal} before the step finished: no verdict was reached. Cancels already accepted stay in effect.`
      )
      process.exit(core.ExitCode.Failure)
    })
  }
}

async function writeReports(report: RunReport, redact: (text: string) => string): Promise<void> {
  const outputs = buildOutputs(report)
  for (const [name, value] of Object.entries(outputs.values)) core.setOutput(name, redact(value))
  if (outputs.truncated) {
    core.warning(
      `The evaluations output holds the newest ${outputs.truncated.kept} of ${outputs.truncated.total} judged evaluations: GitHub limits an output to 1 MB.`
    )
  }
  const summary = redact(buildSummary(report))
  if (process.env.GITHUB_STEP_SUMMARY) {
    await core.summary.addRaw(summary).write({ overwrite: false })
  } else {
    core.info('GITHUB_STEP_SUMMARY is not set; the summary follows in the log.')
    core.info(summary)
  }
}

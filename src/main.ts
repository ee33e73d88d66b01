/** The pipeline: inputs → plan → API → judgement → reports. */
import * as core from '@actions/core'
import { createClient } from './adaline/client.js'
import { ApiError, createHttp } from './adaline/http.js'
import { cancelSuperseded } from './cancel.js'
import { AdaptiveLimit } from './concurrency.js'
import { gather } from './gather.js'
import { decideSupersede, lookupsNeeded, readEvent } from './github/event.js'
import { lookUp } from './github/lookups.js'
import { InputError, readSettings } from './inputs.js'
import { totals } from './metrics.js'
import { planListings } from './plan.js'
import { judge } from './policy.js'
import { buildOutputs } from './report/outputs.js'
import { buildSummary, type RunReport } from './report/summary.js'
import type { SupersedeRule } from './select.js'

/** Requests in flight at once (listings of several prompts, cancels); a 429 halves it. */
const CONCURRENCY = 8

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

    const event = readEvent(process.env)
    const lookups = await lookUp(
      lookupsNeeded(settings.cancelSuperseded, event),
      settings.githubToken
    )
    const decision = decideSupersede(settings.cancelSuperseded, event, lookups)
    core.info(
      `cancel-superseded: ${settings.cancelSuperseded}: ${decision.act ? '' : 'nothing to cancel: '}${decision.reason}`
    )
    const rule: SupersedeRule | undefined = decision.act
      ? {
          cutoff: decision.cutoff,
          promptIds: settings.promptIds,
          evaluatorId: settings.evaluatorId,
          datasetId: settings.datasetId,
          keep: settings.keepRunIds
        }
      : undefined
    const listings = planListings(settings, rule)

    const limit = new AdaptiveLimit(CONCURRENCY)
    const http = createHttp({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      onThrottle: () => limit.halve(),
      onRetry: ({ endpoint, attempt, delayMs, reason }) =>
        core.info(`${endpoint}: ${reason}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`)
    })
    const client = createClient(http)
    const gathered = await core.group(`Listing evaluations (${listings.length} listing(s))`, () =>
      gather(client, listings, { scope: settings.policy.scope, rule, limit, log: core.info })
    )
    core.info(
      `Listed ${gathered.listedCount} evaluation(s) in ${gathered.pages} page(s); ${gathered.judged.length} to judge, ${gathered.superseded.length} superseded.`
    )

    const cancel = await core.group(
      `Cancelling ${gathered.superseded.length} superseded evaluation(s)${settings.dryRun ? ' (dry-run)' : ''}`,
      () =>
        cancelSuperseded(client, gathered.superseded, {
          dryRun: settings.dryRun,
          limit,
          log: core.info,
          warn: core.warning
        })
    )

    const judged = gathered.judged.map(item => item.evaluation)
    const metrics = totals(judged)
    const verdict = judge(judged, metrics, settings.policy)
    const report: RunReport = {
      promptIds: settings.promptIds,
      scope: settings.policy.scope,
      dryRun: settings.dryRun,
      verdict,
      metrics,
      gathered,
      decision,
      cancel
    }

    await writeReports(report, redact)
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

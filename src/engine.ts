/**
 * The engine both faces run (the action in main.ts, the command line in cli.ts): from settings and
 * a supersede decision to a judged report, through plan → API → judgement.
 */
import { createClient } from './adaline/client.js'
import { createHttp } from './adaline/http.js'
import { cancelSuperseded } from './cancel.js'
import { AdaptiveLimit } from './concurrency.js'
import { gather } from './gather.js'
import {
  decideSupersede,
  lookupsNeeded,
  type GitHubEvent,
  type SupersedeDecision
} from './github/event.js'
import { lookUp } from './github/lookups.js'
import type { Settings } from './inputs.js'
import { totals } from './metrics.js'
import { planListings } from './plan.js'
import { judge } from './policy.js'
import { formatDuration } from './report/format.js'
import type { RunReport } from './report/summary.js'
import { failingRows } from './rows.js'
import type { Listed, SupersedeRule } from './select.js'
import { startEvaluations } from './start.js'
import { TERMINAL, waitUntilTerminal, type WaitOutcome } from './wait.js'

/** Requests in flight at once (listings of several prompts, cancels); a 429 halves it. */
export const CONCURRENCY = 8

/** Where the engine tells of its progress: the Actions log, or a terminal's stderr. */
export interface Log {
  info(message: string): void
  warning(message: string): void
  group<T>(title: string, work: () => Promise<T>): Promise<T>
}

/** Whether the triggering GitHub event supersedes evaluations, asking GitHub what the payload lacks. */
export async function decideFromEvent(
  settings: Settings,
  event: GitHubEvent
): Promise<SupersedeDecision> {
  const lookups = await lookUp(
    lookupsNeeded(settings.cancelSuperseded, event),
    settings.githubToken
  )
  return decideSupersede(settings.cancelSuperseded, event, lookups)
}

export interface Engine {
  /** Runs plan → API → judgement under the given supersede decision. */
  evaluate(decision: SupersedeDecision): Promise<RunReport>
  /** Cancels the evaluations this run started and that may still run (on abort); their run IDs. */
  cancelStarted(): Promise<string[]>
}

export function createEngine(settings: Settings, log: Log): Engine {
  const limit = new AdaptiveLimit(CONCURRENCY)
  const client = createClient(
    createHttp({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      onThrottle: () => limit.halve(),
      onRetry: ({ endpoint, attempt, delayMs, reason }) =>
        log.info(`${endpoint}: ${reason}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`)
    })
  )
  const started: Listed[] = []

  async function evaluate(decision: SupersedeDecision): Promise<RunReport> {
    log.info(
      `Superseded evaluations: ${decision.act ? '' : 'nothing to cancel: '}${decision.reason}`
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
    const gathered = await log.group(`Listing evaluations (${listings.length} listing(s))`, () =>
      gather(client, listings, { scope: settings.policy.scope, rule, limit, log: log.info })
    )
    log.info(
      `Listed ${gathered.listedCount} evaluation(s) in ${gathered.pages} page(s); ${gathered.judged.length} to judge, ${gathered.superseded.length} superseded.`
    )

    const cancel = await log.group(
      `Cancelling ${gathered.superseded.length} superseded evaluation(s)${settings.dryRun ? ' (dry-run)' : ''}`,
      () =>
        cancelSuperseded(client, gathered.superseded, {
          dryRun: settings.dryRun,
          limit,
          log: log.info,
          warn: log.warning
        })
    )

    let judged = gathered.judged
    if (settings.start) {
      judged = await log.group(
        `Starting ${settings.promptIds.length} evaluation(s) for this commit`,
        () =>
          startEvaluations(client, settings.promptIds, settings, {
            limit,
            log: log.info,
            onStarted: item => started.push(item)
          })
      )
    }
    let wait: WaitOutcome | undefined
    if (settings.waitMs !== undefined) {
      const waitMs = settings.waitMs
      const pending = judged.filter(item => !TERMINAL.includes(item.evaluation.status)).length
      wait = await log.group(
        `Waiting up to ${formatDuration(waitMs)} for ${pending} evaluation(s) to finish`,
        () => waitUntilTerminal(client, judged, { timeoutMs: waitMs, limit, log: log.info })
      )
      judged = wait.items
    }

    const baselines = new Map<string, Listed>()
    for (const item of judged) {
      const baseline = gathered.baselines.baselineFor(item)
      if (baseline) baselines.set(item.evaluation.runId, baseline)
    }
    const evaluations = judged.map(item => item.evaluation)
    const metrics = totals(evaluations)
    const verdict = judge(evaluations, metrics, settings.policy, {
      baselines: new Map([...baselines].map(([runId, item]) => [runId, item.evaluation])),
      waitedMs: wait?.waitedMs
    })
    const rows = await failingRows(client, judged, { limit, warn: log.warning })
    return {
      promptIds: settings.promptIds,
      scope: settings.policy.scope,
      dryRun: settings.dryRun,
      verdict,
      metrics,
      gathered: { ...gathered, judged },
      decision,
      cancel,
      started: started.map(item => item.evaluation.runId),
      wait,
      baselines,
      failingRows: rows
    }
  }

  async function cancelStarted(): Promise<string[]> {
    const running = started.filter(item => !TERMINAL.includes(item.evaluation.status))
    const outcome = await cancelSuperseded(client, running, {
      dryRun: false,
      limit,
      log: log.info,
      warn: log.warning
    })
    return outcome.cancelled
  }

  return { evaluate, cancelStarted }
}

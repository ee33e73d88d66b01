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
import type { RunReport } from './report/summary.js'
import type { SupersedeRule } from './select.js'

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

export async function evaluate(
  settings: Settings,
  decision: SupersedeDecision,
  log: Log
): Promise<RunReport> {
  log.info(`Superseded evaluations: ${decision.act ? '' : 'nothing to cancel: '}${decision.reason}`)
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
  const client = createClient(
    createHttp({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      onThrottle: () => limit.halve(),
      onRetry: ({ endpoint, attempt, delayMs, reason }) =>
        log.info(`${endpoint}: ${reason}; retry ${attempt} in ${(delayMs / 1000).toFixed(1)} s`)
    })
  )
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

  const judged = gathered.judged.map(item => item.evaluation)
  const metrics = totals(judged)
  const verdict = judge(judged, metrics, settings.policy)
  return {
    promptIds: settings.promptIds,
    scope: settings.policy.scope,
    dryRun: settings.dryRun,
    verdict,
    metrics,
    gathered,
    decision,
    cancel
  }
}

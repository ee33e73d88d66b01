/**
 * Runs the planned listings and streams every page into what the run needs: counts by status,
 * the judged set and the superseded candidates. Evaluations are not kept beyond that, so memory
 * stays bounded by the judged set however long the listing. Any listing error propagates: no
 * verdict and no cancel is ever made from a partial listing.
 */
import { setImmediate as turnOfTheEventLoop } from 'node:timers/promises'
import type { AdalineClient } from '../adaline/client.js'
import { IN_FLIGHT, type EvaluationStatus } from '../adaline/schema.js'
import { BaselineIndex, JudgedSetBuilder, type Listed } from '../judge/judged-set.js'
import type { Scope } from '../judge/policy.js'
import { isSuperseded, type SupersedeRule } from '../judge/supersede.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import type { RunContext } from './context.js'
import { describeListing, planListings, type Listing } from './plan.js'
import { formatCount, formatDuration, formatTime, plural } from '../format.js'
import { CLOCK_SKEW_MS } from './start.js'

export interface Gathered {
  /** distinct evaluations matched by the filters (judging listings only) */
  listedCount: number
  listedByStatus: Partial<Record<EvaluationStatus, number>>
  /** newest first */
  judged: Listed[]
  /** in listing order, each once */
  superseded: Listed[]
  /** completed evaluations to compare the judged ones with */
  baselines: BaselineIndex
  pages: number
}

export interface GatherOptions {
  scope: Scope
  rule?: SupersedeRule
  limit: AdaptiveLimit
  log: (message: string) => void
  /** told of superseded candidates left alone because the listings disagree about them */
  warn?: (message: string) => void
}

/**
 * The run's listing stage: the listings the settings and the supersede rule call for, gathered in
 * one group of the log, and a line on what they held.
 */
export async function gatherStage(
  context: RunContext,
  rule: SupersedeRule | undefined
): Promise<Gathered> {
  const { settings, client, limit, log, serverClock, naming } = context
  const list = (createdAfter: number | undefined) => {
    const listings = planListings({ ...settings, createdAfter }, rule)
    return log.group(`Listing evaluations (${plural(listings.length, 'listing')})`, () =>
      gather(client, listings, {
        scope: settings.policy.scope,
        rule,
        limit,
        log: log.info,
        warn: log.warning
      })
    )
  }
  // a window such as 24h counts back from Adaline's clock, on which evaluations are dated, not
  // the runner's: once its answers show the two apart, the listing is made again on Adaline's
  const onApiClock = () =>
    settings.createdAfterAgoMs === undefined || settings.createdAfter === undefined
      ? settings.createdAfter
      : Math.max(0, settings.createdAfter + serverClock.offsetMs)
  const first = onApiClock()
  let gathered = await list(first)
  const again = onApiClock()
  if (first !== undefined && again !== undefined && Math.abs(again - first) > CLOCK_SKEW_MS) {
    const apart = serverClock.offsetMs
    log.info(
      `Adaline's clock is ${formatDuration(Math.abs(apart))} ${apart > 0 ? 'ahead of' : 'behind'} the runner's: listing again with ${naming.nameOf('created-after')} counted back on Adaline's clock, from ${formatTime(again)}.`
    )
    gathered = await list(again)
  }
  log.info(
    `Listed ${plural(gathered.listedCount, 'evaluation')} in ${plural(gathered.pages, 'page')}; ${formatCount(gathered.judged.length)} to judge, ${formatCount(gathered.superseded.length)} superseded.`
  )
  return gathered
}

export async function gather(
  client: AdalineClient,
  listings: Listing[],
  options: GatherOptions
): Promise<Gathered> {
  const { rule, log } = options
  const judged = new JudgedSetBuilder(options.scope)
  const listed = new Set<string>()
  const listedByStatus: Partial<Record<EvaluationStatus, number>> = {}
  const superseded = new Map<string, Listed>()
  const baselines = new BaselineIndex(options.scope === 'all' ? Infinity : 2)
  let pages = 0
  // how each evaluation was first seen: its listing's prompt, and whether in flight (the low bit)
  const prompts = [...new Set(listings.map(listing => listing.promptId))]
  const sightings = new Map<string, number>()
  /** seen under two prompts, or both in flight and not: the listings disagree, so never cancelled */
  const disputed = new Map<string, string>()

  await mapWithin(options.limit, listings, async listing => {
    const label = describeListing(listing)
    let count = 0
    for await (const page of client.listEvaluations(listing.promptId, listing.filters)) {
      pages += 1
      count += page.items.length
      for (const { evaluation } of page.items) {
        const item: Listed = { promptId: listing.promptId, evaluation }
        const inFlight = IN_FLIGHT.includes(evaluation.status)
        const sighting = prompts.indexOf(listing.promptId) * 2 + (inFlight ? 1 : 0)
        const before = sightings.get(evaluation.runId)
        if (before === undefined) sightings.set(evaluation.runId, sighting)
        else if (before !== sighting && !disputed.has(evaluation.runId))
          disputed.set(
            evaluation.runId,
            before >> 1 !== sighting >> 1
              ? `listed under prompts ${prompts[before >> 1]} and ${listing.promptId}`
              : 'listed both in flight and finished'
          )
        if (listing.judge && !listed.has(evaluation.runId)) {
          listed.add(evaluation.runId)
          listedByStatus[evaluation.status] = (listedByStatus[evaluation.status] ?? 0) + 1
        }
        if (rule && isSuperseded(item, rule)) {
          if (!superseded.has(evaluation.runId)) superseded.set(evaluation.runId, item)
        } else if (listing.judge) {
          judged.add(item)
          baselines.add(item)
        }
      }
      log(
        `${label}: page ${page.page}, ${plural(page.items.length, 'evaluation')}, ${formatCount(count)} so far`
      )
      // a signal is handled only when the event loop turns, and a page already at hand (read
      // ahead, buffered) would follow without a turn: SIGINT must reach the abort handler
      await turnOfTheEventLoop()
    }
  })

  // Something listed as superseded under one status may have been judged under another.
  const judgedItems = judged.result().filter(item => !superseded.has(item.evaluation.runId))
  // when in doubt, cancel less: one the listings disagree about may have finished, or be another prompt's
  for (const [runId, why] of disputed) {
    if (!superseded.delete(runId)) continue
    options.warn?.(
      `Not cancelling ${runId}: it was ${why} in this run's listings, so whether it is superseded is not sure.`
    )
  }
  return {
    listedCount: listed.size,
    listedByStatus,
    judged: judgedItems,
    superseded: [...superseded.values()],
    baselines,
    pages
  }
}

/**
 * Runs the planned listings and streams every page into what the run needs: counts by status,
 * the judged set and the superseded candidates. Evaluations are not kept beyond that, so memory
 * stays bounded by the judged set however long the listing. Any listing error propagates: no
 * verdict and no cancel is ever made from a partial listing.
 */
import { setImmediate as turnOfTheEventLoop } from 'node:timers/promises'
import type { AdalineClient, ListFilters } from '../adaline/client.js'
import type { EvaluationStatus } from '../adaline/schema.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import type { BaselineListing, Listing } from './plan.js'
import type { Scope } from '../judge/policy.js'
import { formatTime } from '../format.js'
import {
  BaselineFinder,
  BaselineIndex,
  JudgedSetBuilder,
  isSuperseded,
  type Listed,
  type SupersedeRule
} from '../judge/judged-set.js'

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

  await mapWithin(options.limit, listings, async listing => {
    const label = describeListing(listing)
    let count = 0
    for await (const page of client.listEvaluations(listing.promptId, listing.filters)) {
      pages += 1
      count += page.items.length
      for (const { evaluation, raw } of page.items) {
        const item: Listed = { promptId: listing.promptId, evaluation, raw }
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
      log(`${label}: page ${page.page}, ${page.items.length} evaluation(s), ${count} so far`)
      // a signal is handled only when the event loop turns, and a page already at hand (read
      // ahead, buffered) would follow without a turn: SIGINT must reach the abort handler
      await turnOfTheEventLoop()
    }
  })

  // Something listed as superseded under one status may have been judged under another.
  const judgedItems = judged.result().filter(item => !superseded.has(item.evaluation.runId))
  return {
    listedCount: listed.size,
    listedByStatus,
    judged: judgedItems,
    superseded: [...superseded.values()],
    baselines,
    pages
  }
}

/** Pages of completed evaluations a baseline search looks through per prompt, at most. */
export const MAX_BASELINE_PAGES = 5

export interface BaselineSearch {
  /** each baseline found, by the judged evaluation's run ID */
  found: Map<string, Listed>
  /** prompts whose search ended at MAX_BASELINE_PAGES with baselines still missing */
  cut: string[]
}

/**
 * The baselines of judged evaluations that the filtered listings had none for: each baseline
 * listing is read newest first only until every one of its prompt has its baseline, and for at
 * most MAX_BASELINE_PAGES.
 */
export async function searchBaselines(
  client: AdalineClient,
  listings: BaselineListing[],
  missing: readonly Listed[],
  options: Pick<GatherOptions, 'limit' | 'log'>
): Promise<BaselineSearch> {
  const search: BaselineSearch = { found: new Map(), cut: [] }
  // by prompt once: a filter per listing would cost prompts × judged
  const missingOf = new Map<string, Listed[]>()
  for (const item of missing) {
    const ofPrompt = missingOf.get(item.promptId)
    if (ofPrompt) ofPrompt.push(item)
    else missingOf.set(item.promptId, [item])
  }
  await mapWithin(options.limit, listings, async listing => {
    const finder = new BaselineFinder(missingOf.get(listing.promptId) ?? [])
    const label = describeListing({ ...listing, judge: true })
    for await (const page of client.listEvaluations(listing.promptId, listing.filters)) {
      for (const { evaluation, raw } of page.items)
        finder.add({ promptId: listing.promptId, evaluation, raw })
      options.log(`${label} (for baselines): page ${page.page}, ${page.items.length} evaluation(s)`)
      await turnOfTheEventLoop() // as in gather: a signal is heard between pages
      if (finder.done) break
      if (page.page >= MAX_BASELINE_PAGES) {
        if (page.hasMore) search.cut.push(listing.promptId)
        break
      }
    }
    for (const [runId, baseline] of finder.found) search.found.set(runId, baseline)
  })
  return search
}

function describeListing({ promptId, filters, judge }: Listing): string {
  const parts = Object.entries(filters as Record<keyof ListFilters, unknown>)
    .filter(([, value]) => value !== undefined)
    .map(
      ([key, value]) => `${key}=${key.startsWith('created') ? formatTime(value as number) : value}`
    )
  const purpose = judge ? '' : ' (in flight, to find superseded)'
  return `prompt ${promptId}${parts.length ? ` [${parts.join(' ')}]` : ''}${purpose}`
}

/**
 * Each judged evaluation's baseline, the newest completed evaluation of its prompt, evaluator and
 * dataset submitted before it: from the listings, or, when the filters may have kept it out of
 * them, from its prompt's completed evaluations listed for the purpose, newest first.
 */
import { setImmediate as turnOfTheEventLoop } from 'node:timers/promises'
import type { AdalineClient } from '../adaline/client.js'
import { MAX_PAGE_SIZE } from '../adaline/schema.js'
import { formatCount, plural } from '../format.js'
import { BaselineFinder, type Listed } from '../judge/judged-set.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import type { RunContext } from './context.js'
import type { Gathered } from './gather.js'
import { pinnedBaselines } from './pins.js'
import { describeListing, planBaselineListings, type BaselineListing } from './plan.js'

/**
 * The run's baseline stage: each judged evaluation's baseline by run ID (a pinned one from
 * `pins`, see pins.ts, else searched for where the filters may hide it), with a warning for what
 * max-pass-rate-drop and max-new-failures then cannot judge.
 */
export async function baselinesStage(
  context: RunContext,
  gathered: Gathered,
  judged: Listed[],
  pins: readonly Listed[] = []
): Promise<Map<string, Listed>> {
  const { settings, client, limit, log } = context
  const baselines = pinnedBaselines(pins, judged)
  for (const item of judged) {
    if (baselines.has(item.evaluation.runId)) continue
    const baseline = gathered.baselines.baselineFor(item)
    if (baseline) baselines.set(item.evaluation.runId, baseline)
  }
  const missing = judged.filter(item => !baselines.has(item.evaluation.runId))
  const listings = planBaselineListings(settings, missing)
  if (listings.length > 0) {
    const search = await log.group(
      `Listing completed evaluations for ${plural(missing.length, 'baseline')} the filters may hide`,
      () => searchBaselines(client, listings, missing, { limit, log: log.info })
    )
    for (const [runId, baseline] of search.found) baselines.set(runId, baseline)
    for (const promptId of search.cut)
      log.warning(
        `Looked for baselines among the newest ${formatCount(MAX_BASELINE_PAGES * MAX_PAGE_SIZE)} completed evaluations of prompt ${promptId} only; some judged evaluations have none among them.`
      )
  }
  const without = judged.filter(item => !baselines.has(item.evaluation.runId))
  const rules = (['max-pass-rate-drop', 'max-new-failures'] as const).filter(
    rule => settings.policy.limits[rule] !== undefined
  )
  if (rules.length > 0 && without.length > 0) {
    const ids = without.slice(0, 10).map(item => item.evaluation.runId)
    const more = without.length > ids.length ? ` and ${without.length - ids.length} more` : ''
    log.warning(
      `${rules.join(' and ')} ${rules.length > 1 ? 'do' : 'does'} not apply to ${plural(without.length, 'judged evaluation')} with no earlier completed evaluation of the same prompt, evaluator and dataset: ${ids.join(', ')}${more}.`
    )
  }
  return baselines
}

export interface SearchOptions {
  limit: AdaptiveLimit
  log: (message: string) => void
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
  options: SearchOptions
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
      for (const { evaluation } of page.items)
        finder.add({ promptId: listing.promptId, evaluation })
      options.log(
        `${label} (for baselines): page ${page.page}, ${plural(page.items.length, 'evaluation')}`
      )
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

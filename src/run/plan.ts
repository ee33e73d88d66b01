/**
 * Which listings to make. The API takes one status per request, and superseded candidates
 * (queued or running, before the cutoff, whatever the status and created-after filters say)
 * may need listings of their own; one listing serves both wherever it can. Pure.
 */
import type { ListFilters } from '../adaline/client.js'
import { IN_FLIGHT, type EvaluationStatus } from '../adaline/schema.js'
import { formatTime } from '../format.js'
import type { Settings } from '../inputs/settings.js'
import type { Listed } from '../judge/judged-set.js'
import type { SupersedeRule } from '../judge/supersede.js'

export interface Listing {
  promptId: string
  filters: ListFilters
  /** true: its evaluations count as listed and may be judged; false: it only finds superseded ones */
  judge: boolean
}

type PlanSettings = Pick<
  Settings,
  'promptIds' | 'evaluatorId' | 'datasetId' | 'statuses' | 'createdAfter'
>

export function planListings(settings: PlanSettings, rule: SupersedeRule | undefined): Listing[] {
  const { evaluatorId, datasetId, createdAfter } = settings
  const statuses: (EvaluationStatus | undefined)[] =
    settings.statuses.length > 0 ? settings.statuses : [undefined]
  const listings: Listing[] = []
  for (const promptId of settings.promptIds) {
    const covered = new Set<EvaluationStatus>()
    for (const status of statuses) {
      // Without a created-after filter this listing already holds the in-flight ones it matches.
      const findsCandidates =
        rule !== undefined &&
        createdAfter === undefined &&
        (status === undefined || IN_FLIGHT.includes(status))
      if (findsCandidates) (status ? [status] : IN_FLIGHT).forEach(s => covered.add(s))
      listings.push({
        promptId,
        filters: { status, evaluatorId, datasetId, createdAfter },
        judge: true
      })
    }
    if (!rule) continue
    for (const status of IN_FLIGHT) {
      if (covered.has(status)) continue
      listings.push({
        promptId,
        filters: { status, evaluatorId, datasetId, createdBefore: rule.cutoff },
        judge: false
      })
    }
  }
  return listings
}

/** A listing of a prompt's completed evaluations, newest first, that only feeds the baselines. */
export interface BaselineListing {
  promptId: string
  filters: ListFilters
}

/**
 * Whether the input filters may keep completed evaluations out of the main listings: a status
 * filter without `completed`, or created-after. The baseline is the newest completed evaluation
 * before a judged one whatever the filters, so then it is looked for separately.
 */
export function filtersMayHideBaselines(
  settings: Pick<Settings, 'statuses' | 'createdAfter'>
): boolean {
  return (
    settings.createdAfter !== undefined ||
    (settings.statuses.length > 0 && !settings.statuses.includes('completed'))
  )
}

/**
 * Where to look for the baselines the filters may have hidden: for each prompt with judged
 * evaluations, its completed ones (of the evaluator and dataset inputs) submitted before the newest
 * judged one, newest first, so that the search can stop as soon as each has its baseline.
 */
export function planBaselineListings(
  settings: PlanSettings,
  judged: readonly Listed[]
): BaselineListing[] {
  if (!filtersMayHideBaselines(settings)) return []
  const { evaluatorId, datasetId } = settings
  // in one pass over the judged ones: a pass per prompt would cost prompts × judged
  const newestOf = new Map<string, number>()
  for (const { promptId, evaluation } of judged)
    newestOf.set(
      promptId,
      Math.max(newestOf.get(promptId) ?? -Infinity, evaluation.timeline.submittedAt)
    )
  return settings.promptIds.flatMap(promptId => {
    const newest = newestOf.get(promptId) ?? -Infinity
    if (newest === -Infinity) return []
    return [
      {
        promptId,
        filters: {
          status: 'completed' as const,
          evaluatorId,
          datasetId,
          createdBefore: newest,
          sort: 'createdAt:desc' as const
        }
      }
    ]
  })
}

/** A listing as the log names it: its prompt, its filters and, unless it judges, its purpose. */
export function describeListing({ promptId, filters, judge }: Listing): string {
  const parts = Object.entries(filters as Record<keyof ListFilters, unknown>)
    .filter(([, value]) => value !== undefined)
    .map(
      ([key, value]) => `${key}=${key.startsWith('created') ? formatTime(value as number) : value}`
    )
  const purpose = judge ? '' : ' (in flight, to find superseded)'
  return `prompt ${promptId}${parts.length ? ` [${parts.join(' ')}]` : ''}${purpose}`
}

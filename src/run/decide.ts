/** Whether this run supersedes evaluations, decided from the GitHub event that triggered it. */
import {
  decideSupersede,
  lookupsNeeded,
  type GitHubEvent,
  type SupersedeDecision
} from '../github/event.js'
import { lookUp } from '../github/lookups.js'
import { ACTION_NAMING, type Naming, type Settings } from '../inputs/settings.js'

/**
 * Whether the triggering GitHub event supersedes evaluations, asking GitHub what the payload lacks.
 * `now` is this run's clock, read once the answers are in: no cutoff may lie beyond it.
 */
export async function decideFromEvent(
  settings: Settings,
  event: GitHubEvent,
  now: () => number = Date.now,
  naming: Pick<Naming, 'nameOf'> = ACTION_NAMING
): Promise<SupersedeDecision> {
  const { nameOf } = naming
  const lookups = await lookUp(
    lookupsNeeded(settings.cancelSuperseded, event),
    settings.githubToken,
    { nameOf }
  )
  return decideSupersede(settings.cancelSuperseded, event, lookups, now(), nameOf)
}

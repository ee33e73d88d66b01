/**
 * Which listed evaluations a new commit made obsolete: the rule the supersede decision and the
 * filters make, and the test each listed evaluation goes through. Pure.
 */
import { IN_FLIGHT } from '../adaline/schema.js'
import type { SupersedeDecision } from '../github/event.js'
import type { Listed } from './judged-set.js'

/** What makes an in-flight evaluation superseded by the new commit. */
export interface SupersedeRule {
  /** Unix ms: only evaluations submitted strictly before this are superseded */
  cutoff: number
  promptIds: readonly string[]
  evaluatorId?: string
  datasetId?: string
  /** run IDs never to cancel */
  keep: ReadonlySet<string>
}

/**
 * Unix ms before which no submit time is believed (1973-03-03): one earlier is Unix seconds read as
 * ms, or no time at all, and would put every in-flight evaluation before any cutoff.
 */
export const EARLIEST_BELIEVABLE_MS = 100_000_000_000

/**
 * An evaluation is superseded when it is still in flight, in scope, not kept, and was submitted
 * before the new commit. Anything uncertain (no submit time, or one in seconds) is left alone:
 * cancel less.
 */
export function isSuperseded({ promptId, evaluation }: Listed, rule: SupersedeRule): boolean {
  const submittedAt = evaluation.timeline.submittedAt
  return (
    IN_FLIGHT.includes(evaluation.status) &&
    rule.promptIds.includes(promptId) &&
    (rule.evaluatorId === undefined || evaluation.evaluatorId === rule.evaluatorId) &&
    (rule.datasetId === undefined || evaluation.datasetId === rule.datasetId) &&
    !rule.keep.has(evaluation.runId) &&
    Number.isFinite(submittedAt) &&
    submittedAt >= EARLIEST_BELIEVABLE_MS &&
    submittedAt < rule.cutoff
  )
}

/** What a rule takes from the settings: the same prompts, evaluator and dataset as the listing. */
export interface SupersedeScope {
  promptIds: readonly string[]
  evaluatorId?: string
  datasetId?: string
  keepRunIds: ReadonlySet<string>
}

/** The rule under the decision, in the settings' scope; undefined when nothing is superseded. */
export function supersedeRule(
  decision: SupersedeDecision,
  scope: SupersedeScope
): SupersedeRule | undefined {
  if (!decision.act) return undefined
  return {
    cutoff: decision.cutoff,
    promptIds: scope.promptIds,
    evaluatorId: scope.evaluatorId,
    datasetId: scope.datasetId,
    keep: scope.keepRunIds
  }
}

/** Which listed evaluations are judged, and which a new commit made obsolete. Pure. */
import { IN_FLIGHT, type Evaluation } from './adaline/schema.js'
import type { Scope } from './policy.js'

/** An evaluation as listed: the prompt it was listed under, the checked view, the raw answer. */
export interface Listed {
  promptId: string
  evaluation: Evaluation
  /** as the answer schema kept it: the fields the action knows, for the `evaluations` output */
  raw: unknown
}

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
 * An evaluation is superseded when it is still in flight, in scope, not kept, and was submitted
 * before the new commit. Anything uncertain (no submit time) is left alone: cancel less.
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
    submittedAt < rule.cutoff
  )
}

/** The group an evaluation is judged in under `scope: latest`. */
function groupOf({ promptId, evaluation }: Listed): string {
  return JSON.stringify([promptId, evaluation.evaluatorId, evaluation.datasetId ?? null])
}

/** Newest first; ties broken by run ID so the choice never depends on listing order. */
function newerFirst(a: Listed, b: Listed): number {
  const byTime = b.evaluation.timeline.submittedAt - a.evaluation.timeline.submittedAt
  if (byTime !== 0) return byTime
  return a.evaluation.runId < b.evaluation.runId
    ? -1
    : a.evaluation.runId > b.evaluation.runId
      ? 1
      : 0
}

/**
 * Builds the judged set as pages stream in, keeping only what the scope needs:
 * `latest` keeps one evaluation per (prompt, evaluator, dataset), `all` keeps every one.
 * An evaluation seen twice (listed under two statuses while it moved) counts once.
 */
export class JudgedSetBuilder {
  private readonly latest = new Map<string, Listed>()
  private readonly all = new Map<string, Listed>()

  constructor(private readonly scope: Scope) {}

  add(item: Listed): void {
    if (this.scope === 'all') {
      if (!this.all.has(item.evaluation.runId)) this.all.set(item.evaluation.runId, item)
      return
    }
    const group = groupOf(item)
    const current = this.latest.get(group)
    if (!current || newerFirst(item, current) < 0) this.latest.set(group, item)
  }

  /** The judged evaluations, newest first. */
  result(): Listed[] {
    const items = this.scope === 'all' ? this.all.values() : this.latest.values()
    return [...items].sort(newerFirst)
  }
}

/** The judged set of a finished listing (the builder, for callers that hold everything). */
export function judgedSet(items: Iterable<Listed>, scope: Scope): Listed[] {
  const builder = new JudgedSetBuilder(scope)
  for (const item of items) builder.add(item)
  return builder.result()
}

/**
 * The completed evaluations a judged one is compared with: for each (prompt, evaluator, dataset),
 * the newest completed ones, as many as the scope needs (`latest` and started evaluations need two:
 * the newest may be the judged one itself).
 */
export class BaselineIndex {
  private readonly groups = new Map<string, Listed[]>()

  constructor(private readonly keep: number) {}

  add(item: Listed): void {
    if (item.evaluation.status !== 'completed') return
    const group = this.groups.get(groupOf(item)) ?? []
    if (group.some(other => other.evaluation.runId === item.evaluation.runId)) return
    group.push(item)
    group.sort(newerFirst)
    if (group.length > this.keep) group.length = this.keep
    this.groups.set(groupOf(item), group)
  }

  /** The newest completed evaluation of the same group submitted before `item`. */
  baselineFor(item: Listed): Listed | undefined {
    return this.groups
      .get(groupOf(item))
      ?.find(other => other.evaluation.timeline.submittedAt < item.evaluation.timeline.submittedAt)
  }
}

/**
 * The baselines of judged evaluations that have none among the listed ones, found in listings of
 * completed evaluations read newest first: the first completed evaluation of an evaluation's group
 * submitted before it is its baseline, and nothing read later can be newer.
 */
export class BaselineFinder {
  private readonly waiting: Listed[]
  /** each baseline found, by the judged evaluation's run ID */
  readonly found = new Map<string, Listed>()

  constructor(judged: readonly Listed[]) {
    this.waiting = [...judged]
  }

  /** Whether every judged evaluation has its baseline. */
  get done(): boolean {
    return this.waiting.length === 0
  }

  /** The next candidate, in newest-first order. */
  add(candidate: Listed): void {
    if (candidate.evaluation.status !== 'completed') return
    const group = groupOf(candidate)
    const before = candidate.evaluation.timeline.submittedAt
    for (let i = this.waiting.length - 1; i >= 0; i -= 1) {
      const item = this.waiting[i]!
      if (groupOf(item) !== group || before >= item.evaluation.timeline.submittedAt) continue
      this.found.set(item.evaluation.runId, candidate)
      this.waiting.splice(i, 1)
    }
  }
}

/**
 * Which listed evaluations are judged (the newest of each group, or all), and the baseline each is
 * compared with. Pure.
 */
import type { Evaluation } from '../adaline/schema.js'
import type { Scope } from './policy.js'

/** An evaluation as listed: the prompt it was listed under, and the evaluation as checked. */
export interface Listed {
  promptId: string
  /**
   * as the answer schema kept it: the fields the action knows and no others (the `evaluations`
   * output and the command's JSON show it as it is)
   */
  evaluation: Evaluation
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

/** One group's completed evaluations, each once; sorted newest first only when a lookup needs it. */
interface BaselineGroup {
  items: Listed[]
  runIds: Set<string>
  sorted: boolean
}

/**
 * The completed evaluations a judged one is compared with: for each (prompt, evaluator, dataset),
 * the newest completed ones, as many as the scope needs (`latest` and started evaluations need two:
 * the newest may be the judged one itself).
 *
 * Adding is O(1) (amortised O(keep log keep) when a group is bounded) and a lookup O(log n): a group
 * is sorted once when first asked, not on every evaluation added, which made `scope: all`
 * quadratic in the evaluations listed.
 */
export class BaselineIndex {
  private readonly groups = new Map<string, BaselineGroup>()

  constructor(private readonly keep: number) {}

  add(item: Listed): void {
    if (item.evaluation.status !== 'completed') return
    const key = groupOf(item)
    let group = this.groups.get(key)
    if (!group) this.groups.set(key, (group = { items: [], runIds: new Set(), sorted: true }))
    const { runId } = item.evaluation
    if (group.runIds.has(runId)) return
    group.items.push(item)
    group.runIds.add(runId)
    group.sorted = false
    if (group.items.length > this.keep) {
      sortGroup(group)
      for (const dropped of group.items.splice(this.keep))
        group.runIds.delete(dropped.evaluation.runId)
    }
  }

  /** The newest completed evaluation of the same group submitted before `item`. */
  baselineFor(item: Listed): Listed | undefined {
    const group = this.groups.get(groupOf(item))
    if (!group) return undefined
    sortGroup(group)
    const before = item.evaluation.timeline.submittedAt
    // newest first, so the ones submitted before `item` are a suffix: the first of them is the one
    return group.items[
      firstIndex(group.items, other => other.evaluation.timeline.submittedAt < before)
    ]
  }
}

function sortGroup(group: BaselineGroup): void {
  if (group.sorted) return
  group.items.sort(newerFirst)
  group.sorted = true
}

/** The first index whose item meets `test`, in items where those that meet it are a suffix. */
function firstIndex<T>(items: readonly T[], test: (item: T) => boolean): number {
  let low = 0
  let high = items.length
  while (low < high) {
    const middle = (low + high) >>> 1
    if (test(items[middle]!)) high = middle
    else low = middle + 1
  }
  return low
}

/** A group's judged evaluations still without a baseline: `items[next..]`, newest first. */
interface WaitingGroup {
  /** each with its place among the judged evaluations, which orders `found` */
  items: { item: Listed; place: number }[]
  next: number
}

/**
 * The baselines of judged evaluations that have none among the listed ones, found in listings of
 * completed evaluations read newest first: the first completed evaluation of an evaluation's group
 * submitted before it is its baseline, and nothing read later can be newer.
 *
 * A candidate settles the waiting evaluations of its group submitted after it: with each group kept
 * newest first those are the group's first still waiting, so a candidate costs O(1) plus what it
 * settles, not a pass over every evaluation still waiting.
 */
export class BaselineFinder {
  private readonly waiting = new Map<string, WaitingGroup>()
  private left: number
  /** each baseline found, by the judged evaluation's run ID */
  readonly found = new Map<string, Listed>()

  constructor(judged: readonly Listed[]) {
    judged.forEach((item, place) => {
      const key = groupOf(item)
      let group = this.waiting.get(key)
      if (!group) this.waiting.set(key, (group = { items: [], next: 0 }))
      group.items.push({ item, place })
    })
    for (const group of this.waiting.values())
      group.items.sort(
        (a, b) => b.item.evaluation.timeline.submittedAt - a.item.evaluation.timeline.submittedAt
      )
    this.left = judged.length
  }

  /** Whether every judged evaluation has its baseline. */
  get done(): boolean {
    return this.left === 0
  }

  /** The next candidate, in newest-first order. */
  add(candidate: Listed): void {
    if (candidate.evaluation.status !== 'completed') return
    const group = this.waiting.get(groupOf(candidate))
    if (!group) return
    const before = candidate.evaluation.timeline.submittedAt
    let end = group.next
    while (
      end < group.items.length &&
      group.items[end]!.item.evaluation.timeline.submittedAt > before
    )
      end += 1
    const settled = group.items.slice(group.next, end)
    group.next = end
    this.left -= settled.length
    // the last judged first: the order in which `found` always took them, which the JSON report shows
    settled.sort((a, b) => b.place - a.place)
    for (const { item } of settled) this.found.set(item.evaluation.runId, candidate)
  }
}

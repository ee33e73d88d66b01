/**
 * What the triggering event says about superseded evaluations: did a new commit (or a force-push)
 * arrive, and when at the earliest. Pure: the GitHub API's answers come in as `Lookups`.
 */
import { readFileSync } from 'node:fs'
import { formatTime, isDateTime } from '../format.js'

export type CancelMode = 'never' | 'force-push' | 'new-commit'

export interface GitHubEvent {
  name: string
  payload: Record<string, unknown>
  /** why the payload could not be read, when it could not: nothing is cancelled then */
  unreadable?: string
}

/**
 * Reads the event the runner describes in GITHUB_EVENT_NAME and GITHUB_EVENT_PATH. A payload that
 * cannot be read is not an error here: only cancelling and the comment need it, and both then
 * do nothing and say why.
 */
export function readEvent(env: NodeJS.ProcessEnv): GitHubEvent {
  const name = env.GITHUB_EVENT_NAME ?? ''
  const path = env.GITHUB_EVENT_PATH
  if (!path) return { name, payload: {} }
  try {
    const payload: unknown = JSON.parse(readFileSync(path, 'utf8'))
    return { name, payload: isRecord(payload) ? payload : {} }
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]
    return {
      name,
      payload: {},
      unreadable: `the event payload at GITHUB_EVENT_PATH (${path}) cannot be read: ${reason}`
    }
  }
}

export interface CommitRef {
  owner: string
  repo: string
  sha: string
}

/** Facts that only the GitHub API knows, asked for when the payload lacks them. */
export interface LookupsNeeded {
  /** is `base` an ancestor of `head`? (a synchronize under force-push mode) */
  compare?: { owner: string; repo: string; base: string; head: string }
  /** when was the new head committed? (a synchronize) */
  headCommit?: CommitRef
}

export type Answer<T> = { value: T } | { error: string }

export type CompareStatus = 'ahead' | 'behind' | 'diverged' | 'identical'

/**
 * A time read from the event or from GitHub, and where from, so that the log can name the field
 * whose time is not believable. `time` is Unix ms, or undefined when the field holds no time.
 */
export interface Dated {
  field: string
  time: number | undefined
  /** the value as given, for the log when it holds no time */
  given?: unknown
}

export interface Lookups {
  /** GitHub's compare status of base...head: 'ahead' means base is an ancestor of head */
  compare?: Answer<CompareStatus>
  /** author and committer dates of the head commit */
  headCommitDates?: Answer<Dated[]>
}

export type SupersedeDecision =
  { act: false; reason: string } | { act: true; cutoff: number; reason: string }

/**
 * How far ahead of this run's own clock an event's time may be and still be believed: the clocks
 * of GitHub and of the runner disagree by seconds, a forged or misread time by years.
 */
export const CLOCK_SKEW_MS = 5 * 60_000

const SYNC_EVENTS = ['pull_request', 'pull_request_target']

function isSynchronize(event: GitHubEvent): boolean {
  return SYNC_EVENTS.includes(event.name) && event.payload.action === 'synchronize'
}

/** The GitHub API questions the decision needs answered; none for most events. */
export function lookupsNeeded(mode: CancelMode, event: GitHubEvent): LookupsNeeded {
  if (mode === 'never' || !isSynchronize(event)) return {}
  const repository = record(event.payload.repository)
  const owner = text(record(repository.owner).login)
  const repo = text(repository.name)
  const base = text(event.payload.before)
  const head =
    text(event.payload.after) ?? text(record(record(event.payload.pull_request).head).sha)
  if (!owner || !repo || !head) return {}
  const needed: LookupsNeeded = { headCommit: { owner, repo, sha: head } }
  if (mode === 'force-push' && base) needed.compare = { owner, repo, base, head }
  return needed
}

/**
 * Whether this run cancels superseded evaluations, and the cutoff: never later than the moment
 * of the push, so the earliest time known for the new head, and never later than `now` (this
 * run's clock, Unix ms) plus CLOCK_SKEW_MS. When in doubt, cancel nothing.
 */
export function decideSupersede(
  mode: CancelMode,
  event: GitHubEvent,
  lookups: Lookups,
  now: number,
  /** how the reasons name cancel-superseded: the face's naming (`--cancel-superseded`) */
  nameOf: (input: string) => string = input => input
): SupersedeDecision {
  const setting = nameOf('cancel-superseded')
  if (mode === 'never') return { act: false, reason: `${setting} is never` }
  if (event.unreadable) return { act: false, reason: event.unreadable }
  if (event.name === 'push') return decidePush(mode, event.payload, now, setting)
  if (isSynchronize(event)) return decideSynchronize(mode, event.payload, lookups, now)
  const what = event.name ? `a ${event.name}${actionOf(event)} event` : 'this event'
  return {
    act: false,
    reason: `${what} brings no new commit; only push and pull_request synchronize do`
  }
}

function decidePush(
  mode: CancelMode,
  payload: Record<string, unknown>,
  now: number,
  setting: string
): SupersedeDecision {
  if (payload.deleted === true) return { act: false, reason: 'the push deleted a ref' }
  if (mode === 'force-push' && payload.forced !== true) {
    return { act: false, reason: `the push was not a force-push (${setting} is force-push)` }
  }
  const times = [
    dated('head_commit.timestamp', record(payload.head_commit).timestamp, isoTime),
    dated('repository.pushed_at', record(payload.repository).pushed_at, pushedAt)
  ]
  const what = payload.forced === true ? 'a force-push' : 'a push'
  return withCutoff(
    what,
    times,
    now,
    'the push payload has neither head_commit.timestamp nor repository.pushed_at'
  )
}

function decideSynchronize(
  mode: CancelMode,
  payload: Record<string, unknown>,
  lookups: Lookups,
  now: number
): SupersedeDecision {
  let what = 'a new commit on the pull request'
  if (mode === 'force-push') {
    const compare = lookups.compare
    if (!compare) {
      return {
        act: false,
        reason:
          'cannot tell whether the pull request was force-pushed: the event lacks before/after'
      }
    }
    if ('error' in compare) {
      return {
        act: false,
        reason: `cannot tell whether the pull request was force-pushed: ${compare.error}`
      }
    }
    if (compare.value === 'ahead' || compare.value === 'identical') {
      return {
        act: false,
        reason: 'the pull request was not force-pushed (its old head is an ancestor of the new one)'
      }
    }
    if (compare.value !== 'behind' && compare.value !== 'diverged') {
      // the type says this cannot be; a value from elsewhere must not count as a force-push
      return {
        act: false,
        reason: `cannot tell whether the pull request was force-pushed: GitHub's compare status is ${JSON.stringify(compare.value)}`
      }
    }
    what = 'a force-push to the pull request'
  }
  const dates = lookups.headCommitDates
  const times = [
    ...(dates && 'value' in dates ? dates.value : []),
    dated('pull_request.updated_at', record(payload.pull_request).updated_at, isoTime)
  ]
  return withCutoff(
    what,
    times,
    now,
    'neither the head commit date nor pull_request.updated_at is known'
  )
}

/**
 * The earliest of the times, when every one given is a believable time: a time that cannot be
 * read, or a cutoff later than the run's clock allows, cancels nothing and names its field.
 */
function withCutoff(
  what: string,
  times: (Dated | undefined)[],
  now: number,
  unknown: string
): SupersedeDecision {
  const given = times.filter((time): time is Dated => time !== undefined)
  if (given.length === 0) return { act: false, reason: `cannot date ${what}: ${unknown}` }
  const unreadable = given.filter(({ time }) => time === undefined || !isDateTime(time))
  if (unreadable.length > 0) {
    const fields = unreadable.map(
      ({ field, time, given: value }) =>
        `${field} ${time === undefined ? `${clip(JSON.stringify(value) ?? String(value))} is not a time` : `(${formatTime(time)}) is not a believable time`}`
    )
    return { act: false, reason: `cannot date ${what}: ${fields.join('; ')}` }
  }
  const known = given as { field: string; time: number }[]
  const cutoff = Math.min(...known.map(({ time }) => time))
  if (cutoff > now + CLOCK_SKEW_MS) {
    const fields = known.map(({ field, time }) => `${field} ${formatTime(time)}`).join(', ')
    return {
      act: false,
      reason: `the time of ${what} is not believable: ${fields} ${known.length > 1 ? 'are all' : 'is'} later than this run's clock (${formatTime(now)}) plus ${CLOCK_SKEW_MS / 60_000} min`
    }
  }
  return {
    act: true,
    cutoff,
    reason: `${what}; evaluations submitted before ${formatTime(cutoff)} are superseded`
  }
}

/** A field's time; undefined when the field is absent (null or missing), which is no claim at all. */
export function dated(
  field: string,
  value: unknown,
  read: (value: unknown) => number | undefined
): Dated | undefined {
  if (value === undefined || value === null) return undefined
  const time = read(value)
  return time === undefined ? { field, time, given: value } : { field, time }
}

function actionOf(event: GitHubEvent): string {
  const action = text(event.payload.action)
  return action ? ` (${action})` : ''
}

/** A push payload's repository.pushed_at is Unix seconds; other payloads use ISO 8601. */
function pushedAt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value * 1000 : undefined
  return isoTime(value)
}

/** An ISO 8601 time as GitHub writes it (2026-11-20T10:00:00Z, with an offset, or with ms). */
export function isoTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined
  const time = Date.parse(value)
  return Number.isNaN(time) ? undefined : time
}

function clip(value: string): string {
  return value.length > 60 ? `${value.slice(0, 59)}…` : value
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function record(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {}
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

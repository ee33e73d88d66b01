/**
 * Asks the GitHub API what the event payload does not say, and believes only answers in the shape
 * GitHub documents: anything else (an HTML page, text, an unknown status) is "cannot tell".
 */
import * as v from 'valibot'
import { checkShape } from '../adaline/schema.js'
import type { Answer, CompareStatus, Dated, Lookups, LookupsNeeded } from './event.js'
import { dated, isoTime } from './event.js'
import { githubClient, type GitHubClientOptions } from './octokit.js'

/** The four statuses GitHub's compare API documents. */
export const COMPARE_STATUSES: readonly CompareStatus[] = [
  'ahead',
  'behind',
  'diverged',
  'identical'
]

const commits = v.pipe(v.number(), v.safeInteger(), v.minValue(0))

/** Whether the counts agree with the status: a status the counts contradict is no clear answer. */
function agrees({ status, ahead_by, behind_by }: v.InferOutput<typeof compareFields>): boolean {
  const ahead = ahead_by > 0
  const behind = behind_by > 0
  if (status === 'identical') return !ahead && !behind
  if (status === 'ahead') return ahead && !behind
  if (status === 'behind') return !ahead && behind
  return ahead && behind
}

const compareFields = v.looseObject({
  status: v.picklist(COMPARE_STATUSES),
  ahead_by: commits,
  behind_by: commits
})

/** GET /repos/{owner}/{repo}/compare/{basehead}: what the force-push question reads. */
export const compareSchema = v.pipe(
  compareFields,
  v.check(agrees, 'the status disagrees with ahead_by and behind_by')
)

const person = v.nullish(v.looseObject({ date: v.nullish(v.string()) }))

/** GET /repos/{owner}/{repo}/commits/{ref}: the head commit's dates. */
export const commitSchema = v.looseObject({
  commit: v.looseObject({ author: person, committer: person })
})

/**
 * A compare answer as Octokit hands it over (parsed JSON, or text, or bytes when the answer was
 * not JSON): its status when the answer is clear, otherwise why not.
 */
export function readCompare(data: unknown): Answer<CompareStatus> {
  const checked = checkShape(compareSchema, data, 'body')
  if (checked.ok) return { value: checked.value.status }
  return { error: `answered ${unclear(data, checked.problem)}` }
}

/** A commit answer: the author and committer dates it gives, or why it cannot be read. */
export function readCommitDates(data: unknown): Answer<Dated[]> {
  const checked = checkShape(commitSchema, data, 'body')
  if (!checked.ok) return { error: `answered ${unclear(data, checked.problem)}` }
  const { author, committer } = checked.value.commit
  const dates = [
    dated("the head commit's author date", author?.date, isoTime),
    dated("the head commit's committer date", committer?.date, isoTime)
  ]
  return { value: dates.filter((date): date is Dated => date !== undefined) }
}

/** What was wrong with an answer, in a few words: its text could be a whole HTML page. */
function unclear(data: unknown, problem: string): string {
  if (typeof data === 'string') return 'with text, not a JSON object (an HTML page, or bad JSON)'
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return 'with a body that is not JSON'
  return `in an unexpected shape: ${problem.length > 160 ? `${problem.slice(0, 159)}…` : problem}`
}

export async function lookUp(
  needed: LookupsNeeded,
  token: string | undefined,
  options: GitHubClientOptions & { nameOf?: (input: string) => string } = {}
): Promise<Lookups> {
  if (!needed.compare && !needed.headCommit) return {}
  if (!token) {
    const name = options.nameOf?.('github-token') ?? 'github-token'
    const error = `no ${name} was given to ask the GitHub API`
    return {
      ...(needed.compare ? { compare: { error } } : {}),
      ...(needed.headCommit ? { headCommitDates: { error } } : {})
    }
  }
  const octokit = await githubClient(token, options)
  const lookups: Lookups = {}
  if (needed.compare) {
    const { owner, repo, base, head } = needed.compare
    const what = `GitHub compare ${base.slice(0, 7)}...${head.slice(0, 7)}`
    try {
      const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
        owner,
        repo,
        basehead: `${base}...${head}`,
        per_page: 1
      })
      const answer = readCompare(data)
      lookups.compare = 'value' in answer ? answer : { error: `${what} ${answer.error}` }
    } catch (error) {
      lookups.compare = { error: `${what} failed: ${describe(error)}` }
    }
    // A plain fast-forward needs no date: nothing will be cancelled.
    if ('value' in lookups.compare && ['ahead', 'identical'].includes(lookups.compare.value)) {
      return lookups
    }
  }
  if (needed.headCommit) {
    const { owner, repo, sha } = needed.headCommit
    const what = `GitHub commit ${sha.slice(0, 7)}`
    try {
      const { data } = await octokit.rest.repos.getCommit({ owner, repo, ref: sha })
      const answer = readCommitDates(data)
      lookups.headCommitDates = 'value' in answer ? answer : { error: `${what} ${answer.error}` }
    } catch (error) {
      lookups.headCommitDates = { error: `${what} lookup failed: ${describe(error)}` }
    }
  }
  return lookups
}

/** A failed request in a line: an error page's text can be a whole HTML page. */
function describe(error: unknown): string {
  const status = (error as { status?: number }).status
  let message = (error as Error).message ?? String(error)
  if (message.length > 200) message = `${message.slice(0, 199)}…`
  return status ? `HTTP ${status} ${message}` : message
}

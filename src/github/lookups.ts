/** Asks the GitHub API what the event payload does not say. */
import type { Lookups, LookupsNeeded } from './event.js'
import { isoTime } from './event.js'
import { githubClient, type GitHubClientOptions } from './octokit.js'

type CompareStatus = 'ahead' | 'behind' | 'diverged' | 'identical'

export async function lookUp(
  needed: LookupsNeeded,
  token: string | undefined,
  options: GitHubClientOptions = {}
): Promise<Lookups> {
  if (!needed.compare && !needed.headCommit) return {}
  if (!token) {
    const error = 'no github-token was given to ask the GitHub API'
    return {
      ...(needed.compare ? { compare: { error } } : {}),
      ...(needed.headCommit ? { headCommitDates: { error } } : {})
    }
  }
  const octokit = await githubClient(token, options)
  const lookups: Lookups = {}
  if (needed.compare) {
    const { owner, repo, base, head } = needed.compare
    try {
      const { data } = await octokit.rest.repos.compareCommitsWithBasehead({
        owner,
        repo,
        basehead: `${base}...${head}`,
        per_page: 1
      })
      lookups.compare = { value: data.status as CompareStatus }
    } catch (error) {
      lookups.compare = {
        error: `GitHub compare ${base.slice(0, 7)}...${head.slice(0, 7)} failed: ${describe(error)}`
      }
    }
    // A plain fast-forward needs no date: nothing will be cancelled.
    if ('value' in lookups.compare && ['ahead', 'identical'].includes(lookups.compare.value)) {
      return lookups
    }
  }
  if (needed.headCommit) {
    const { owner, repo, sha } = needed.headCommit
    try {
      const { data } = await octokit.rest.repos.getCommit({ owner, repo, ref: sha })
      const dates = [data.commit.author?.date, data.commit.committer?.date]
        .map(isoTime)
        .filter((time): time is number => time !== undefined)
      lookups.headCommitDates = { value: dates }
    } catch (error) {
      lookups.headCommitDates = {
        error: `GitHub commit ${sha.slice(0, 7)} lookup failed: ${describe(error)}`
      }
    }
  }
  return lookups
}

function describe(error: unknown): string {
  const status = (error as { status?: number }).status
  const message = (error as Error).message ?? String(error)
  return status ? `HTTP ${status} ${message}` : message
}

/**
 * The sticky pull request comment: one per workflow, job and prompt set, found by a hidden marker
 * on any page of the pull request's comments and updated in place. A comment is a courtesy: when
 * it cannot be written (a read-only token, as on forks) the run warns and goes on.
 */
import { createHash } from 'node:crypto'
import type { GitHubEvent } from './event.js'
import { githubClient, type GitHubClientOptions } from './octokit.js'

export interface CommentTarget {
  owner: string
  repo: string
  number: number
}

/** The pull request a pull_request(_target) event is about. */
export function commentTarget(event: GitHubEvent): CommentTarget | undefined {
  if (!['pull_request', 'pull_request_target'].includes(event.name)) return undefined
  const pullRequest = event.payload.pull_request as { number?: unknown } | undefined
  const repository = event.payload.repository as
    { name?: unknown; owner?: { login?: unknown } } | undefined
  const number = pullRequest?.number
  const owner = repository?.owner?.login
  const repo = repository?.name
  if (typeof number !== 'number' || typeof owner !== 'string' || typeof repo !== 'string')
    return undefined
  return { owner, repo, number }
}

/** A hidden marker that is the same on every run of this workflow, job and prompt set. */
export function commentMarker(workflow: string, job: string, promptIds: string[]): string {
  const key = JSON.stringify([workflow, job, [...promptIds].sort()])
  return `<!-- adaline-evals:${createHash('sha256').update(key).digest('hex').slice(0, 16)} -->`
}

export type CommentResult = 'created' | 'updated' | 'unchanged'

/**
 * Updates the comment that carries `marker`, or creates one when `create` is true.
 * Throws what the GitHub API threw; the caller turns it into a warning.
 */
export async function upsertComment(
  token: string,
  target: CommentTarget,
  marker: string,
  body: string,
  create: boolean,
  options: GitHubClientOptions = {}
): Promise<CommentResult> {
  const octokit = await githubClient(token, options)
  const { owner, repo, number } = target
  const comments = await octokit.paginate(octokit.rest.issues.listComments, {
    owner,
    repo,
    issue_number: number,
    per_page: 100
  })
  // ours opens with the marker; a person quoting it ("> <!-- …") is left alone
  const existing = comments.find(comment => comment.body?.startsWith(marker))
  const text = `${marker}\n${body}`
  if (existing) {
    await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body: text })
    return 'updated'
  }
  if (!create) return 'unchanged'
  await octokit.rest.issues.createComment({ owner, repo, issue_number: number, body: text })
  return 'created'
}

/** Why writing the comment failed, and what to do. */
export function describeCommentError(error: unknown): string {
  const status = (error as { status?: number }).status
  let message = (error as Error).message ?? String(error)
  // an error page's text (Octokit's message for a non-JSON answer) can be a whole HTML page
  if (message.length > 200) message = `${message.slice(0, 199)}…`
  if (status === 401) {
    return `Could not write the pull request comment (HTTP 401 ${message}): the github-token is invalid or expired. Pass \${{ github.token }}, or a token that is still valid.`
  }
  if (status === 403 || status === 404) {
    return `Could not write the pull request comment (HTTP ${status} ${message}): the token cannot write to pull requests. Give the job "permissions: pull-requests: write"; on pull requests from forks the token is read-only.`
  }
  return `Could not write the pull request comment: ${status ? `HTTP ${status} ` : ''}${message}`
}

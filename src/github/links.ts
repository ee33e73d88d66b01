/**
 * The links a report's headline carries on GitHub: the commit it judged and the workflow run,
 * from the runner's variables and the event. Outside GitHub none are set, and no link is made.
 */
import type { GitHubEvent } from './event.js'

export interface ReportLinks {
  /** the commit the run judged: on pull requests the head commit, not the merge commit */
  commit?: { sha: string; url: string }
  /** this attempt of the workflow run */
  workflowRun?: string
}

const PULL_REQUEST_EVENTS = ['pull_request', 'pull_request_target']

/** The report's links; a link whose variables are missing or malformed is left out. */
export function reportLinks(env: NodeJS.ProcessEnv, event: GitHubEvent): ReportLinks {
  const repository = repositoryUrl(env)
  if (!repository) return {}
  const links: ReportLinks = {}
  const sha = commitSha(env, event)
  if (sha) links.commit = { sha, url: `${repository}/commit/${sha}` }
  const runId = env.GITHUB_RUN_ID ?? ''
  if (/^\d+$/.test(runId)) {
    const attempt = env.GITHUB_RUN_ATTEMPT ?? ''
    links.workflowRun = `${repository}/actions/runs/${runId}${/^\d+$/.test(attempt) ? `/attempts/${attempt}` : ''}`
  }
  return links
}

/** `{GITHUB_SERVER_URL}/{GITHUB_REPOSITORY}`, when both are there and well formed. */
function repositoryUrl(env: NodeJS.ProcessEnv): string | undefined {
  const repository = env.GITHUB_REPOSITORY ?? ''
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository)) return undefined
  let server: URL
  try {
    server = new URL(env.GITHUB_SERVER_URL ?? '')
  } catch {
    return undefined
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') return undefined
  return `${server.origin}${server.pathname.replace(/\/+$/, '')}/${repository}`
}

/** On pull request events the head commit (GITHUB_SHA is the merge commit there), else GITHUB_SHA. */
function commitSha(env: NodeJS.ProcessEnv, event: GitHubEvent): string | undefined {
  const pullRequest = event.payload.pull_request
  const head =
    PULL_REQUEST_EVENTS.includes(event.name) && typeof pullRequest === 'object' && pullRequest
      ? (pullRequest as { head?: { sha?: unknown } }).head?.sha
      : undefined
  const sha = typeof head === 'string' ? head : env.GITHUB_SHA
  return sha && /^[0-9a-f]{7,64}$/i.test(sha) ? sha.toLowerCase() : undefined
}

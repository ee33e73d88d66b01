/**
 * The GitHub API client of the lookups and the comment. It is imported lazily: most runs never
 * need it, and it is the largest part of the bundle to load. Octokit sets no timeout, so a hung
 * GitHub API would hold the step for minutes; here every request gets its own.
 */
export const GITHUB_TIMEOUT_MS = 30_000

export interface GitHubClientOptions {
  /** per request; default GITHUB_TIMEOUT_MS */
  timeoutMs?: number
}

export async function githubClient(token: string, options: GitHubClientOptions = {}) {
  const { timeoutMs = GITHUB_TIMEOUT_MS } = options
  const { getOctokit } = await import('@actions/github')
  const octokit = getOctokit(token)
  octokit.hook.wrap('request', async (request, options) => {
    const signal = AbortSignal.timeout(timeoutMs)
    // set on these options, not a copy: the auth hook within reads them, not what it is passed
    options.request = { ...options.request, signal }
    try {
      return await request(options)
    } catch (error) {
      // Octokit reports a timeout as an HTTP 500 "The operation was aborted due to timeout"
      if (signal.aborted) {
        throw Object.assign(
          new Error(`no answer from the GitHub API in ${timeoutMs / 1000} s`, { cause: error }),
          { name: 'TimeoutError' }
        )
      }
      throw error
    }
  })
  return octokit
}

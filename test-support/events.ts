/** GitHub event payloads for the runner stand-in: used by the end-to-end tests and the benchmark. */

/** When the pushes below landed. */
export const PUSH_TIME = Date.parse('2026-11-20T12:00:00Z')

/** A push to main at PUSH_TIME (head commit) and 5 s later (pushed_at); forced unless said. */
export function pushEvent(forced = true): { name: string; payload: Record<string, unknown> } {
  return {
    name: 'push',
    payload: {
      forced,
      ref: 'refs/heads/main',
      before: 'a'.repeat(40),
      after: 'b'.repeat(40),
      head_commit: { id: 'b'.repeat(40), timestamp: new Date(PUSH_TIME).toISOString() },
      repository: { name: 'repo', owner: { login: 'org' }, pushed_at: PUSH_TIME / 1000 + 5 }
    }
  }
}

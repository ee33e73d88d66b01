import {
  CLOCK_SKEW_MS,
  decideSupersede as decideAt,
  lookupsNeeded,
  type CancelMode,
  type GitHubEvent,
  type Lookups
} from '../../src/github/event.js'

const COMMIT_TIME = '2026-11-20T10:00:00+01:00' // 09:00 UTC
const PUSHED_AT = Date.parse('2026-11-20T09:05:00Z') / 1000
/** this run's clock: after every time in the events below */
const NOW = Date.parse('2026-11-20T12:00:00Z')

function decideSupersede(mode: CancelMode, event: GitHubEvent, lookups: Lookups = {}) {
  return decideAt(mode, event, lookups, NOW)
}

/** A commit date as the lookup gives it. */
function commitDate(iso: string) {
  return { field: "the head commit's author date", time: Date.parse(iso) }
}

function push(fields: Record<string, unknown> = {}): GitHubEvent {
  return {
    name: 'push',
    payload: {
      forced: false,
      before: 'a'.repeat(40),
      after: 'b'.repeat(40),
      head_commit: { timestamp: COMMIT_TIME },
      repository: { pushed_at: PUSHED_AT, name: 'repo', owner: { login: 'org' } },
      ...fields
    }
  }
}

function synchronize(fields: Record<string, unknown> = {}): GitHubEvent {
  return {
    name: 'pull_request',
    payload: {
      action: 'synchronize',
      before: 'a'.repeat(40),
      after: 'b'.repeat(40),
      pull_request: { updated_at: '2026-11-20T09:30:00Z', head: { sha: 'b'.repeat(40) } },
      repository: { name: 'repo', owner: { login: 'org' } },
      ...fields
    }
  }
}

describe('decideSupersede on push', () => {
  it('acts on a force-push, with the earliest known time as cutoff', () => {
    const decision = decideSupersede('force-push', push({ forced: true }))
    expect(decision).toMatchObject({ act: true, cutoff: Date.parse('2026-11-20T09:00:00Z') })
  })

  it('takes pushed_at when it is earlier than the commit time', () => {
    const decision = decideSupersede(
      'force-push',
      push({ forced: true, head_commit: { timestamp: '2026-11-20T12:00:00Z' } })
    )
    expect(decision).toMatchObject({ act: true, cutoff: PUSHED_AT * 1000 })
  })

  it('does not act on a plain push under force-push', () => {
    expect(decideSupersede('force-push', push()).act).toBe(false)
  })

  it('says why it does not act, naming cancel-superseded as the face does', () => {
    expect(decideSupersede('force-push', push()).reason).toBe(
      'the push was not a force-push (cancel-superseded is force-push)'
    )
    const flag = (input: string) => `--${input}`
    expect(decideAt('force-push', push(), {}, NOW, flag).reason).toBe(
      'the push was not a force-push (--cancel-superseded is force-push)'
    )
    expect(decideAt('never', push({ forced: true }), {}, NOW, flag).reason).toBe(
      '--cancel-superseded is never'
    )
  })

  it('acts on a plain push under new-commit', () => {
    expect(decideSupersede('new-commit', push())).toMatchObject({ act: true })
  })

  it('never acts under never', () => {
    expect(decideSupersede('never', push({ forced: true })).act).toBe(false)
  })

  it('does not act on a branch deletion', () => {
    expect(decideSupersede('new-commit', push({ deleted: true, head_commit: null })).act).toBe(
      false
    )
  })

  it('cancels nothing and says why when the push cannot be dated', () => {
    const decision = decideSupersede('new-commit', push({ head_commit: null, repository: {} }))
    expect(decision).toEqual({ act: false, reason: expect.stringContaining('cannot date') })
  })
})

describe('decideSupersede on pull_request synchronize', () => {
  it('asks GitHub to compare before...after only under force-push', () => {
    expect(lookupsNeeded('force-push', synchronize())).toEqual({
      compare: { owner: 'org', repo: 'repo', base: 'a'.repeat(40), head: 'b'.repeat(40) },
      headCommit: { owner: 'org', repo: 'repo', sha: 'b'.repeat(40) }
    })
    expect(lookupsNeeded('new-commit', synchronize())).toEqual({
      headCommit: { owner: 'org', repo: 'repo', sha: 'b'.repeat(40) }
    })
    expect(lookupsNeeded('never', synchronize())).toEqual({})
    expect(lookupsNeeded('force-push', push({ forced: true }))).toEqual({})
  })

  it.each(['diverged', 'behind'] as const)(
    'acts when the old head is not an ancestor (%s)',
    status => {
      const decision = decideSupersede('force-push', synchronize(), {
        compare: { value: status },
        headCommitDates: { value: [commitDate('2026-11-20T08:00:00Z')] }
      })
      expect(decision).toMatchObject({ act: true, cutoff: Date.parse('2026-11-20T08:00:00Z') })
    }
  )

  it.each(['ahead', 'identical'] as const)('does not act on a fast-forward (%s)', status => {
    expect(decideSupersede('force-push', synchronize(), { compare: { value: status } }).act).toBe(
      false
    )
  })

  it('cancels nothing and says why when the compare cannot be answered', () => {
    const decision = decideSupersede('force-push', synchronize(), {
      compare: { error: 'HTTP 404 Not Found' }
    })
    expect(decision).toEqual({ act: false, reason: expect.stringContaining('HTTP 404 Not Found') })
  })

  it('falls back to pull_request.updated_at when the commit date is unknown', () => {
    const decision = decideSupersede('new-commit', synchronize(), {
      headCommitDates: { error: 'no token' }
    })
    expect(decision).toMatchObject({ act: true, cutoff: Date.parse('2026-11-20T09:30:00Z') })
  })

  it('takes the earliest of the commit dates and updated_at', () => {
    const decision = decideSupersede('new-commit', synchronize(), {
      headCommitDates: {
        value: [commitDate('2026-11-20T09:40:00Z'), commitDate('2026-11-20T09:10:00Z')]
      }
    })
    expect(decision).toMatchObject({ act: true, cutoff: Date.parse('2026-11-20T09:10:00Z') })
  })
})

describe('decideSupersede on other events', () => {
  it.each([
    ['pull_request', { action: 'opened' }],
    ['workflow_dispatch', {}],
    ['schedule', {}]
  ])('cancels nothing on %s', (name, payload) => {
    const decision = decideSupersede('new-commit', { name, payload })
    expect(decision).toEqual({
      act: false,
      reason: expect.stringContaining('brings no new commit')
    })
  })
})

describe('a cutoff must be believable', () => {
  const future = '2031-01-01T00:00:00Z'

  it('cancels nothing when every time of the push is later than the run clock plus 5 min, and names them', () => {
    // head_commit.timestamp in the future, pushed_at sent in ms (read as s: year 58,000)
    const decision = decideSupersede(
      'new-commit',
      push({
        head_commit: { timestamp: future },
        repository: { pushed_at: Date.parse(future) }
      })
    )
    expect(decision).toEqual({
      act: false,
      reason: expect.stringContaining('the time of a push is not believable')
    })
    const { reason } = decision
    expect(reason).toContain('head_commit.timestamp 2031-01-01T00:00:00.000Z')
    expect(reason).toContain('repository.pushed_at +')
    expect(reason).toContain("later than this run's clock (2026-11-20T12:00:00.000Z) plus 5 min")
  })

  it('takes the believable time when only pushed_at arrives in ms', () => {
    const decision = decideSupersede(
      'new-commit',
      push({ repository: { pushed_at: Date.parse('2026-11-20T09:05:00Z') } })
    )
    expect(decision).toMatchObject({ act: true, cutoff: Date.parse(COMMIT_TIME) })
  })

  it('believes a time up to 5 min ahead of the run clock, not a millisecond more', () => {
    const at = (ms: number) =>
      decideSupersede(
        'new-commit',
        push({ head_commit: { timestamp: new Date(ms).toISOString() }, repository: {} })
      )
    expect(at(NOW + CLOCK_SKEW_MS)).toMatchObject({ act: true, cutoff: NOW + CLOCK_SKEW_MS })
    expect(at(NOW + CLOCK_SKEW_MS + 1).act).toBe(false)
  })

  it.each([
    ['a pushed_at outside the range of dates', { pushed_at: 1e300 }, 'is not a believable time'],
    ['a negative one', { pushed_at: -1e300 }, 'is not a believable time'],
    ['a pushed_at that is no time', { pushed_at: 'soon' }, '"soon" is not a time']
  ])('cancels nothing, and throws nothing, on %s', (_, repository, says) => {
    const decision = decideSupersede('new-commit', push({ repository }))
    expect(decision).toEqual({
      act: false,
      reason: expect.stringContaining(`cannot date a push: repository.pushed_at`)
    })
    expect(decision.reason).toContain(says)
  })

  it('cancels nothing on an ISO time beyond what a Date holds', () => {
    const decision = decideSupersede(
      'new-commit',
      push({ head_commit: { timestamp: '+275760-09-13T00:00:01Z' } })
    )
    expect(decision).toEqual({
      act: false,
      reason: 'cannot date a push: head_commit.timestamp "+275760-09-13T00:00:01Z" is not a time'
    })
  })

  it("cancels nothing when a synchronize's commit dates and updated_at are all in the future", () => {
    const decision = decideSupersede(
      'new-commit',
      synchronize({ pull_request: { updated_at: future, head: { sha: 'b'.repeat(40) } } }),
      { headCommitDates: { value: [commitDate(future)] } }
    )
    expect(decision).toEqual({
      act: false,
      reason: expect.stringMatching(
        /^the time of a new commit on the pull request is not believable: the head commit's author date 2031-01-01T00:00:00\.000Z, pull_request\.updated_at 2031-01-01T00:00:00\.000Z are all later/
      )
    })
  })

  it('cancels nothing on a compare status outside the four GitHub documents', () => {
    const decision = decideSupersede('force-push', synchronize(), {
      compare: { value: 'unknown' as 'ahead' },
      headCommitDates: { value: [commitDate('2026-11-20T08:00:00Z')] }
    })
    expect(decision).toEqual({
      act: false,
      reason: expect.stringContaining('cannot tell whether the pull request was force-pushed')
    })
  })
})

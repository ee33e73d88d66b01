import { listed } from '../__fixtures__/evaluations.js'
import { CLOCK_SKEW_MS, startedByAttempt } from '../src/start.js'

const AT = 1_790_000_000_000

function submitted(runId: string, offsetMs: number, status: 'queued' | 'cancelling' = 'queued') {
  return listed({ runId, status, submittedAt: AT + offsetMs })
}

describe('startedByAttempt', () => {
  it('takes a new evaluation submitted around the attempt', () => {
    const ours = submitted('ours-aaaaaaaaaaaaaaaaaaaa', 300)
    expect(startedByAttempt([ours], new Set(), AT, AT + 1_000)).toBe(ours)
  })

  it('never takes one that was there before the attempt, however recent', () => {
    const before = submitted('before-aaaaaaaaaaaaaaaaaa', 200)
    expect(
      startedByAttempt([before], new Set([before.evaluation.runId]), AT, AT + 1_000)
    ).toBeUndefined()
  })

  it('never takes one being cancelled: that is another run’s decision', () => {
    const other = submitted('other-aaaaaaaaaaaaaaaaaaa', 100, 'cancelling')
    expect(startedByAttempt([other], new Set(), AT, AT + 1_000)).toBeUndefined()
  })

  it('allows for the API’s clock being behind ours, by the skew and no more', () => {
    const skewed = submitted('skewed-aaaaaaaaaaaaaaaaaa', -CLOCK_SKEW_MS)
    const older = submitted('older-aaaaaaaaaaaaaaaaaaa', -CLOCK_SKEW_MS - 1)
    expect(startedByAttempt([older, skewed], new Set(), AT, AT + 1_000)).toBe(skewed)
    expect(startedByAttempt([older], new Set(), AT, AT + 1_000)).toBeUndefined()
  })

  it('of several new ones, takes the one submitted nearest the attempt', () => {
    const near = submitted('near-aaaaaaaaaaaaaaaaaaaa', -2_000)
    const far = submitted('far-aaaaaaaaaaaaaaaaaaaaa', 30_000)
    expect(startedByAttempt([far, near], new Set(), AT, AT + 30_000)).toBe(near)
  })

  it('never takes one submitted after the attempt failed, beyond the skew', () => {
    const later = submitted('later-aaaaaaaaaaaaaaaaaaa', 1_000 + CLOCK_SKEW_MS + 1)
    expect(startedByAttempt([later], new Set(), AT, AT + 1_000)).toBeUndefined()
  })
})

/** What an abort says of the run's starts: every evaluation that may still run is named. Pure. */
import { describeAbort } from '../../src/run/abort.js'
import type { StartsSoFar } from '../../src/run/started.js'

const none: StartsSoFar = {
  started: [],
  adopted: [],
  cancellable: [],
  underWay: [],
  unconfirmed: []
}
const A = 'run_aaaaaaaaaaaaaaaaaaaa'
const B = 'run_bbbbbbbbbbbbbbbbbbbb'
const C = 'run_cccccccccccccccccccc'

describe('describeAbort', () => {
  it('says nothing when the run had started nothing', () => {
    expect(describeAbort(none, 'off')).toBe('')
  })

  it('names what was cancelled, what could not be and why, and what finished is left out', () => {
    const starts = { ...none, started: [A, B, C], cancellable: [A, B, C] }
    const cancels = {
      cancelled: [A],
      finished: [{ runId: C, promptId: 'p', status: 'completed' as const, message: '409' }],
      failed: [{ runId: B, promptId: 'p', message: 'answered 500.' }]
    }
    expect(describeAbort(starts, cancels)).toBe(
      `Cancelled 1 evaluation this run started: ${A}. Could not cancel ${B}, which may still run: answered 500.`
    )
  })

  it('names one whose start was answered only while the cancels were under way', () => {
    const starts = { ...none, started: [A, B], cancellable: [A, B] }
    expect(describeAbort(starts, { cancelled: [A], finished: [], failed: [] })).toBe(
      `Cancelled 1 evaluation this run started: ${A}. Not cancelled, as its start was answered only while cancelling: ${B}.`
    )
  })

  it('says why it left them running, naming cancel-on-abort as the face does', () => {
    const starts = { ...none, started: [A], cancellable: [A] }
    expect(describeAbort(starts, 'off')).toBe(`Left running (cancel-on-abort is false): ${A}.`)
    expect(describeAbort(starts, 'off', input => `--${input}`)).toBe(
      `Left running (--cancel-on-abort is false): ${A}.`
    )
  })

  it('counts two cancelled in the plural', () => {
    const starts = { ...none, started: [A, B], cancellable: [A, B] }
    expect(describeAbort(starts, { cancelled: [A, B], finished: [], failed: [] })).toBe(
      `Cancelled 2 evaluations this run started: ${A}, ${B}.`
    )
  })

  it('names all that may still run when cancelling ran out of time or failed', () => {
    const starts = { ...none, started: [A, B], cancellable: [A, B] }
    expect(describeAbort(starts, 'late')).toBe(
      `Cancelling did not finish in time; these may still run: ${A}, ${B}.`
    )
    expect(describeAbort(starts, new Error('socket hang up'))).toBe(
      `Cancelling failed (socket hang up); these may still run: ${A}, ${B}.`
    )
  })

  it('names adopted ones apart, and starts whose outcome is unknown by prompt and time', () => {
    const since = Date.parse('2026-12-01T10:00:00Z')
    const starts: StartsSoFar = {
      ...none,
      started: [A],
      adopted: [A],
      underWay: [{ promptId: 'prm_1', scope: { evaluatorId: 'evl_1' }, since, phase: 'posting' }],
      unconfirmed: [
        { promptId: 'prm_2', scope: {}, attempts: [since], reason: 'the check failed (500)' }
      ]
    }
    expect(describeAbort(starts, 'off')).toBe(
      [
        `Not cancelled, as taken from the listing after a lost answer (it may be another run's): ${A}.`,
        "A start of prompt prm_1 (evaluator evl_1, the evaluator's dataset) was in flight and its outcome is unknown: check Adaline for an evaluation submitted since 2026-12-01T10:00:00.000Z.",
        "An evaluation of prompt prm_2 (every active evaluator, the evaluator's dataset) may have been started by this run at 2026-12-01T10:00:00.000Z and could not be confirmed: the check failed (500). Look in Adaline for one submitted since 2026-12-01T10:00:00.000Z before starting another."
      ].join(' ')
    )
  })
})

/**
 * Row 2: a force-push supersedes running evaluations and the action (`node dist/index.js`) cancels
 * them concurrently: the cancel phase against one-by-one, the peak in flight, and the peak after a
 * rate limit (429) was answered, which should be halved.
 */
import type { FakeAdaline } from '../test-support/fake-adaline.js'
import { runAction } from '../test-support/run-action.js'
import { intervals, peakInFlight, servingTime, span, type Interval } from './intervals.js'
import { count, ratio, type Figure } from './table.js'
import { actionInputs, isCancelRequest, runningBeforePush, startApi } from './workload.js'
import { pushEvent } from '../test-support/events.js'

export interface CancelOptions {
  evaluations: number
  latencyMs: number
}

const MAX_IN_FLIGHT = 16

export async function cancelFigures({ evaluations, latencyMs }: CancelOptions): Promise<Figure[]> {
  const plain = await cancelAll(evaluations, latencyMs, false)
  const phase = span(plain.cancels) / servingTime(plain.cancels)
  const peak = peakInFlight(plain.cancels)

  const throttled = await cancelAll(evaluations, latencyMs, true)
  const { before, after } = aroundThrottle(throttled.cancels, throttled.throttledAt)
  return [
    {
      id: '2a',
      what: `cancel ${count(evaluations)} superseded: wall time / one by one, ${latencyMs} ms per request`,
      measured: ratio(phase),
      goal: '≤ 0.30',
      met: phase <= 0.3,
      gatesQuick: false
    },
    {
      id: '2b',
      what: 'cancels: peak requests in flight',
      measured: String(peak),
      goal: `≤ ${MAX_IN_FLIGHT}`,
      met: peak <= MAX_IN_FLIGHT,
      gatesQuick: true
    },
    {
      id: '2c',
      what: 'cancels: peak in flight before → after a 429',
      measured: `${before} → ${after}`,
      goal: `≤ ${Math.floor(before / 2)} after`,
      met: after <= before / 2,
      gatesQuick: true
    }
  ]
}

interface CancelRun {
  cancels: Interval[]
  /** when the injected 429 was answered */
  throttledAt?: number
}

async function cancelAll(evaluations: number, latencyMs: number, throttle: boolean) {
  const api = await startApi(latencyMs, runningBeforePush(evaluations))
  try {
    // the first cancel to arrive is rate limited, and may be retried at once
    if (throttle) {
      api.inject({ method: 'POST', path: '/cancel', status: 429, headers: { 'retry-after': '0' } })
    }
    const run = await runAction(actionInputs(api, { 'cancel-superseded': 'force-push' }), {
      event: pushEvent()
    })
    if (run.exitCode !== 0) {
      throw new Error(`the action exited ${run.exitCode}: ${run.errors.join('; ') || run.stderr}`)
    }
    const cancelled = (JSON.parse(run.outputs.cancelled ?? '[]') as string[]).length
    if (cancelled !== evaluations) {
      throw new Error(`the action cancelled ${cancelled} of ${evaluations} evaluations`)
    }
    return cancelRun(api, throttle)
  } finally {
    await api.close()
  }
}

function cancelRun(api: FakeAdaline, throttle: boolean): CancelRun {
  const requests = api.requests.filter(isCancelRequest)
  const cancels = intervals(requests)
  if (!throttle) return { cancels }
  const throttledAt = requests.find(r => r.status === 429)?.answeredAt
  if (throttledAt === undefined) throw new Error('no cancel was answered 429')
  return { cancels, throttledAt }
}

/**
 * The peak before the 429 was answered, and the peak once the requests already in flight at that
 * moment had finished: from then on only the client's lowered bound counts.
 */
function aroundThrottle(
  cancels: Interval[],
  throttledAt?: number
): { before: number; after: number } {
  if (throttledAt === undefined) throw new Error('no 429 to measure around')
  const startedBefore = cancels.filter(c => c.receivedAt < throttledAt)
  const drained = Math.max(...startedBefore.map(c => c.answeredAt))
  const later = cancels.filter(c => c.answeredAt > drained)
  if (later.length === 0) throw new Error('no cancel was made after the 429: too few to measure')
  return {
    before: peakInFlight(
      startedBefore.map(c => ({ ...c, answeredAt: Math.min(c.answeredAt, throttledAt) }))
    ),
    after: peakInFlight(cancels, drained)
  }
}

/**
 * Timing figures from the requests the fake API recorded (its own clock, `performance.now()`):
 * when each arrived and when its answer was finished. Pure.
 */
import type { RecordedRequest } from '../test-support/fake-adaline.js'

export interface Interval {
  receivedAt: number
  answeredAt: number
}

/** The answered requests as intervals; a request still unanswered is an error in a benchmark. */
export function intervals(requests: readonly RecordedRequest[]): Interval[] {
  return requests.map(({ method, path, receivedAt, answeredAt }) => {
    if (answeredAt === undefined) throw new Error(`${method} ${path} was never answered`)
    return { receivedAt, answeredAt }
  })
}

/** From the first request arriving to the last answer finished, in ms. */
export function span(items: readonly Interval[]): number {
  if (items.length === 0) return 0
  const first = Math.min(...items.map(i => i.receivedAt))
  const last = Math.max(...items.map(i => i.answeredAt))
  return last - first
}

/** The fake's own time serving them, summed: what making them one after another would take. */
export function servingTime(items: readonly Interval[]): number {
  return items.reduce((sum, i) => sum + (i.answeredAt - i.receivedAt), 0)
}

/** Most requests being served at once at any instant at or after `from`. */
export function peakInFlight(items: readonly Interval[], from = -Infinity): number {
  const events: [number, number][] = []
  for (const { receivedAt, answeredAt } of items) {
    if (answeredAt <= from) continue
    events.push([Math.max(receivedAt, from), 1], [answeredAt, -1])
  }
  // at equal times an answer ends before another request starts
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1])
  let current = 0
  let peak = 0
  for (const [, change] of events) {
    current += change
    peak = Math.max(peak, current)
  }
  return peak
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing')
  const sorted = [...values].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

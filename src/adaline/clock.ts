/**
 * The clocks the transport keeps: a monotonic one for deadlines, waits and rates (a wall clock
 * that NTP steps by hours must not end a wait at once or stretch it without end), and the API's
 * own wall clock as its answers' Date headers tell it, for every time compared with the API's
 * (an evaluation's submittedAt, a created-after filter, a Retry-After or reset given as a date).
 */
import { performance } from 'node:perf_hooks'

/** Milliseconds on a clock that never jumps: for elapsed time only, never a date. */
export const monotonicNow = (): number => performance.now()

// the three HTTP-date forms a recipient must accept (RFC 9110 §5.6.7): IMF-fixdate, the obsolete
// RFC 850 form and asctime (which is in GMT but does not say so)
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/
const RFC850_DATE = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/

/** An HTTP date in Unix ms; undefined when absent or not one of its forms. Pure. */
export function httpDate(value: string | null | undefined): number | undefined {
  const text = value?.trim() ?? ''
  let date = NaN
  if (IMF_FIXDATE.test(text) || RFC850_DATE.test(text)) date = Date.parse(text)
  else if (ASCTIME_DATE.test(text)) date = Date.parse(`${text} GMT`)
  return Number.isNaN(date) ? undefined : date
}

/** A Date header gives whole seconds: clocks that agree within this are taken to agree. */
const DATE_RESOLUTION_MS = 1_000

/**
 * The API's wall clock, learned from the Date header of each answer it sends: ours plus the
 * offset the last answer showed. Until an answer has told it, and while the two agree within the
 * header's resolution, it is ours.
 */
export class ServerClock {
  private offset = 0

  constructor(private readonly wallNow: () => number = Date.now) {}

  /** How far the API's clock is ahead of ours (behind: negative), in ms, as last seen. */
  get offsetMs(): number {
    return this.offset
  }

  /** Takes in an answer's Date header; one that is absent or no date changes nothing. */
  observe(date: string | null | undefined): void {
    const at = httpDate(date)
    if (at === undefined) return
    // the header drops the milliseconds: the API's time was somewhere in the second it names
    const skew = at + DATE_RESOLUTION_MS / 2 - this.wallNow()
    this.offset = Math.abs(skew) <= DATE_RESOLUTION_MS ? 0 : Math.round(skew)
  }

  /** Now, in Unix ms, by the API's clock as far as it is known. */
  now(): number {
    return this.wallNow() + this.offset
  }
}

/**
 * The one place that turns numbers, times and API text into text for people: the reports, the
 * policy's broken-rule messages, the event's reasons and the run's log lines all use it.
 */
import stripAnsi from 'strip-ansi'

/** Drops binary floating-point noise from sums (0.1 + 0.2 → 0.3); integers are left exact. */
export function tidy(value: number): number {
  return Number.isInteger(value) ? value : Number(value.toPrecision(15))
}

/**
 * A number as a plain decimal at full precision, for outputs that other steps parse:
 * no exponent (1e-7 → "0.0000001"), no separators, no rounding beyond the float itself.
 */
export function plainDecimal(value: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`)
  const text = String(value)
  const match = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text)
  if (!match) return text
  const [, sign, lead, fraction = '', exp] = match
  const digits = lead + fraction
  const point = 1 + Number(exp)
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`
}

/** The most a JavaScript Date can hold either side of 1970, in ms: ±100,000,000 days. */
export const MAX_DATE_MS = 8.64e15

/** Whether `ms` is a time a Date can hold (toISOString throws a RangeError on any other). */
export function isDateTime(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS
}

/**
 * A Unix ms time as ISO 8601 UTC; a number no Date can hold (a hostile answer's 1e300) is written
 * as it is and said to be so, never thrown on.
 */
export function formatTime(ms: number): string {
  return isDateTime(ms) ? new Date(ms).toISOString() : `${ms} ms (outside the range of dates)`
}

/** One formatter, made once: toLocaleString makes a new one on every call, tens of µs each. */
const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 })

/** 1234567 → "1,234,567" for people; outputs use plainDecimal. */
export function formatCount(value: number): string {
  return COUNT.format(value)
}

/** A count with its noun, singular or plural as the count asks: "1 evaluation", "2 evaluations". */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${formatCount(count)} ${count === 1 ? noun : nouns}`
}

/** A cost or a duration past this many dollars or hours is no real one: written with an exponent. */
const BEYOND_PEOPLE = 1e12

/**
 * USD with enough digits that small per-evaluation costs don't read as $0.00; `extra` digits more
 * only where a figure must read apart from its limit (figureAndLimit).
 */
export function formatCost(usd: number, extra = 0): string {
  if (usd === 0) return '$0'
  // a hostile answer's 1e308 would be 400 characters of digits, widening every table it is in
  if (usd >= BEYOND_PEOPLE) return `$${usd.toExponential(2 + extra)}`
  if (usd < 0.01) return `$${usd.toPrecision(2 + extra)}`
  return `$${costFormat(extra).format(usd)}`
}

const COST_FORMATS = new Map<number, Intl.NumberFormat>()

/** The cost formatter with `extra` digits more, made once each. */
function costFormat(extra: number): Intl.NumberFormat {
  let format = COST_FORMATS.get(extra)
  if (!format) {
    format = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: 2,
      maximumFractionDigits: 4 + extra
    })
    COST_FORMATS.set(extra, format)
  }
  return format
}

/** Milliseconds as "850 ms", "12.3 s", "4.2 min"; `extra` decimals more as formatCost's. */
export function formatDuration(ms: number, extra = 0): string {
  if (ms / 3_600_000 >= BEYOND_PEOPLE) return `${(ms / 3_600_000).toExponential(2 + extra)} h`
  if (ms < 1000) return `${Number(ms.toFixed(extra))} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1 + extra)} s`
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1 + extra)} min`
  return `${(ms / 3_600_000).toFixed(1 + extra)} h`
}

/** A 0..1 rate as a percentage with at most `digits` decimals: 0.875 → "87.5%". */
export function formatPercent(rate: number, digits = 1): string {
  return `${Number((rate * 100).toFixed(digits))}%`
}

/** A change of rate in percentage points: +2.5 pp, −10 pp, ±0 pp. */
export function formatPointsDelta(delta: number, digits = 1): string {
  const points = Number((delta * 100).toFixed(digits))
  if (points === 0) return '±0 pp'
  return `${points > 0 ? '+' : '−'}${Math.abs(points)} pp`
}

/** How a kind of figure is written with `extra` decimals beyond its usual ones. */
export type FigureWriter = (value: number, extra: number) => string

/** The writers a rule's figure and limit use: each kind of number by its one formatter. */
export const FIGURE: Readonly<
  Record<'count' | 'rate' | 'points' | 'cost' | 'duration', FigureWriter>
> = {
  count: value => formatCount(value),
  rate: (value, extra) => formatPercent(value, 1 + extra),
  points: (value, extra) => formatPointsDelta(value, 1 + extra),
  cost: formatCost,
  duration: formatDuration
}

/**
 * A figure and its limit as the reports write that kind of number (the totals and tables too), with
 * decimals added only where rounding would make a figure that differs from its limit read as equal
 * to it (a pass rate of 84.996% against 85%): the verdict, the rules table and the totals agree.
 */
export function figureAndLimit(
  figure: number,
  limit: number,
  write: FigureWriter
): [figure: string, limit: string] {
  let extra = 0
  while (figure !== limit && extra < 6 && write(figure, extra) === write(limit, extra)) extra += 1
  return [write(figure, extra), write(limit, extra)]
}

/** A change relative to a baseline: +12%, −3.5%, ±0%; — when the baseline is 0. */
export function formatRelativeDelta(now: number, before: number): string {
  if (before === 0) return now === 0 ? '±0%' : '—'
  const percent = Number((((now - before) / before) * 100).toFixed(1))
  if (percent === 0) return '±0%'
  return `${percent > 0 ? '+' : '−'}${Math.abs(percent)}%`
}

// What API text could use to inject: Markdown emphasis, code, links, images, table cells,
// strikethrough, math, HTML tags; autolinks (scheme://, www., e-mail) and @mentions. Each becomes a
// numeric character reference, which renders as the same character but is never read as structure,
// in Markdown and inside an HTML block (such as a <details> section) alike, where backslash escapes
// would not apply. An underscore between letters or digits (run_01) cannot open or close emphasis,
// so IDs stay readable.
const SPECIALS = /[\\`*[\]|!~$&<>"]|(?<![a-z0-9])_|_(?![a-z0-9])|:(?=\/\/)|@|(?<=www)\./gi
const toReference = (char: string) => `&#${char.charCodeAt(0)};`

// C0 and C1 controls, DEL, line and paragraph separators and the bidi controls: a reason holding
// U+202E would read backwards in the comment
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g

/**
 * The one escape for API text placed in Markdown (summary and comment): inert inside a table cell,
 * a line or an HTML block, on one line, and cut to `maxLength` so one hostile field cannot flood
 * the report.
 */
export function escapeMarkdown(text: string, maxLength = 120): string {
  // escape sequences go whole, so an OSC 8 link leaves no "]8;;https://…" text behind
  let value = stripAnsi(text).replace(CONTROLS, ' ')
  // by code point, so that a cut never leaves half an emoji
  const chars = Array.from(value)
  if (chars.length > maxLength) value = chars.slice(0, maxLength - 1).join('') + '…'
  return value.replace(SPECIALS, toReference)
}

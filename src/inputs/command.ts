/**
 * The command line's own inputs, which the action has not: --format, --policy-file and
 * --superseded-before. Their messages live here, beside every other input's.
 */
import { readFileSync } from 'node:fs'
import { formatTime } from '../format.js'
import { CLOCK_SKEW_MS } from '../github/event.js'
import { InputError, parseTime } from './settings.js'

export const REPORT_FORMATS = ['text', 'markdown', 'json'] as const
export type ReportFormat = (typeof REPORT_FORMATS)[number]

/** The report's format on stdout; text when not given. */
export function parseFormat(value: string | undefined): ReportFormat {
  const format = value ?? 'text'
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) {
    throw new InputError('format', `is "${format}"; accepted: ${REPORT_FORMATS.join(', ')}`)
  }
  return format as ReportFormat
}

/** The policy YAML in the file at `path`. */
export function readPolicyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new InputError('policy-file', `cannot be read: ${(error as Error).message}`)
  }
}

/**
 * The cutoff --superseded-before gives (Unix ms), or undefined. One later than `now` (plus the
 * clock skew the event's times are allowed) would cancel evaluations submitted after it: refused.
 */
export function parseSupersededBefore(value: string, now: number): number | undefined {
  const cutoff = parseTime('superseded-before', value, now)
  if (cutoff !== undefined && cutoff > now + CLOCK_SKEW_MS) {
    throw new InputError(
      'superseded-before',
      `is ${formatTime(cutoff)}, later than now (${formatTime(now)}) plus ${CLOCK_SKEW_MS / 60_000} min: it would cancel evaluations submitted after it. Give a time that has passed, such as the pipeline's start time`
    )
  }
  return cutoff
}

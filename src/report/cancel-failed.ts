/**
 * The one error for superseded evaluations whose cancel did not land: they may still be running
 * and billing, so the run fails for them once its report is written. Pure.
 */
import { plural } from '../format.js'
import type { CancelOutcome } from '../run/cancel.js'

/** Evaluations named in the error; the rest are counted (the summary and the output list all). */
export const MAX_NAMED = 10
/** An API message in the error is cut to this many characters. */
const MAX_REASON = 300

/**
 * What the headlines add when cancels did not land, since the run then fails whatever the gate:
 * "1 cancel did not land"; undefined when every cancel landed.
 */
export function cancelsNotLanded(cancel: Pick<CancelOutcome, 'failed'>): string | undefined {
  return cancel.failed.length > 0
    ? `${plural(cancel.failed.length, 'cancel')} did not land`
    : undefined
}

/** The error naming each evaluation still running and why; undefined when every cancel landed. */
export function cancelFailedMessage(cancel: Pick<CancelOutcome, 'failed'>): string | undefined {
  const { failed } = cancel
  if (failed.length === 0) return undefined
  const named = failed
    .slice(0, MAX_NAMED)
    .map(({ runId, promptId, message }) => `${runId} of prompt ${promptId} (${clip(message)})`)
  const more =
    failed.length > MAX_NAMED
      ? `; and ${failed.length - MAX_NAMED} more (the report lists them all)`
      : ''
  const them = failed.length === 1 ? 'it' : 'them'
  return `Could not cancel ${plural(failed.length, 'superseded evaluation')}, which may still be running and billing: ${named.join('; ')}${more}. Cancel ${them} in Adaline, or run again.`
}

function clip(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 1)}…` : line
}

/** A dataset row's input values as one line of text, the way every report shows them. Pure. */

/** `ticket: My invoice is wrong; expected: billing` (not escaped: each report escapes its own way). */
export function rowValues(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ')
}

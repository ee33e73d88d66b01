/**
 * The pieces of GitHub Markdown the summary and comment are built from: table rows, links, counts
 * as squares. API text reaches them escaped (escapeMarkdown); URLs are made safe here.
 */
import { escapeMarkdown } from '../format.js'

export type Align = 'left' | 'right' | 'center'

const RULE: Record<Align, string> = { left: '---', right: '---:', center: ':---:' }

/** A pipe table: its header, each column's alignment, and its rows of cells already escaped. */
export function table(header: string[], align: Align[], rows: string[][]): string[] {
  return [row(header), row(align.map(a => RULE[a])), ...rows.map(row)]
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

/**
 * A link whose text is already escaped; a URL that does not parse leaves the text alone. What
 * Markdown would read as structure in the URL (parentheses, brackets, a table's pipes, backslashes)
 * is percent-encoded and `&` written as a reference, so that no URL ends the link or the cell early.
 */
export function link(text: string, url: string): string {
  let href: string
  try {
    // the WHATWG serialisation percent-encodes spaces, quotes and angle brackets already
    href = new URL(url).href
  } catch {
    return text
  }
  const safe = href
    .replace(/[()'[\]|\\]/g, char => `%${char.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/&/g, '&amp;')
  return `[${text}](${safe})`
}

/** An identifier from the API, escaped (IDs are at most 80 characters). */
export function id(value: string): string {
  return escapeMarkdown(value, 80)
}

/** Squares in one line for the whole. */
export const CHART_WIDTH = 20

/**
 * How many of CHART_WIDTH squares each count gets: in proportion, by largest remainder, and at
 * least one for any count above zero, so a small share never vanishes.
 */
export function squaresOf(counts: readonly number[], width = CHART_WIDTH): number[] {
  const total = counts.reduce((sum, count) => sum + count, 0)
  if (total === 0) return counts.map(() => 0)
  const exact = counts.map(count => (count / total) * width)
  const squares = exact.map((share, i) => (counts[i]! > 0 ? Math.max(1, Math.floor(share)) : 0))
  const sum = () => squares.reduce((a, b) => a + b, 0)
  while (sum() < width) {
    let best = -1
    for (let i = 0; i < counts.length; i++)
      if (counts[i]! > 0 && (best < 0 || exact[i]! - squares[i]! > exact[best]! - squares[best]!))
        best = i
    squares[best] = squares[best]! + 1
  }
  while (sum() > width) {
    // the minimum of one square took room: give it back from the largest share
    let best = 0
    for (let i = 1; i < squares.length; i++) if (squares[i]! > squares[best]!) best = i
    squares[best] = squares[best]! - 1
  }
  return squares
}

/** Characters without a space after which a cell's text may break. */
const LONGEST_UNBROKEN = 32

/**
 * Escaped text that a table cell can wrap: a zero-width space after every LONGEST_UNBROKEN
 * characters of a run without whitespace (a URL, a hash, a title with no spaces), so that one
 * word cannot widen a table past the page. A character reference (`&#95;`) counts as one
 * character and is never split. For prose cells, not for IDs a reader copies.
 */
export function breakable(escaped: string): string {
  let run = 0
  return escaped.replace(/&#\d+;|\s|[^]/gu, unit => {
    if (/^\s$/u.test(unit)) {
      run = 0
      return unit
    }
    run += 1
    if (run <= LONGEST_UNBROKEN) return unit
    run = 1
    return `\u200b${unit}`
  })
}

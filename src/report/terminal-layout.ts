/**
 * The terminal report's means of layout: API text made inert for a terminal, paragraphs wrapped
 * to the width, and tables sized to it (cli-table3 draws them; wrap-ansi and string-width measure
 * what a terminal shows, emoji and CJK included). Pure.
 */
import Table from 'cli-table3'
import { createColors } from 'picocolors'
import stringWidth from 'string-width'
import stripAnsi from 'strip-ansi'
import wrapAnsi from 'wrap-ansi'

export type Colors = ReturnType<typeof createColors>

/** picocolors' functions, each a no-op when `enabled` is false. */
export function colors(enabled: boolean): Colors {
  return createColors(enabled)
}

// C0 and C1 controls (ESC, CSI, \r, \b, BEL…), DEL, line and paragraph separators, and the bidi
// controls, which could reorder what a terminal shows
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g

// Zero-width characters, joiners and skin-tone modifiers: terminals disagree on how wide the
// sequences they build are (👩‍👩‍👧 is 2 columns or 6), and so do string-width and cli-table3's own
// measure; without them every measure agrees (👩👩👧 is 6) and no cell is cut or overflows
const JOINERS = /[\u200b-\u200d\u2060\ufeff]|\p{Emoji_Modifier}/gu

/**
 * API text as a terminal may show it: escape sequences removed whole (a hostile answer cannot
 * move the cursor, clear the screen or colour the terminal), every other control character a
 * space, on one line, and cut to `maxLength` characters so one field cannot flood the report.
 */
export function terminalText(text: string, maxLength = 120): string {
  const value = stripAnsi(text)
    .replace(CONTROLS, ' ')
    .replace(JOINERS, '')
    .replace(/ {2,}/g, ' ')
    .trim()
  const chars = Array.from(value)
  return chars.length > maxLength ? `${chars.slice(0, maxLength - 1).join('')}…` : value
}

/** The columns a terminal gives `text` (its widest line), as string-width counts them. */
export function widthOf(text: string): number {
  return Math.max(0, ...text.split('\n').map(line => stringWidth(line)))
}

/** A paragraph wrapped at word boundaries to `width` columns; a longer word is broken. */
export function wrap(text: string, width: number, indent = ''): string[] {
  const inner = Math.max(1, width - widthOf(indent))
  return wrapAnsi(text, inner, { hard: true, trim: true })
    .split('\n')
    .map(line => indent + line)
}

export interface Column {
  header: string
  align?: 'left' | 'right'
  /**
   * set for a column of prose (titles, reasons): it wraps first, and gets this narrow before its
   * words are broken; other columns' words are never broken while the table can fit
   */
  min?: number
}

/** A row of cells, or a line across the whole table (a group's title). */
export type Row = string[] | { across: string }

/**
 * The rows of `items`, with several prompts grouped under a line naming each prompt (in the
 * order of `promptIds`); with one prompt, the rows alone.
 */
export function groupedByPrompt<T>(
  promptIds: readonly string[],
  items: readonly T[],
  promptOf: (item: T) => string,
  row: (item: T) => string[],
  c: Colors
): Row[] {
  if (promptIds.length <= 1) return items.map(row)
  const prompts = new Set([...promptIds, ...items.map(promptOf)])
  return [...prompts].flatMap(promptId => {
    const ofPrompt = items.filter(item => promptOf(item) === promptId)
    if (ofPrompt.length === 0) return []
    return [{ across: c.dim(`prompt ${terminalText(promptId, 80)}`) }, ...ofPrompt.map(row)]
  })
}

/** How narrow a column of prose gets before the other columns' headers wrap. */
const PROSE_WIDTH = 28

/** Two columns apart: one space of padding and one of separator. */
const GAP = 2

/**
 * A table of `rows` under `columns` that fits `width` columns: each column as wide as its widest
 * cell; when that is too wide, headers wrap first, then cells at word boundaries (the widest
 * column first), and a word is broken only when a column must get narrower than it. Header bold,
 * a rule under it.
 */
export function table(columns: Column[], rows: Row[], width: number, c: Colors): string[] {
  const widths = fitColumns(floors(columns, rows), width - GAP * (columns.length - 1))
  const cell = (text: string, i: number) => wrapAnsi(text, widths[i]!, { hard: true, trim: true })
  const drawn = new Table({
    head: columns.map((column, i) => cell(c.bold(column.header), i)),
    colWidths: widths.map(w => w + GAP - 1),
    colAligns: columns.map(column => column.align ?? 'left'),
    wordWrap: false,
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': GAP - 1 },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '─',
      'mid-mid': '─',
      right: '',
      'right-mid': '',
      middle: ' '
    }
  })
  const tableWidth = widths.reduce((sum, w) => sum + w, 0) + GAP * (columns.length - 1)
  for (const row of rows) {
    if (Array.isArray(row)) drawn.push(row.map(cell))
    else
      drawn.push([
        {
          colSpan: columns.length,
          content: wrapAnsi(row.across, tableWidth, { hard: true, trim: true })
        }
      ])
  }
  const lines = drawn
    .toString()
    .split('\n')
    .map(line => line.replace(/\s+$/, ''))
  // the rule under the header, as wide as the table's widest line
  const ruleWidth = Math.min(width, Math.max(...lines.map(widthOf)))
  return lines.map(line => (/^[─ ]+$/.test(stripAnsi(line)) ? '─'.repeat(ruleWidth) : line))
}

/** Whether the table fits `width` without breaking a word (or a column below its `min`). */
export function fitsWithoutBreaking(columns: Column[], rows: Row[], width: number): boolean {
  const narrowest = floors(columns, rows).at(-1) ?? []
  return narrowest.reduce((sum, w) => sum + w, 0) + GAP * (columns.length - 1) <= width
}

/** The widths to narrow to in turn: natural; headers wrapped; cells wrapped at words. */
function floors(columns: Column[], rows: Row[]): number[][] {
  const cellRows = rows.filter((row): row is string[] => Array.isArray(row))
  const widest = (i: number) => Math.max(0, ...cellRows.map(row => widthOf(row[i] ?? '')))
  const natural = columns.map((column, i) => Math.max(widthOf(column.header), widest(i)))
  return [
    natural,
    // a column of prose (one with a min) wraps to a readable width before any header wraps
    natural.map((w, i) => {
      const min = columns[i]!.min
      return min === undefined ? w : Math.min(w, Math.max(min, PROSE_WIDTH))
    }),
    columns.map((column, i) => Math.max(longestWord(column.header), widest(i))),
    columns.map(
      (column, i) =>
        column.min ??
        Math.max(longestWord(column.header), ...cellRows.map(row => longestWord(row[i] ?? '')))
    )
  ]
}

/**
 * Column widths that add up to at most `available`: the first of `floors` (the natural widths),
 * narrowed one column at a time (the one with the most room above the next floor) until they fit,
 * floor after floor; below the last floor only when it does not fit. No column gets narrower than 1.
 */
export function fitColumns(floors: number[][], available: number): number[] {
  const [natural = [], ...lower] = floors
  const widths = natural.map(w => Math.max(1, w))
  const total = () => widths.reduce((sum, w) => sum + w, 0)
  for (const floor of [...lower, widths.map(() => 1)]) {
    const limit = floor.map((f, i) => Math.max(1, Math.min(f, widths[i]!)))
    while (total() > available) {
      let pick = -1
      for (let i = 0; i < widths.length; i += 1) {
        const room = widths[i]! - limit[i]!
        if (room > 0 && (pick < 0 || room > widths[pick]! - limit[pick]!)) pick = i
      }
      if (pick < 0) break
      widths[pick] = widths[pick]! - 1
    }
  }
  return widths
}

/**
 * Parts joined with " · ", as many on a line as `width` allows, so that a line never starts with
 * the separator; a part wider than a line is wrapped on its own.
 */
export function joinParts(parts: string[], width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const part of parts) {
    const joined = line ? `${line} · ${part}` : part
    if (widthOf(joined) <= width) {
      line = joined
      continue
    }
    if (line) lines.push(line)
    const wrapped = wrap(part, width)
    line = wrapped.pop() ?? ''
    lines.push(...wrapped)
  }
  if (line) lines.push(line)
  return lines
}

function longestWord(text: string): number {
  return Math.max(
    0,
    ...stripAnsi(text)
      .split(/\s+/)
      .map(word => stringWidth(word))
  )
}

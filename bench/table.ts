/** The benchmark's one table, in Markdown: a line per figure, then the footnotes. Pure. */

export interface Figure {
  /** row number and letter, e.g. `1b` */
  id: string
  what: string
  measured: string
  /** `—` for a figure that is only reported */
  goal: string
  /** undefined: only reported, or skipped */
  met?: boolean
  /** a miss fails `--quick` too; time ratios never do (shared CI machines are noisy) */
  gatesQuick: boolean
}

/** Whether the run missed a goal that counts in this mode. */
export function missed(figures: readonly Figure[], quick: boolean): Figure[] {
  return figures.filter(f => f.met === false && (!quick || f.gatesQuick))
}

export function renderTable(figures: readonly Figure[], footnotes: readonly string[]): string {
  const mark = (met?: boolean) => (met === undefined ? '—' : met ? '✓' : '✗')
  const rows = [
    ['#', 'measure', 'measured', 'goal', 'met'],
    ...figures.map(f => [f.id, f.what, f.measured, f.goal, mark(f.met)])
  ]
  // at least 3 wide, as Prettier formats Markdown tables: the output pastes into README.md as is
  const widths = rows[0]!.map((_, column) =>
    Math.max(3, ...rows.map(row => [...row[column]!].length))
  )
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell + ' '.repeat(widths[column]! - [...cell].length)).join(' | ')} |`
  const separator = `| ${widths.map(width => '-'.repeat(width)).join(' | ')} |`
  return [line(rows[0]!), separator, ...rows.slice(1).map(line), '', ...footnotes].join('\n')
}

/** `1.23` */
export function ratio(value: number): string {
  return value.toFixed(2)
}

/** `1,234 ms` */
export function ms(value: number): string {
  return `${Math.round(value).toLocaleString('en-US')} ms`
}

/** `1.23 s` */
export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}

/** `12.3 MiB` */
export function mebibytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

export function count(value: number): string {
  return value.toLocaleString('en-US')
}

/** Pairs a judged evaluation's per-row results with its baseline's by rowId and counts what changed. Pure. */
import type { Result } from '../adaline/schema.js'

/** One row's result as the comparison needs it: the API's fields, with the row's input values lifted up. */
export type RowResult = Pick<Result, 'rowId' | 'grade'> &
  Partial<Pick<Result, 'score' | 'reason'>> & {
    values?: Record<string, unknown>
  }

/** The comparison's view of an API result (`row.values` becomes `values`). */
export function rowResultFrom(result: Result): RowResult {
  const { rowId, grade, score, reason, row } = result
  return { rowId, grade, score, reason, ...(row ? { values: row.values } : {}) }
}

/** What one side said about a row. */
export type RowGrade = Pick<RowResult, 'grade' | 'score' | 'reason'>

/** A row that passed in the baseline and fails now, with both sides' words. */
export interface NewlyFailingRow {
  rowId: string
  baseline: RowGrade
  judged: RowGrade
  /** The row's input values: the judged side's, else the baseline's (one dataset, so the same row). */
  values?: Record<string, unknown>
}

export interface RowComparison {
  bothPass: number
  bothFail: number
  /** Pass in the baseline, fail now: McNemar's b. */
  newlyFailing: number
  /** Fail in the baseline, pass now: McNemar's c. */
  newlyPassing: number
  /** Paired rows whose grade is unknown on either side: neither a gain nor a loss. */
  unknown: number
  /** Rows in the baseline only: not paired, not counted above. */
  onlyBaseline: number
  /** Rows in the judged evaluation only: not paired, not counted above. */
  onlyJudged: number
  /** Results dropped because their rowId came earlier on the same side (see pairRows). */
  duplicates: { baseline: number; judged: number }
  /** The newly failing rows, ordered by rowId (code-unit order, the same on every machine). */
  newlyFailingRows: NewlyFailingRow[]
}

/**
 * Pairs the two sides' results by rowId and counts the pairs by (baseline grade, judged grade).
 *
 * A rowId that appears more than once on one side (a retried row, pages that overlapped) is one
 * row: its first result is kept and the others are counted in `duplicates`. If the copies disagree
 * on the grade, that side's grade is taken as unknown: conflicting evidence is not a change either
 * way, so a row is never counted twice and never counted as discordant on a guess.
 *
 * Linear in the rows, plus k log k to order the k newly failing ones.
 */
export function pairRows(baseline: RowResult[], judged: RowResult[]): RowComparison {
  const before = firstByRowId(baseline)
  const after = firstByRowId(judged)
  const comparison: RowComparison = {
    bothPass: 0,
    bothFail: 0,
    newlyFailing: 0,
    newlyPassing: 0,
    unknown: 0,
    onlyBaseline: 0,
    onlyJudged: 0,
    duplicates: { baseline: before.duplicates, judged: after.duplicates },
    newlyFailingRows: []
  }
  for (const [rowId, was] of before.rows) {
    const now = after.rows.get(rowId)
    if (!now) comparison.onlyBaseline++
    else if (was.grade === 'unknown' || now.grade === 'unknown') comparison.unknown++
    else if (was.grade === 'pass' && now.grade === 'pass') comparison.bothPass++
    else if (was.grade === 'fail' && now.grade === 'fail') comparison.bothFail++
    else if (was.grade === 'fail') comparison.newlyPassing++
    else {
      comparison.newlyFailing++
      comparison.newlyFailingRows.push(newlyFailingRow(rowId, was, now))
    }
  }
  for (const rowId of after.rows.keys()) if (!before.rows.has(rowId)) comparison.onlyJudged++
  // not localeCompare: the order must not depend on the runner's locale
  comparison.newlyFailingRows.sort((a, b) => (a.rowId < b.rowId ? -1 : a.rowId > b.rowId ? 1 : 0))
  return comparison
}

/** The paired rows: every row present on both sides, whatever its grades. */
export function pairedRows(comparison: RowComparison): number {
  const { bothPass, bothFail, newlyFailing, newlyPassing, unknown } = comparison
  return bothPass + bothFail + newlyFailing + newlyPassing + unknown
}

/** Each rowId's first result (unknown if a later copy disagrees), and how many copies were dropped. */
function firstByRowId(results: RowResult[]): { rows: Map<string, RowResult>; duplicates: number } {
  const rows = new Map<string, RowResult>()
  let duplicates = 0
  for (const result of results) {
    const first = rows.get(result.rowId)
    if (!first) {
      rows.set(result.rowId, result)
      continue
    }
    duplicates++
    if (first.grade !== result.grade && first.grade !== 'unknown')
      rows.set(result.rowId, { ...first, grade: 'unknown' })
  }
  return { rows, duplicates }
}

function newlyFailingRow(rowId: string, was: RowResult, now: RowResult): NewlyFailingRow {
  const values = now.values ?? was.values
  return {
    rowId,
    baseline: gradeOf(was),
    judged: gradeOf(now),
    ...(values ? { values } : {})
  }
}

function gradeOf({ grade, score, reason }: RowResult): RowGrade {
  return { grade, score: score ?? null, reason: reason ?? null }
}

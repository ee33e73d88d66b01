/**
 * "What changed since the baseline": each judged evaluation compared row by row with its baseline,
 * as Markdown for the summary and comment, and as plain lines for the terminal. Pure; API text is
 * escaped (Markdown) or stripped of control characters (terminal) and clipped.
 */
import type { Evaluation } from '../adaline/schema.js'
import { escapeMarkdown, formatCount, formatPercent, plainDecimal } from '../format.js'
import type { NewlyFailingRow, RowComparison, RowGrade } from '../judge/pairing.js'
import type { Comparison } from '../judge/regressions.js'
import { DEFAULT_SIGNIFICANCE, verdictText } from '../judge/significance.js'
import type { RunReport } from '../run/run-report.js'
import { MAX_EVALUATIONS_WITH_ROWS, ROWS_PER_EVALUATION } from '../run/rows.js'

/** A baseline submitted longer than this before the run may no longer say what "before" was. */
export const STALE_AFTER_MS = 30 * 24 * 3_600_000
/** Evaluations in the comparison table, at most (the summary halves it to fit its size limit). */
const MAX_COMPARED_SHOWN = 100

/** One judged evaluation's comparison, with what the report says beside it. */
interface Shown {
  runId: string
  comparison: Comparison
  baseline?: Evaluation
  pinned: boolean
  /** days between the baseline's submission and the run's start, when more than 30 */
  staleDays?: number
}

/** The comparisons in judged order. */
function shownOf(report: RunReport): Shown[] {
  const pinned = new Set(report.pinnedBaselines ?? [])
  const now = report.timing?.startedAt
  return report.gathered.judged.flatMap(({ evaluation }) => {
    const comparison = report.comparisons?.get(evaluation.runId)
    if (!comparison) return []
    const baseline = report.baselines.get(evaluation.runId)?.evaluation
    const age = baseline && now !== undefined ? now - baseline.timeline.submittedAt : 0
    return [
      {
        runId: evaluation.runId,
        comparison,
        baseline,
        pinned: pinned.has(comparison.baselineRunId),
        ...(age > STALE_AFTER_MS ? { staleDays: Math.floor(age / (24 * 3_600_000)) } : {})
      }
    ]
  })
}

/** The p-value's meaning, once, in words a reviewer reads. */
function meaning(report: RunReport): string {
  const level = formatPercent(report.policy?.significance ?? DEFAULT_SIGNIFICANCE, 2)
  return `Each judged evaluation's rows are paired with its baseline's by row ID. p is the chance that at least as many of the rows that changed would have changed for the worse if every change were a coin flip (McNemar's exact test): below ${level} a drop is called a regression, otherwise within noise.`
}

/** The Markdown section, after the baseline table; nothing when the run compared no rows. */
export function changesMarkdown(report: RunReport, maxRows = MAX_COMPARED_SHOWN): string[] {
  const shown = shownOf(report)
  if (shown.length === 0) return []
  const lines = ['### What changed since the baseline', '', meaning(report), '']
  const header = [
    'Run vs baseline',
    'Verdict',
    'Both pass',
    'Both fail',
    'Newly failing',
    'Newly passing',
    'Unknown',
    'One side only'
  ]
  const compared = shown.filter(s => s.comparison.compared)
  const listed = compared.slice(0, Math.min(maxRows, MAX_COMPARED_SHOWN))
  if (listed.length > 0) {
    lines.push(row(header), row(header.map(() => '---')))
    for (const { runId, comparison, pinned } of listed) {
      if (!comparison.compared) continue
      const { rows, verdict } = comparison
      lines.push(
        row([
          `${code(runId)}<br>vs ${code(comparison.baselineRunId)}${pinned ? ' (pinned)' : ''}`,
          verdict.kind === 'regression' ? `**${verdictText(verdict)}**` : verdictText(verdict),
          formatCount(rows.bothPass),
          formatCount(rows.bothFail),
          formatCount(rows.newlyFailing),
          formatCount(rows.newlyPassing),
          formatCount(rows.unknown),
          formatCount(rows.onlyBaseline + rows.onlyJudged)
        ])
      )
    }
    lines.push('')
  }
  if (compared.length > listed.length)
    lines.push(
      `… and ${formatCount(compared.length - listed.length)} more compared evaluation(s) not shown.`,
      ''
    )
  for (const { runId, comparison } of shown)
    if (!comparison.compared)
      lines.push(
        `- ${code(runId)} was **not compared** with its baseline ${code(comparison.baselineRunId)}: ${escapeMarkdown(comparison.reason, 300)}.`
      )
  if (shown.some(s => !s.comparison.compared)) lines.push('')
  const stale = shown.filter(s => s.staleDays !== undefined)
  if (stale.length > 0) {
    const named = stale
      .slice(0, 5)
      .map(
        s =>
          `${code(s.comparison.baselineRunId)} (of ${code(s.runId)}, ${formatCount(s.staleDays!)} days)`
      )
      .join(', ')
    const more = stale.length > 5 ? ` and ${formatCount(stale.length - 5)} more` : ''
    lines.push(
      `> ⚠️ ${stale.length === 1 ? 'A baseline was' : 'Baselines were'} submitted more than 30 days before this run and may be stale: ${named}${more}. Pin a recent one with \`baseline-run-id\`.`,
      ''
    )
  }
  const perEvaluation = Math.min(ROWS_PER_EVALUATION, Math.ceil(maxRows / 5))
  for (const { runId, comparison } of compared.slice(0, MAX_EVALUATIONS_WITH_ROWS)) {
    if (!comparison.compared || comparison.rows.newlyFailingRows.length === 0) continue
    const rows = comparison.rows.newlyFailingRows.slice(0, perEvaluation)
    lines.push(
      '<details>',
      `<summary>${code(runId)}: ${formatCount(comparison.rows.newlyFailing)} newly failing row(s) (showing ${formatCount(rows.length)})</summary>`,
      '',
      row(['Row', 'Input', 'Baseline', 'Now']),
      row(['---', '---', '---', '---']),
      ...rows.map(failing =>
        row([
          code(failing.rowId),
          failing.values ? escapeMarkdown(valuesLine(failing.values), 120) : '—',
          escapeMarkdown(gradeLine(failing.baseline), 200),
          escapeMarkdown(gradeLine(failing.judged), 200)
        ])
      ),
      '',
      '</details>',
      ''
    )
  }
  return lines
}

/** The same facts as plain lines for the terminal report: no Markdown, no control characters. */
export function changesText(report: RunReport): string[] {
  const shown = shownOf(report)
  if (shown.length === 0) return []
  const lines = ['What changed since the baseline', `  ${meaning(report)}`]
  for (const { runId, comparison, pinned, staleDays } of shown) {
    const baseline = `${plain(comparison.baselineRunId, 80)}${pinned ? ' (pinned)' : ''}`
    if (!comparison.compared) {
      lines.push(
        `  ${plain(runId, 80)} vs ${baseline}: not compared: ${plain(comparison.reason, 300)}`
      )
      continue
    }
    lines.push(
      `  ${plain(runId, 80)} vs ${baseline}: ${verdictText(comparison.verdict)}; ${countsText(comparison.rows)}`
    )
    if (staleDays !== undefined)
      lines.push(
        `    the baseline was submitted ${formatCount(staleDays)} days before this run: it may be stale`
      )
    for (const failing of comparison.rows.newlyFailingRows.slice(0, ROWS_PER_EVALUATION))
      lines.push(`    newly failing ${rowText(failing)}`)
    const more = comparison.rows.newlyFailingRows.length - ROWS_PER_EVALUATION
    if (more > 0) lines.push(`    … and ${formatCount(more)} more newly failing row(s)`)
  }
  return lines
}

function countsText(rows: RowComparison): string {
  return [
    `${formatCount(rows.newlyFailing)} newly failing`,
    `${formatCount(rows.newlyPassing)} newly passing`,
    `${formatCount(rows.bothPass)} both pass`,
    `${formatCount(rows.bothFail)} both fail`,
    `${formatCount(rows.unknown)} unknown either side`,
    `${formatCount(rows.onlyBaseline + rows.onlyJudged)} on one side only`
  ].join(', ')
}

function rowText(failing: NewlyFailingRow): string {
  const input = failing.values ? ` (${plain(valuesLine(failing.values), 120)})` : ''
  return `${plain(failing.rowId, 80)}${input}: was ${plain(gradeLine(failing.baseline), 200)}; now ${plain(gradeLine(failing.judged), 200)}`
}

/** "pass (score 1): cites the source" */
function gradeLine({ grade, score, reason }: RowGrade): string {
  const scored = score == null ? '' : ` (score ${plainDecimal(score)})`
  return `${grade}${scored}${reason ? `: ${reason}` : ''}`
}

/** A row's input values on one line: `ticket: My invoice is wrong; expected: billing`. */
function valuesLine(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ')
}

/** API text for a terminal: control characters (escape sequences among them) become spaces; clipped. */
function plain(text: string, maxLength: number): string {
  const value = text.replace(
    // eslint-disable-next-line no-control-regex -- stripping control characters is the point
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g,
    ' '
  )
  return value.length > maxLength ? `${value.slice(0, maxLength - 1)}…` : value
}

function code(id: string): string {
  return escapeMarkdown(id, 80)
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

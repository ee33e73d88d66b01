/**
 * "What changed since the baseline": each judged evaluation compared row by row with its baseline.
 * `changesOf` gathers the facts both reports show; `changesMarkdown` writes them for the summary
 * and comment (the terminal report draws its own tables from the same facts). Pure; API text is
 * escaped.
 */
import type { Evaluation } from '../adaline/schema.js'
import { escapeMarkdown, formatCount, formatPercent, plainDecimal, plural } from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import type { NewlyFailingRow, RowComparison, RowGrade } from '../judge/pairing.js'
import type { Comparison } from '../judge/regressions.js'
import { DEFAULT_SIGNIFICANCE, verdictText } from '../judge/significance.js'
import { INPUT_NAMING, type SettingNaming } from '../judge/policy.js'
import type { RunReport } from '../run/run-report.js'
import { MAX_EVALUATIONS_WITH_ROWS, ROWS_PER_EVALUATION } from '../run/rows.js'
import { evaluatorName, tableNamer } from './evaluations.js'
import { breakable, id, table } from './markdown.js'
import { rowValues } from './row-values.js'

/** A baseline submitted longer than this before the run may no longer say what "before" was. */
export const STALE_AFTER_MS = 30 * 24 * 3_600_000
/** Evaluations in the comparison table, at most (the summary shrinks it to fit its size limit). */
const MAX_COMPARED_SHOWN = 100

/** One judged evaluation's comparison, with what the reports say beside it. */
export interface Change {
  item: Listed
  comparison: Comparison
  baseline?: Evaluation
  pinned: boolean
  /** days between the baseline's submission and the run's start, when more than 30 */
  staleDays?: number
}

/** The comparisons, in judged order. */
export function changesOf(report: RunReport): Change[] {
  const pinned = new Set(report.pinnedBaselines ?? [])
  const now = report.timing?.startedAt
  return report.gathered.judged.flatMap(item => {
    const comparison = report.comparisons?.get(item.evaluation.runId)
    if (!comparison) return []
    const baseline = report.baselines.get(item.evaluation.runId)?.evaluation
    const age = baseline && now !== undefined ? now - baseline.timeline.submittedAt : 0
    return [
      {
        item,
        comparison,
        baseline,
        pinned: pinned.has(comparison.baselineRunId),
        ...(age > STALE_AFTER_MS ? { staleDays: Math.floor(age / (24 * 3_600_000)) } : {})
      }
    ]
  })
}

/** The compared ones whose newly failing rows are shown: the most newly failing rows first. */
export function withNewFailures(changes: readonly Change[]): Change[] {
  return changes
    .filter(change => change.comparison.compared && change.comparison.rows.newlyFailing > 0)
    .sort((a, b) => newlyFailing(b) - newlyFailing(a))
    .slice(0, MAX_EVALUATIONS_WITH_ROWS)
}

function newlyFailing({ comparison }: Change): number {
  return comparison.compared ? comparison.rows.newlyFailing : 0
}

/** On a pass, the rules that held only because their breach is within noise. */
export function noiseClause(verdict: RunReport['verdict']): string {
  const held = verdict.checks.filter(check => check.ok && check.warning).length
  if (held === 0) return ''
  return held === 1
    ? '; one of them only because its breach is within noise'
    : `; ${formatCount(held)} of them only because their breach is within noise`
}

/** The p-value's meaning, once, in words a reviewer reads. */
export function meaning(report: RunReport): string {
  const level = formatPercent(report.policy?.significance ?? DEFAULT_SIGNIFICANCE, 2)
  return `Rows are paired with the baseline's by row ID. p is the chance of a drop at least this large if each row that changed had changed by a coin flip (McNemar's exact test): below ${level} the drop is a regression, otherwise within noise.`
}

/** Rows that are in the comparison but not a pair of known grades: unknown either side, one side only. */
export function notPaired(rows: RowComparison): number {
  return rows.unknown + rows.onlyBaseline + rows.onlyJudged
}

/** "pass (score 1): cites the source" */
export function gradeLine({ grade, score, reason }: RowGrade): string {
  const scored = score == null ? '' : ` (score ${plainDecimal(score)})`
  return `${grade}${scored}${reason ? `: ${reason}` : ''}`
}

/** What a newly failing row is known by: its input values, else its row ID. */
export function rowLabel(row: NewlyFailingRow): { values?: string; rowId: string } {
  return row.values && Object.keys(row.values).length > 0
    ? { values: rowValues(row.values), rowId: row.rowId }
    : { rowId: row.rowId }
}

/** The Markdown section, after the judged evaluations; nothing when the run compared no rows. */
export function changesMarkdown(
  report: RunReport,
  maxRows = MAX_COMPARED_SHOWN,
  naming: SettingNaming = INPUT_NAMING
): string[] {
  const changes = changesOf(report)
  if (changes.length === 0) return []
  const nameOf = tableNamer(report)
  const lines = ['### What changed since the baseline', '', meaning(report), '']
  const compared = changes.filter(change => change.comparison.compared)
  const listed = compared.slice(0, Math.min(maxRows, MAX_COMPARED_SHOWN))
  if (listed.length > 0) {
    lines.push(
      ...table(
        [
          'Evaluator',
          'Verdict',
          'Newly failing',
          'Newly passing',
          'Unchanged pass / fail',
          'Not paired'
        ],
        ['left', 'left', 'right', 'right', 'right', 'right'],
        listed.map(change => {
          const { rows, verdict } = change.comparison as Extract<Comparison, { compared: true }>
          const words = verdictText(verdict)
          return [
            nameOf(change.item),
            verdict.kind === 'regression' ? `**${words}**` : words,
            formatCount(rows.newlyFailing),
            formatCount(rows.newlyPassing),
            `${formatCount(rows.bothPass)} / ${formatCount(rows.bothFail)}`,
            formatCount(notPaired(rows))
          ]
        })
      ),
      ''
    )
    if (compared.length > listed.length)
      lines.push(
        `… and ${plural(compared.length - listed.length, 'more compared evaluation')}.`,
        ''
      )
  }
  const notCompared = changes.filter(change => !change.comparison.compared)
  for (const change of notCompared.slice(0, MAX_COMPARED_SHOWN)) {
    if (change.comparison.compared) continue
    lines.push(
      `- ⚠️ ${nameOf(change.item)} was not compared with its baseline: ${escapeMarkdown(change.comparison.reason, 300)}.`
    )
  }
  if (notCompared.length > MAX_COMPARED_SHOWN)
    lines.push(`- … and ${plural(notCompared.length - MAX_COMPARED_SHOWN, 'more')}.`)
  if (notCompared.length > 0) lines.push('')
  lines.push(...staleNote(report, changes, naming))
  const perEvaluation = Math.min(ROWS_PER_EVALUATION, Math.ceil(maxRows / 5))
  for (const change of withNewFailures(changes))
    lines.push(...newlyFailingSection(report, change, perEvaluation))
  lines.push(...idsSection(changes, maxRows))
  return lines
}

function staleNote(report: RunReport, changes: readonly Change[], naming: SettingNaming): string[] {
  const stale = changes.filter(change => change.staleDays !== undefined)
  if (stale.length === 0) return []
  const named = stale
    .slice(0, 5)
    .map(change => `${evaluatorName(report, change.item)} (${plural(change.staleDays!, 'day')})`)
    .join(', ')
  const more = stale.length > 5 ? ` and ${formatCount(stale.length - 5)} more` : ''
  return [
    `> ⚠️ ${stale.length === 1 ? 'A baseline was' : 'Baselines were'} submitted more than 30 days before this run and may be stale: ${named}${more}. Pin a recent one with \`${naming.nameOf('baseline-run-id')}\`.`,
    ''
  ]
}

function newlyFailingSection(report: RunReport, change: Change, perEvaluation: number): string[] {
  if (!change.comparison.compared) return []
  const { rows } = change.comparison
  const shown = rows.newlyFailingRows.slice(0, perEvaluation)
  return [
    '<details>',
    `<summary>${evaluatorName(report, change.item, 80)}: ${plural(rows.newlyFailing, 'newly failing row')} (showing ${formatCount(shown.length)})</summary>`,
    '',
    ...table(
      ['Row', 'Baseline', 'Now'],
      ['left', 'left', 'left'],
      shown.map(row => {
        const label = rowLabel(row)
        return [
          label.values ? breakable(escapeMarkdown(label.values, 120)) : id(label.rowId),
          breakable(escapeMarkdown(gradeLine(row.baseline), 200)),
          breakable(escapeMarkdown(gradeLine(row.judged), 200))
        ]
      })
    ),
    '',
    '</details>',
    ''
  ]
}

/** The run IDs compared, folded away like the evaluations' IDs. */
function idsSection(changes: readonly Change[], maxRows: number): string[] {
  const listed = changes.slice(0, maxRows)
  return [
    '<details>',
    '<summary>Runs compared</summary>',
    '',
    ...listed.map(({ item, comparison, pinned }) => {
      const counts = comparison.compared ? ` · ${unpairedText(comparison.rows)}` : ''
      return `- ${id(item.evaluation.runId)} vs baseline ${id(comparison.baselineRunId)}${pinned ? ' (pinned)' : ''}${counts}`
    }),
    ...(changes.length > listed.length
      ? [`- … and ${formatCount(changes.length - listed.length)} more`]
      : []),
    '',
    '</details>',
    ''
  ]
}

/** "2 unknown either side, 1 in the baseline only, 0 in this run only" */
export function unpairedText(rows: RowComparison): string {
  return `${formatCount(rows.unknown)} unknown either side, ${formatCount(rows.onlyBaseline)} in the baseline only, ${formatCount(rows.onlyJudged)} in this run only`
}

/**
 * The summary's failing rows: one collapsed section per evaluation whose rows were fetched, those
 * that broke a rule first, titled with the evaluator's name. Pure; API text is escaped.
 */
import type { Result } from '../adaline/schema.js'
import {
  escapeMarkdown,
  formatCost,
  formatCount,
  formatDuration,
  plainDecimal,
  plural
} from '../format.js'
import { brokeARule } from '../judge/checks.js'
import type { RunReport } from '../run/run-report.js'
import { evaluatorName } from './evaluations.js'
import { breakable, id, table } from './markdown.js'
import { rowValues } from './row-values.js'

/** Sections of at most `perEvaluation` rows each, then how many evaluations got none. */
export function failingRowSections(report: RunReport, perEvaluation: number): string[] {
  const { gathered, failingRows } = report
  const broke = brokeARule(report.verdict.checks)
  const ordered = [
    ...gathered.judged.filter(item => broke.has(item.evaluation.runId)),
    ...gathered.judged.filter(item => !broke.has(item.evaluation.runId))
  ]
  const lines: string[] = []
  let withoutSection = 0
  for (const item of ordered) {
    const results = failingRows.get(item.evaluation.runId)
    const { failRuns, unknownRuns } = item.evaluation.metrics
    if (!results) {
      // beyond the cap of evaluations whose rows are fetched, or their rows could not be fetched
      if (failRuns + unknownRuns > 0) withoutSection += 1
      continue
    }
    const shown = results.slice(0, perEvaluation)
    const shownOf = (grade: Result['grade']) =>
      formatCount(shown.filter(result => result.grade === grade).length)
    lines.push(
      '<details>',
      `<summary>${broke.has(item.evaluation.runId) ? '❌ ' : ''}${evaluatorName(report, item, 80)} (${id(item.evaluation.runId)}): ${formatCount(failRuns)} fail, ${formatCount(unknownRuns)} unknown (showing ${shownOf('fail')} fail, ${shownOf('unknown')} unknown)</summary>`,
      '',
      ...table(
        ['Grade', 'Score', 'Reason', 'Input', 'Cost', 'Latency'],
        ['left', 'right', 'left', 'left', 'right', 'right'],
        shown.map(result => [
          result.grade,
          result.score == null ? '—' : plainDecimal(result.score),
          result.reason ? breakable(escapeMarkdown(result.reason, 160)) : '—',
          result.row ? breakable(escapeMarkdown(rowValues(result.row.values), 120)) : '—',
          result.cost == null ? '—' : formatCost(result.cost),
          result.latency == null ? '—' : formatDuration(result.latency)
        ])
      ),
      '',
      '</details>',
      ''
    )
  }
  if (withoutSection > 0)
    lines.push(
      `… and ${plural(withoutSection, 'more evaluation')} with failing or unknown rows not shown.`,
      ''
    )
  return lines
}

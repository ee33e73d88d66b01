/**
 * The terminal report's "What changed since the baseline": the same facts as the summary's section
 * (changes.ts), as tables sized to the terminal. Pure.
 */
import { formatCount, plural } from '../format.js'
import type { Comparison } from '../judge/regressions.js'
import { verdictText } from '../judge/significance.js'
import type { RunReport } from '../run/run-report.js'
import {
  changesOf,
  gradeLine,
  meaning,
  notPaired,
  rowLabel,
  unpairedText,
  withNewFailures,
  type Change
} from './changes.js'
import { groupedByPrompt, table, terminalText, wrap, type Colors } from './terminal-layout.js'

/** Newly failing rows shown for each evaluation. */
const ROWS_EACH = 5
/** Compared evaluations in the table. */
const MAX_SHOWN = 50

/** The section's blocks; none when the run compared no rows. */
export function changesBlocks(report: RunReport, width: number, c: Colors): string[][] {
  const changes = changesOf(report)
  if (changes.length === 0) return []
  const first = [c.bold('What changed since the baseline'), ...wrap(c.dim(meaning(report)), width)]
  const compared = changes.filter(change => change.comparison.compared)
  const shown = compared.slice(0, MAX_SHOWN)
  if (shown.length > 0)
    first.push(
      ...table(
        [
          { header: 'Evaluator', min: 12 },
          { header: 'Verdict', min: 10 },
          { header: 'Newly failing', align: 'right' },
          { header: 'Newly passing', align: 'right' },
          { header: 'Unchanged pass / fail', align: 'right' },
          { header: 'Not paired', align: 'right' }
        ],
        groupedByPrompt(
          report.promptIds,
          shown,
          change => change.item.promptId,
          change => {
            const { rows, verdict } = change.comparison as Extract<Comparison, { compared: true }>
            const words = verdictText(verdict)
            return [
              title(report, change),
              verdict.kind === 'regression'
                ? c.red(c.bold(words))
                : verdict.kind === 'improvement'
                  ? c.green(words)
                  : words,
              formatCount(rows.newlyFailing),
              formatCount(rows.newlyPassing),
              `${formatCount(rows.bothPass)} / ${formatCount(rows.bothFail)}`,
              formatCount(notPaired(rows))
            ]
          },
          c
        ),
        width,
        c
      )
    )
  if (compared.length > shown.length)
    first.push(
      ...wrap(
        `… and ${plural(compared.length - shown.length, 'more compared evaluation')} (--format json lists all).`,
        width
      )
    )
  for (const change of changes)
    if (!change.comparison.compared)
      first.push(
        ...wrap(
          c.yellow(
            `! ${title(report, change)} was not compared with its baseline: ${terminalText(change.comparison.reason, 300)}.`
          ),
          width
        )
      )
  for (const change of changes)
    if (change.staleDays !== undefined)
      first.push(
        ...wrap(
          c.yellow(
            `! ${title(report, change)}: the baseline was submitted ${plural(change.staleDays, 'day')} before this run and may be stale (pin a recent one with --baseline-run-id).`
          ),
          width
        )
      )
  return [first, ...withNewFailures(changes).map(change => rowsBlock(report, change, width, c))]
}

function title(report: RunReport, { item }: Change): string {
  const { evaluatorId } = item.evaluation
  return terminalText(report.evaluatorTitles?.get(evaluatorId) ?? evaluatorId, 200)
}

function rowsBlock(report: RunReport, change: Change, width: number, c: Colors): string[] {
  if (!change.comparison.compared) return []
  const { rows, baselineRunId } = change.comparison
  const shown = rows.newlyFailingRows.slice(0, ROWS_EACH)
  const lines = [
    ...wrap(c.bold(`Newly failing: ${title(report, change)}`), width),
    ...wrap(
      c.dim(
        `${terminalText(change.item.evaluation.runId, 80)} vs baseline ${terminalText(baselineRunId, 80)}${change.pinned ? ' (pinned)' : ''} · ${plural(rows.newlyFailing, 'row')}; showing ${formatCount(shown.length)} · ${unpairedText(rows)}`
      ),
      width
    ),
    ...table(
      [
        { header: 'Row', min: 12 },
        { header: 'Baseline', min: 12 },
        { header: 'Now', min: 12 }
      ],
      shown.map(row => {
        const label = rowLabel(row)
        return [
          terminalText(label.values ?? label.rowId, 120),
          terminalText(gradeLine(row.baseline), 160),
          c.red(terminalText(gradeLine(row.judged), 160))
        ]
      }),
      width,
      c
    )
  ]
  if (rows.newlyFailing > shown.length)
    lines.push(
      ...wrap(
        c.dim(
          `… and ${plural(rows.newlyFailing - shown.length, 'more newly failing row')} (--format json has up to 1,000).`
        ),
        width
      )
    )
  return lines
}

/**
 * The summary's table of judged evaluations, one row each, named by the evaluator's title and
 * linked by the evaluation-url template; and the collapsed details that hold their IDs and the
 * figures the table leaves out. Pure.
 */
import { fillTemplate } from '../adaline/links.js'
import { EVALUATION_STATUSES } from '../adaline/schema.js'
import {
  escapeMarkdown,
  formatCost,
  formatCount,
  formatDuration,
  formatPercent,
  formatPointsDelta,
  formatRelativeDelta,
  plural
} from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { totals, type Metrics } from '../judge/metrics.js'
import type { RunReport } from '../run/run-report.js'
import { breakable, id, link, table, type Align } from './markdown.js'

/** Evaluator titles are cut to this many characters in the table, so that it fits 1000 px. */
const TITLE_IN_TABLE = 48

/** How one judged evaluation is named: its evaluator's title, else its evaluator ID. */
export function evaluatorName(report: RunReport, item: Listed, maxLength = TITLE_IN_TABLE): string {
  const { evaluatorId } = item.evaluation
  return breakable(
    escapeMarkdown(report.evaluatorTitles?.get(evaluatorId) ?? evaluatorId, maxLength)
  )
}

/** The evaluation's link by the evaluation-url template, or undefined without one. */
export function evaluationUrl(report: RunReport, item: Listed): string | undefined {
  if (!report.evaluationUrl) return undefined
  const { runId, evaluatorId } = item.evaluation
  return fillTemplate(report.evaluationUrl, { promptId: item.promptId, runId, evaluatorId })
}

/**
 * How a table names each judged evaluation: its evaluator's name, linked by evaluation-url when
 * set, and with several prompts the prompt's short label first.
 */
export function tableNamer(report: RunReport): (item: Listed) => string {
  const prompts = promptLabels(report.promptIds)
  return item => {
    const name = evaluatorName(report, item)
    const url = evaluationUrl(report, item)
    const linked = url ? link(name, url) : name
    const prompt = prompts.get(item.promptId)
    return prompt ? `${prompt} · ${linked}` : linked
  }
}

/** The table: Evaluator, Status, Pass rate, Δ baseline (when any), Fail / unknown, Cost, Avg latency. */
export function evaluationsTable(report: RunReport, maxRows: number): string[] {
  const { gathered, baselines, metrics } = report
  const withDelta = baselines.size > 0
  const nameOf = tableNamer(report)
  const header = ['Evaluator', 'Status', 'Pass rate']
  const align: Align[] = ['left', 'left', 'right']
  if (withDelta) {
    header.push('Δ baseline')
    align.push('right')
  }
  header.push('Fail / unknown', 'Cost', 'Avg latency')
  align.push('right', 'right', 'right')

  const rows = gathered.judged.slice(0, maxRows).map(item => {
    const e = item.evaluation
    const m = totals([e])
    const cells = [
      nameOf(item),
      e.status === 'queued' || e.status === 'running'
        ? `${e.status} ${formatPercent(e.progress.percent / 100, 0)}`
        : e.status,
      rate(m)
    ]
    if (withDelta) cells.push(delta(m, baselines.get(e.runId)))
    cells.push(failUnknown(m), formatCost(m.totalCost), latency(m))
    return cells
  })
  const total = [`**Total**`, '', bold(rate(metrics))]
  if (withDelta) total.push('')
  total.push(bold(failUnknown(metrics)), bold(formatCost(metrics.totalCost)), latency(metrics))
  const lines = table(header, align, [...rows, total])
  const hidden = gathered.judged.length - rows.length
  if (hidden > 0)
    lines.push('', `… and ${plural(hidden, 'more evaluation')} not shown; the totals include them.`)
  return lines
}

/** The collapsed section under the table: each evaluation's IDs and remaining figures, the listing. */
export function evaluationDetails(report: RunReport, maxRows: number): string[] {
  const { gathered, baselines } = report
  const lines = ['<details>', '<summary>IDs and more figures</summary>', '']
  for (const item of gathered.judged.slice(0, maxRows)) {
    const e = item.evaluation
    const m = e.metrics
    const { completedRows, totalRows, failedRows } = e.progress
    const parts = [
      `run ${id(e.runId)}`,
      `evaluator ${id(e.evaluatorId)}`,
      `dataset ${e.datasetId ? id(e.datasetId) : '—'}`,
      `prompt ${id(item.promptId)}`,
      `runs ${formatCount(m.passRuns)} pass, ${formatCount(m.failRuns)} fail, ${formatCount(m.unknownRuns)} unknown`,
      plural(m.totalTokenCount, 'token'),
      `${formatCount(completedRows)} of ${plural(totalRows, 'row')} done${failedRows ? ` (${formatCount(failedRows)} failed)` : ''}`
    ]
    const baseline = baselines.get(e.runId)
    if (baseline) {
      const before = totals([baseline.evaluation])
      const now = totals([e])
      const latency =
        now.avgLatency !== null && before.avgLatency !== null
          ? `, avg latency ${formatRelativeDelta(now.avgLatency, before.avgLatency)}`
          : ''
      parts.push(
        `baseline ${id(baseline.evaluation.runId)} (cost ${formatRelativeDelta(now.totalCost, before.totalCost)}${latency})`
      )
    }
    lines.push(`- **${evaluatorName(report, item)}**: ${parts.join(' · ')}`)
  }
  if (gathered.judged.length > maxRows)
    lines.push(`- … and ${plural(gathered.judged.length - maxRows, 'more evaluation')}`)
  lines.push('', ...listingLines(report), '', '</details>')
  return lines
}

/** What the listing found, and which judged evaluations had no baseline. */
function listingLines({
  gathered,
  baselines,
  comparesWithBaseline,
  metrics,
  scope
}: RunReport): string[] {
  const byStatus = EVALUATION_STATUSES.filter(status => gathered.listedByStatus[status])
    .map(status => `${status} ${formatCount(gathered.listedByStatus[status] ?? 0)}`)
    .join(' · ')
  const lines = [
    `${plural(gathered.listedCount, 'evaluation')} matched the filters${byStatus ? `: ${byStatus}` : ''}; scope: ${scope}. ${formatCount(metrics.totalTokens)} tokens, ${plural(metrics.failedRows, 'failed row')} in all.`
  ]
  const without =
    gathered.judged.length - gathered.judged.filter(i => baselines.has(i.evaluation.runId)).length
  if ((baselines.size > 0 || comparesWithBaseline) && without > 0)
    lines.push(
      '',
      `${plural(without, 'judged evaluation')} ${without === 1 ? 'has' : 'have'} no baseline (an earlier completed evaluation of the same prompt, evaluator and dataset).`
    )
  return lines
}

/**
 * Short labels that tell the report's prompts apart, when there are several: the shortest prefix
 * of at least 8 characters unique among them, or, for IDs that differ only at the end, the start
 * and the shortest unique ending.
 */
function promptLabels(promptIds: readonly string[]): Map<string, string> {
  const labels = new Map<string, string>()
  if (promptIds.length < 2) return labels
  const unique = (cut: (id: string) => string) =>
    new Set(promptIds.map(cut)).size === promptIds.length
  const longest = Math.max(...promptIds.map(p => p.length))
  let prefix = 8
  while (prefix < longest && !unique(p => p.slice(0, prefix))) prefix += 1
  if (prefix <= 12) {
    for (const p of promptIds) labels.set(p, id(p.length > prefix ? `${p.slice(0, prefix)}…` : p))
    return labels
  }
  let suffix = 4
  while (suffix < longest && !unique(p => p.slice(-suffix))) suffix += 1
  for (const p of promptIds)
    labels.set(p, id(p.length > suffix + 5 ? `${p.slice(0, 4)}…${p.slice(-suffix)}` : p))
  return labels
}

function rate(m: Metrics): string {
  return m.passRate === null ? '—' : formatPercent(m.passRate)
}

function delta(m: Metrics, baseline: Listed | undefined): string {
  if (!baseline || m.passRate === null) return '—'
  const before = totals([baseline.evaluation]).passRate
  return before === null ? '—' : formatPointsDelta(m.passRate - before)
}

function failUnknown(m: Metrics): string {
  return `${formatCount(m.failRuns)} / ${formatCount(m.unknownRuns)}`
}

function latency(m: Metrics): string {
  return m.avgLatency === null ? '—' : formatDuration(m.avgLatency)
}

function bold(text: string): string {
  return text === '—' || text === '' ? text : `**${text}**`
}

/**
 * The job summary as Markdown: verdict first, then broken rules, the judged evaluations, totals,
 * what was listed and what was cancelled. Pure; API text is escaped; the size stays under
 * GitHub's 1 MiB summary limit on any input by capping the long tables.
 */
import { EVALUATION_STATUSES, type Result } from '../adaline/schema.js'
import {
  escapeMarkdown,
  formatCost,
  formatCount,
  formatDuration,
  formatPercent,
  formatPointsDelta,
  formatRelativeDelta,
  plainDecimal
} from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { totals, type Metrics } from '../judge/metrics.js'
import type { Verdict } from '../judge/policy.js'
import type { Gathered } from '../run/gather.js'
import type { RunReport } from '../run/run-report.js'
import { changesMarkdown } from './changes.js'

/** GitHub refuses a step summary over 1 MiB; keep well below it. */
export const SUMMARY_LIMIT_BYTES = 1_000_000
const MAX_ROWS = 100
const MAX_LISTED_IDS = 50
/** Superseded evaluations listed one per line, with why their cancel did not land. */
const MAX_CANCEL_LINES = 20

export function buildSummary(report: RunReport, limitBytes = SUMMARY_LIMIT_BYTES): string {
  for (let rows = MAX_ROWS; ; rows = Math.floor(rows / 2)) {
    const text = render(report, rows)
    if (Buffer.byteLength(text) <= limitBytes || rows === 0) return text
  }
}

/**
 * What a comment that held an earlier run's report says once a later run ended with an error, so
 * that no "passed" from an older commit stands under a newer one.
 */
export function buildErrorReport(message: string, started: string[]): string {
  const lines = [
    '## ⚠️ Adaline evals: no verdict',
    '',
    `**The run ended with an error**, so there is no verdict for this commit: ${escapeMarkdown(message, 600)}`,
    ''
  ]
  if (started.length > 0)
    lines.push(`It had started ${started.map(id => escapeMarkdown(id, 80)).join(', ')}.`, '')
  lines.push('See the workflow run for the log; the next run that reaches a verdict replaces this.')
  return lines.join('\n')
}

const HEADLINE: Record<Verdict['gate'], string> = {
  passed: '✅ Adaline evals: gate passed',
  failed: '❌ Adaline evals: gate failed',
  skipped: '⏭️ Adaline evals: report only (the policy sets no rules)'
}

function render(report: RunReport, maxRows: number): string {
  const { verdict, metrics, gathered } = report
  const lines: string[] = [
    `## ${HEADLINE[verdict.gate]}`,
    '',
    verdictLine(report),
    '',
    ...cancelFailedLine(report),
    ...chart(metrics),
    oneLine(metrics),
    ''
  ]
  if (verdict.broken.length > 0) {
    lines.push('### Broken rules', '')
    for (const broken of verdict.broken) lines.push(`- ${escapeMarkdown(broken.message, 400)}`)
    lines.push('')
  }
  const judgedTitle = report.started.length > 0 ? 'started by this run' : `scope: ${report.scope}`
  lines.push(`### Judged evaluations (${judgedTitle})`, '')
  if (gathered.judged.length === 0) {
    lines.push('No evaluation matched the filters.', '')
  } else {
    lines.push(...table(gathered.judged, metrics, maxRows, report.promptIds.length > 1), '')
  }
  if (report.baselines.size > 0)
    lines.push('### Compared with the baseline', '', ...baselineTable(report, maxRows), '')
  else if (report.comparesWithBaseline && gathered.judged.length > 0)
    lines.push(
      '### Compared with the baseline',
      '',
      'There is no earlier completed evaluation of the same prompt, evaluator and dataset for any judged evaluation, so max-pass-rate-drop applied to none.',
      ''
    )
  lines.push(...changesMarkdown(report, maxRows))
  if (report.failingRows.size > 0)
    lines.push('### Failing rows', '', ...failingRowSections(report, Math.ceil(maxRows / 4)))
  if (report.started.length > 0 || report.wait)
    lines.push('### Started and waited', '', ...startedLines(report), '')
  lines.push('### Listed', '', listedLine(gathered), '')
  lines.push('### Superseded evaluations', '', ...supersededLines(report), '')
  return lines.join('\n')
}

/** The one line a reviewer reads first. */
function verdictLine({ verdict, metrics }: RunReport): string {
  if (verdict.gate === 'skipped')
    return '**Verdict: report only.** The policy sets no rules, so nothing was judged against limits.'
  if (verdict.gate === 'passed') {
    return `**Verdict: passed.** Every rule holds over ${formatCount(metrics.evaluations)} evaluation(s).`
  }
  const [first] = verdict.broken
  const more =
    verdict.broken.length > 1 ? ` (and ${verdict.broken.length - 1} more broken rule(s))` : ''
  return `**Verdict: failed.** ${escapeMarkdown(first?.message ?? '', 300)}${more}`
}

/** A pie of pass / fail / unknown runs; GitHub renders mermaid in summaries and comments. */
function chart(metrics: Metrics): string[] {
  if (metrics.runs === 0) return []
  return [
    '```mermaid',
    'pie showData title Runs of the judged evaluations',
    `    "Pass" : ${metrics.passRuns}`,
    `    "Fail" : ${metrics.failRuns}`,
    `    "Unknown" : ${metrics.unknownRuns}`,
    '```',
    ''
  ]
}

function baselineTable({ gathered, baselines }: RunReport, maxRows: number): string[] {
  const header = ['Run', 'Baseline', 'Pass rate', 'Δ', 'Cost', 'Δ', 'Avg latency', 'Δ']
  const compared = gathered.judged.filter(item => baselines.has(item.evaluation.runId))
  const rows = compared.slice(0, maxRows).map(item => {
    const now = totals([item.evaluation])
    const base = totals([baselines.get(item.evaluation.runId)!.evaluation])
    return [
      code(item.evaluation.runId),
      code(baselines.get(item.evaluation.runId)!.evaluation.runId),
      now.passRate === null ? '—' : formatPercent(now.passRate),
      now.passRate === null || base.passRate === null
        ? '—'
        : formatPointsDelta(now.passRate - base.passRate),
      formatCost(now.totalCost),
      formatRelativeDelta(now.totalCost, base.totalCost),
      now.avgLatency === null ? '—' : formatDuration(now.avgLatency),
      now.avgLatency === null || base.avgLatency === null
        ? '—'
        : formatRelativeDelta(now.avgLatency, base.avgLatency)
    ]
  })
  const notes: string[] = []
  if (compared.length > rows.length)
    notes.push(`… and ${compared.length - rows.length} more comparison(s) not shown.`)
  const without = gathered.judged.length - compared.length
  if (without > 0)
    notes.push(
      `${without} judged evaluation(s) have no earlier completed evaluation to compare with.`
    )
  return [
    row(header),
    row(header.map(() => '---')),
    ...rows.map(row),
    ...notes.flatMap(note => ['', note])
  ]
}

function failingRowSections({ gathered, failingRows }: RunReport, perEvaluation: number): string[] {
  const lines: string[] = []
  let withoutSection = 0
  for (const item of gathered.judged) {
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
      `<summary>${code(item.evaluation.runId)}: ${formatCount(failRuns)} fail, ${formatCount(unknownRuns)} unknown (showing ${shownOf('fail')} fail, ${shownOf('unknown')} unknown)</summary>`,
      '',
      row(['Grade', 'Score', 'Reason', 'Cost', 'Latency', 'Input']),
      row(['---', '---', '---', '---', '---', '---']),
      ...shown.map(result =>
        row([
          result.grade,
          result.score == null ? '—' : plainDecimal(result.score),
          result.reason ? escapeMarkdown(result.reason, 160) : '—',
          result.cost == null ? '—' : formatCost(result.cost),
          result.latency == null ? '—' : formatDuration(result.latency),
          result.row ? escapeMarkdown(rowValues(result.row.values), 120) : '—'
        ])
      ),
      '',
      '</details>',
      ''
    )
  }
  if (withoutSection > 0)
    lines.push(
      `… and ${formatCount(withoutSection)} more evaluation(s) with failing or unknown rows not shown.`,
      ''
    )
  return lines
}

/** A row's input values on one line: `ticket: My invoice is wrong; expected: billing`. */
function rowValues(values: Record<string, unknown>): string {
  return Object.entries(values)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ')
}

function startedLines({ started, wait }: RunReport): string[] {
  const lines: string[] = []
  if (started.length > 0)
    lines.push(`Started ${started.length} evaluation(s) for this commit: ${idList(started)}.`)
  if (wait) {
    if (lines.length > 0) lines.push('')
    lines.push(
      wait.timedOut.length === 0
        ? `Waited ${formatDuration(wait.waitedMs)} for the judged evaluations to finish.`
        : `Stopped waiting after ${formatDuration(wait.waitedMs)}; still not finished: ${idList(wait.timedOut)}.`
    )
  }
  return lines
}

function oneLine(metrics: Metrics): string {
  if (metrics.evaluations === 0) return 'No evaluations judged.'
  const parts = [
    `**${formatCount(metrics.evaluations)}** evaluation(s) judged`,
    `${formatCount(metrics.runs)} runs: ${formatCount(metrics.passRuns)} pass, ${formatCount(metrics.failRuns)} fail, ${formatCount(metrics.unknownRuns)} unknown`
  ]
  if (metrics.passRate !== null) parts.push(`pass rate **${formatPercent(metrics.passRate)}**`)
  parts.push(`cost ${formatCost(metrics.totalCost)}`)
  if (metrics.avgLatency !== null) parts.push(`${formatDuration(metrics.avgLatency)} per run`)
  parts.push(`${formatCount(metrics.totalTokens)} tokens`)
  return parts.join(' · ')
}

const HEADER = [
  'Run',
  'Evaluator',
  'Dataset',
  'Status',
  'Progress',
  'Pass',
  'Fail',
  'Unknown',
  'Pass rate',
  'Cost',
  'Avg latency',
  'Tokens'
]

function table(judged: Listed[], overall: Metrics, maxRows: number, showPrompt: boolean): string[] {
  const header = showPrompt ? ['Prompt', ...HEADER] : HEADER
  const rows = judged.slice(0, maxRows).map(item => {
    const e = item.evaluation
    const m = totals([e])
    const cells = [
      code(e.runId),
      code(e.evaluatorId),
      e.datasetId ? code(e.datasetId) : '—',
      e.status,
      `${e.progress.completedRows}/${e.progress.totalRows}${e.progress.failedRows ? ` (${e.progress.failedRows} failed)` : ''}`,
      formatCount(m.passRuns),
      formatCount(m.failRuns),
      formatCount(m.unknownRuns),
      m.passRate === null ? '—' : formatPercent(m.passRate),
      formatCost(m.totalCost),
      m.avgLatency === null ? '—' : formatDuration(m.avgLatency),
      formatCount(m.totalTokens)
    ]
    return showPrompt ? [code(item.promptId), ...cells] : cells
  })
  const total = [
    '**Total**',
    '',
    '',
    '',
    `${formatCount(overall.failedRows)} failed rows`,
    `**${formatCount(overall.passRuns)}**`,
    `**${formatCount(overall.failRuns)}**`,
    `**${formatCount(overall.unknownRuns)}**`,
    overall.passRate === null ? '—' : `**${formatPercent(overall.passRate)}**`,
    `**${formatCost(overall.totalCost)}**`,
    overall.avgLatency === null ? '—' : formatDuration(overall.avgLatency),
    `**${formatCount(overall.totalTokens)}**`
  ]
  const out = [
    row(header),
    row(header.map(() => '---')),
    ...rows.map(row),
    row(showPrompt ? [total[0]!, '', ...total.slice(1)] : total)
  ]
  const hidden = judged.length - rows.length
  if (hidden > 0)
    out.push(
      '',
      `… and ${formatCount(hidden)} more evaluation(s) not shown; the totals and the \`evaluations\` output include them.`
    )
  return out
}

function listedLine({ listedCount, listedByStatus }: Gathered): string {
  const byStatus = EVALUATION_STATUSES.filter(status => listedByStatus[status])
    .map(status => `${status} ${formatCount(listedByStatus[status] ?? 0)}`)
    .join(' · ')
  return `${formatCount(listedCount)} evaluation(s) matched the filters${byStatus ? `: ${byStatus}` : '.'}`
}

/** Near the top: the run fails for cancels that did not land, whatever the gate says. */
function cancelFailedLine({ cancel }: RunReport): string[] {
  if (cancel.failed.length === 0) return []
  return [
    `⚠️ **${cancel.failed.length} superseded evaluation(s) could not be cancelled** and may still be running and billing, so the run fails whatever the gate (see Superseded evaluations, below).`,
    ''
  ]
}

function supersededLines({ decision, cancel, dryRun, gathered }: RunReport): string[] {
  if (!decision.act) return [`Nothing cancelled: ${escapeMarkdown(decision.reason, 400)}.`]
  const lines = [`${capitalize(escapeMarkdown(decision.reason, 400))}.`, '']
  if (gathered.superseded.length === 0) {
    lines.push('No evaluation in flight was superseded.')
    return lines
  }
  const verb = dryRun ? 'Would cancel (dry-run)' : 'Cancelled'
  lines.push(
    `${verb} ${cancel.cancelled.length} of ${gathered.superseded.length} superseded evaluation(s): ${idList(cancel.cancelled)}`
  )
  if (cancel.failed.length > 0) {
    lines.push(
      '',
      `**Could not cancel ${cancel.failed.length}: they may still be running and billing, and the run fails for it.**`,
      ''
    )
    for (const failed of cancel.failed.slice(0, MAX_CANCEL_LINES))
      lines.push(`- ${code(failed.runId)}: ${escapeMarkdown(failed.message, 300)}`)
    if (cancel.failed.length > MAX_CANCEL_LINES)
      lines.push(`- … and ${cancel.failed.length - MAX_CANCEL_LINES} more`)
  }
  if (cancel.finished.length > 0) {
    lines.push('', `Finished before their cancel arrived (${cancel.finished.length}):`, '')
    for (const finished of cancel.finished.slice(0, MAX_CANCEL_LINES))
      lines.push(`- ${code(finished.runId)}: ${finished.status}`)
    if (cancel.finished.length > MAX_CANCEL_LINES)
      lines.push(`- … and ${cancel.finished.length - MAX_CANCEL_LINES} more`)
  }
  lines.push('', 'Superseded evaluations are not judged.')
  return lines
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function idList(ids: string[]): string {
  if (ids.length === 0) return 'none'
  const shown = ids.slice(0, MAX_LISTED_IDS).map(code).join(', ')
  return ids.length > MAX_LISTED_IDS ? `${shown} and ${ids.length - MAX_LISTED_IDS} more` : shown
}

/** An identifier from the API, escaped (IDs are at most 80 characters). */
function code(id: string): string {
  return escapeMarkdown(id, 80)
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

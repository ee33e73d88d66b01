/**
 * The job summary and the pull request comment as Markdown: a headline with the commit and the
 * workflow run, one verdict sentence, runs as a line of squares, the rules, the judged evaluations
 * with their totals, then what only some runs have (failing rows, starts and waits, cancels). Pure;
 * API text is escaped; the size stays under a limit on any input by capping the long parts.
 */
import type { ReportLinks } from '../github/links.js'
import {
  escapeMarkdown,
  formatCost,
  formatDuration,
  formatPercent,
  formatCount,
  plural
} from '../format.js'
import type { Metrics } from '../judge/metrics.js'
import { INPUT_NAMING, type SettingNaming } from '../judge/policy.js'
import type { RunReport } from '../run/run-report.js'
import { cancelsNotLanded } from './cancel-failed.js'
import { changesMarkdown, noiseClause } from './changes.js'
import { evaluationDetails, evaluationsTable } from './evaluations.js'
import { failingRowSections } from './failing-rows.js'
import { id, link, squaresOf, table } from './markdown.js'

/** GitHub refuses a step summary over 1 MiB; keep well below it. */
export const SUMMARY_LIMIT_BYTES = 1_000_000
const MAX_ROWS = 100
const MAX_LISTED_IDS = 50
/** Superseded evaluations listed one per line, with why their cancel did not land. */
const MAX_CANCEL_LINES = 20

export interface SummaryOptions {
  /** the most bytes the text may take; default SUMMARY_LIMIT_BYTES */
  limitBytes?: number
  /** the commit and workflow run to link in the headline (none outside GitHub) */
  links?: ReportLinks
  /** how the face names its settings in a hint (the command's --format markdown: its flags) */
  naming?: SettingNaming
}

export function buildSummary(report: RunReport, options: SummaryOptions = {}): string {
  const { limitBytes = SUMMARY_LIMIT_BYTES, links = {}, naming = INPUT_NAMING } = options
  for (let rows = MAX_ROWS; ; rows = Math.floor(rows / 2)) {
    const text = render(report, links, rows, naming)
    if (Buffer.byteLength(text) <= limitBytes || rows === 0) return text
  }
}

/**
 * What a run that ended with an error reports: in the job summary, and in a comment that held an
 * earlier run's report, so that no "passed" from an older commit stands under a newer one.
 */
export function buildErrorReport(
  message: string,
  started: string[],
  links: ReportLinks = {},
  where: 'summary' | 'comment' = 'comment'
): string {
  const lines = ['## ⚠️ Adaline evals: no verdict', '', ...linkLine(links)]
  lines.push(
    `**The run ended with an error**, so there is no verdict for this commit: ${escapeMarkdown(message, 600)}`,
    ''
  )
  if (started.length > 0) lines.push(`It had started ${idList(started)}.`, '')
  lines.push(
    where === 'comment'
      ? 'See the workflow run for the log; the next run that reaches a verdict replaces this.'
      : "The step's log says more."
  )
  return lines.join('\n')
}

/** The report, section by section; a section for a feature the run did not use is left out. */
function render(
  report: RunReport,
  links: ReportLinks,
  maxRows: number,
  naming: SettingNaming
): string {
  return [
    ...headline(report, links),
    ...cancelFailedLine(report),
    ...runsChart(report.metrics),
    ...rulesTable(report),
    ...judgedSection(report, maxRows),
    ...changesMarkdown(report, maxRows, naming),
    ...failingRowsSection(report, maxRows),
    ...startedSection(report),
    ...supersededSection(report)
  ].join('\n')
}

const HEADLINE: Record<RunReport['verdict']['gate'], string> = {
  passed: '✅ Adaline evals passed',
  failed: '❌ Adaline evals failed',
  skipped: '⏭️ Adaline evals: report only'
}

/**
 * The verdict as a heading (with cancels that did not land, which fail the run whatever the gate:
 * "❌ Adaline evals passed, but 1 cancel did not land"), the commit and the run, and the verdict in
 * one sentence.
 */
function headline(report: RunReport, links: ReportLinks): string[] {
  return [`## ${headingOf(report)}`, '', ...linkLine(links), verdictSentence(report), '']
}

function headingOf({ verdict, cancel }: RunReport): string {
  const notLanded = cancelsNotLanded(cancel)
  if (!notLanded) return HEADLINE[verdict.gate]
  const gate = HEADLINE[verdict.gate].replace(/^\S+ /, '')
  return `❌ ${gate}${verdict.gate === 'failed' ? ', and' : ', but'} ${notLanded}`
}

function linkLine({ commit, workflowRun }: ReportLinks): string[] {
  const parts: string[] = []
  if (commit) parts.push(`Commit ${link(`\`${commit.sha.slice(0, 7)}\``, commit.url)}`)
  if (workflowRun) parts.push(link('workflow run', workflowRun))
  return parts.length > 0 ? [parts.join(' · '), ''] : []
}

function verdictSentence({ verdict, metrics }: RunReport): string {
  if (verdict.gate === 'skipped')
    return '**Report only:** the policy sets no rules, so nothing was judged against limits.'
  if (verdict.gate === 'passed') {
    const rules = verdict.checks.length
    return `**Passed:** ${rules === 1 ? 'the rule holds' : rules === 2 ? 'both rules hold' : `all ${formatCount(rules)} rules hold`} over ${plural(metrics.evaluations, 'judged evaluation')}${noiseClause(verdict)}.`
  }
  const [first] = verdict.broken
  const more =
    verdict.broken.length > 1
      ? ` (and ${plural(verdict.broken.length - 1, 'more broken rule')})`
      : ''
  return `**Failed:** ${escapeMarkdown(first?.message ?? '', 300)}${more}.`
}

/** Near the top: the run fails for cancels that did not land, whatever the gate says. */
function cancelFailedLine({ cancel }: RunReport): string[] {
  const failed = cancel.failed.length
  if (failed === 0) return []
  return [
    `⚠️ **${plural(failed, 'superseded evaluation')} could not be cancelled** and may still be running and billing, so the run fails whatever the gate (see Superseded evaluations, below).`,
    ''
  ]
}

/** Runs as one line of squares (🟩 pass, 🟥 fail, ⬜ unknown) with their counts, then the totals. */
function runsChart(metrics: Metrics): string[] {
  if (metrics.evaluations === 0) return ['No evaluations judged.', '']
  const counts = [metrics.passRuns, metrics.failRuns, metrics.unknownRuns]
  const [pass, fail, unknown] = squaresOf(counts)
  const squares = '🟩'.repeat(pass!) + '🟥'.repeat(fail!) + '⬜'.repeat(unknown!)
  const runs = `**${formatCount(metrics.passRuns)}** pass · **${formatCount(metrics.failRuns)}** fail · **${formatCount(metrics.unknownRuns)}** unknown of ${plural(metrics.runs, 'run')}`
  const totals = [plural(metrics.evaluations, 'evaluation')]
  if (metrics.passRate !== null) totals.push(`pass rate **${formatPercent(metrics.passRate)}**`)
  totals.push(`cost **${formatCost(metrics.totalCost)}**`)
  if (metrics.avgLatency !== null) totals.push(`**${formatDuration(metrics.avgLatency)}** a run`)
  return [`${squares ? `${squares} ` : ''}${runs}\\`, totals.join(' · '), '']
}

/** Every rule the policy sets, held or broken; none when the gate is skipped. */
function rulesTable({ verdict }: RunReport): string[] {
  if (verdict.checks.length === 0) return []
  return [
    ...table(
      ['Rule', 'Figure', 'Limit', ''],
      ['left', 'right', 'right', 'center'],
      verdict.checks.map(c => [
        c.rule,
        escapeMarkdown(c.figure, 60),
        escapeMarkdown(c.limit, 60),
        c.ok ? (c.warning ? '⚠️' : '✅') : '❌'
      ])
    ),
    '',
    ...verdict.checks.flatMap(c =>
      c.warning ? [`> ⚠️ ${escapeMarkdown(c.warning, 600)}`, ''] : []
    )
  ]
}

function judgedSection(report: RunReport, maxRows: number): string[] {
  const { gathered, started, scope, baselines, comparesWithBaseline } = report
  const which = started.length > 0 ? 'started by this run' : `scope: ${scope}`
  const lines = [`### Judged evaluations (${which})`, '']
  if (gathered.judged.length === 0) return [...lines, 'No evaluation matched the filters.', '']
  lines.push(...evaluationsTable(report, maxRows), '')
  if (baselines.size === 0 && comparesWithBaseline)
    lines.push(
      'No judged evaluation has a baseline (an earlier completed evaluation of the same prompt, evaluator and dataset), so max-pass-rate-drop applied to none.',
      ''
    )
  lines.push(...evaluationDetails(report, maxRows), '')
  return lines
}

function failingRowsSection(report: RunReport, maxRows: number): string[] {
  if (report.failingRows.size === 0) return []
  return ['### Failing rows', '', ...failingRowSections(report, Math.ceil(maxRows / 4))]
}

function startedSection({ started, wait }: RunReport): string[] {
  if (started.length === 0 && !wait) return []
  const lines = ['### Started and waited', '']
  if (started.length > 0)
    lines.push(
      `Started ${plural(started.length, 'evaluation')} for this commit: ${idList(started)}.`,
      ''
    )
  if (wait)
    lines.push(
      wait.timedOut.length === 0
        ? `Waited ${formatDuration(wait.waitedMs)} for the judged evaluations to finish.`
        : `Stopped waiting after ${formatDuration(wait.waitedMs)}; still not finished: ${idList(wait.timedOut)}.`,
      ''
    )
  return lines
}

/** What was cancelled and why; left out when cancel-superseded is never. */
function supersededSection(report: RunReport): string[] {
  const { decision, cancel, dryRun, gathered } = report
  if (!decision.act) {
    if ((report.cancelSuperseded ?? 'never') === 'never') return []
    return [
      '### Superseded evaluations',
      '',
      `Nothing cancelled: ${escapeMarkdown(decision.reason, 400)}.`,
      ''
    ]
  }
  const lines = [
    '### Superseded evaluations',
    '',
    `${capitalize(escapeMarkdown(decision.reason, 400))}.`,
    ''
  ]
  if (gathered.superseded.length === 0)
    return [...lines, 'No evaluation in flight was superseded.', '']
  const verb = dryRun ? 'Would cancel (dry-run)' : 'Cancelled'
  lines.push(
    `${verb} ${formatCount(cancel.cancelled.length)} of ${plural(gathered.superseded.length, 'superseded evaluation')}${cancel.cancelled.length > 0 ? `: ${idList(cancel.cancelled)}` : '.'}`
  )
  if (cancel.failed.length > 0) {
    lines.push(
      '',
      `**Could not cancel ${plural(cancel.failed.length, 'evaluation')}: ${cancel.failed.length === 1 ? 'it' : 'they'} may still be running and billing, and the run fails for it.**`,
      ''
    )
    for (const failed of cancel.failed.slice(0, MAX_CANCEL_LINES))
      lines.push(`- ${id(failed.runId)}: ${escapeMarkdown(failed.message, 300)}`)
    if (cancel.failed.length > MAX_CANCEL_LINES)
      lines.push(`- … and ${formatCount(cancel.failed.length - MAX_CANCEL_LINES)} more`)
  }
  if (cancel.finished.length > 0) {
    lines.push(
      '',
      `Finished before their cancel arrived (${formatCount(cancel.finished.length)}):`,
      ''
    )
    for (const finished of cancel.finished.slice(0, MAX_CANCEL_LINES))
      lines.push(`- ${id(finished.runId)}: ${finished.status}`)
    if (cancel.finished.length > MAX_CANCEL_LINES)
      lines.push(`- … and ${formatCount(cancel.finished.length - MAX_CANCEL_LINES)} more`)
  }
  lines.push('', 'Superseded evaluations are not judged.', '')
  return lines
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}

function idList(ids: string[]): string {
  if (ids.length === 0) return 'none'
  const shown = ids.slice(0, MAX_LISTED_IDS).map(id).join(', ')
  return ids.length > MAX_LISTED_IDS
    ? `${shown} and ${formatCount(ids.length - MAX_LISTED_IDS)} more`
    : shown
}

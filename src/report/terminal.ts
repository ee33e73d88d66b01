/**
 * The command's default report (`--format text`), built from the RunReport for a terminal: the
 * verdict, the rules, a run bar, the judged evaluations and their failing rows, in tables sized to
 * the terminal, coloured only when asked. The same facts and number formats as the Markdown
 * summary; no Markdown or HTML. Pure.
 */
import { EVALUATION_STATUSES, type Result } from '../adaline/schema.js'
import {
  formatCost,
  formatCount,
  formatDuration,
  formatPercent,
  formatPointsDelta,
  plural
} from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { totals, type Metrics } from '../judge/metrics.js'
import type { RunReport } from '../run/run-report.js'
import {
  colors,
  fitsWithoutBreaking,
  groupedByPrompt,
  joinParts,
  table,
  terminalText,
  wrap,
  type Colors,
  type Column
} from './terminal-layout.js'
import { cancelsNotLanded } from './cancel-failed.js'
import { rowValues } from './row-values.js'
import { noiseClause } from './changes.js'
import { changesBlocks } from './terminal-changes.js'

export interface TerminalOptions {
  /** columns; no line is wider */
  width: number
  /** ANSI colours (the face decides: a TTY, NO_COLOR, FORCE_COLOR) */
  color: boolean
  /** the commit the run is for, when the face knows it */
  commit?: string
}

/** Evaluations in the table; the totals count them all. */
const MAX_EVALUATIONS = 50
/** Evaluations whose failing rows are shown, and rows shown for each. */
const MAX_FAILING_SECTIONS = 5
const MAX_ROWS_EACH = 5
const MAX_LISTED_IDS = 20

export function buildTerminalReport(report: RunReport, options: TerminalOptions): string {
  const width = Math.max(20, Math.floor(options.width))
  const c = colors(options.color)
  const blocks: string[][] = [
    [...headline(report, options.commit, width, c), ...verdictSentence(report, width)],
    [...runBar(report.metrics, width, c), ...joinParts(totalsParts(report.metrics), width)],
    ...cancelFailedWarning(report, width, c),
    ...rules(report, width, c),
    evaluations(report, width, c),
    ...changesBlocks(report, width, c),
    ...failingRows(report, width, c),
    ...happenings(report, width, c),
    wrap(c.dim(listedLine(report)), width)
  ]
  return `${blocks
    .filter(block => block.length > 0)
    .map(block => block.join('\n'))
    .join('\n\n')}\n`
}

const GATE = {
  passed: { mark: '✓', says: 'gate passed' },
  failed: { mark: '✗', says: 'gate failed' },
  skipped: { mark: '–', says: 'report only' }
} as const

/**
 * `✗ Adaline evals: gate failed · commit 1a2b3c4`, the verdict in its colour; cancels that did not
 * land fail the run whatever the gate (exit 4), so they make it `✗ … gate passed, but 1 cancel did
 * not land`.
 */
function headline(
  { verdict, cancel }: RunReport,
  commit: string | undefined,
  width: number,
  c: Colors
) {
  const gate = GATE[verdict.gate]
  const notLanded = cancelsNotLanded(cancel)
  const failed = verdict.gate === 'failed' || notLanded !== undefined
  const paint = failed ? c.red : verdict.gate === 'passed' ? c.green : c.yellow
  const says = notLanded
    ? `${gate.says}${verdict.gate === 'failed' ? ', and' : ', but'} ${notLanded}`
    : gate.says
  const parts = [
    `${c.bold(paint(failed ? GATE.failed.mark : gate.mark))} Adaline evals: ${c.bold(paint(says))}`
  ]
  if (commit) parts.push(`commit ${shortCommit(commit)}`)
  return joinParts(parts, width)
}

/** A full SHA as git shortens it (7 characters); anything else as given, made inert. */
function shortCommit(commit: string): string {
  return /^[0-9a-f]{8,64}$/i.test(commit) ? commit.slice(0, 7) : terminalText(commit, 40)
}

function verdictSentence({ verdict, metrics }: RunReport, width: number): string[] {
  if (verdict.gate === 'skipped')
    return wrap('The policy sets no rules, so nothing was judged against limits.', width)
  if (verdict.gate === 'passed')
    return wrap(
      `Every rule holds over ${plural(metrics.evaluations, 'evaluation')}${noiseClause(verdict)}.`,
      width
    )
  const [first] = verdict.broken
  const more = verdict.broken.length - 1
  const tail = more > 0 ? ` (and ${plural(more, 'more broken rule')})` : ''
  return wrap(`${terminalText(first?.message ?? '', 300)}${tail}.`, width)
}

/** `Runs  ████████▒▒░  57 pass · 4 fail · 3 unknown`, the bar as wide as the line allows. */
function runBar(metrics: Metrics, width: number, c: Colors): string[] {
  if (metrics.runs === 0) return []
  const slices = [
    { count: metrics.passRuns, name: 'pass', mark: '█', paint: c.green },
    { count: metrics.failRuns, name: 'fail', mark: '▒', paint: c.red },
    { count: metrics.unknownRuns, name: 'unknown', mark: '░', paint: c.gray }
  ]
  const legend = slices.map(s => `${formatCount(s.count)} ${s.name}`).join(' · ')
  const room = Math.min(40, width - 'Runs  '.length - 2 - legend.length)
  if (room < 10) return wrap(`Runs: ${legend}`, width)
  // each slice rounded, then the largest adjusted so the bar is exactly `room` wide
  const lengths = slices.map(s => Math.round((s.count / metrics.runs) * room))
  const largest = lengths.indexOf(Math.max(...lengths))
  lengths[largest]! += room - lengths.reduce((sum, n) => sum + n, 0)
  const bar = slices.map((s, i) => s.paint(s.mark.repeat(Math.max(0, lengths[i]!)))).join('')
  const shown = slices
    .map(s => (s.count > 0 ? s.paint(`${formatCount(s.count)} ${s.name}`) : `0 ${s.name}`))
    .join(' · ')
  return [`Runs  ${bar}  ${shown}`]
}

function totalsParts(metrics: Metrics): string[] {
  if (metrics.evaluations === 0) return ['No evaluations judged.']
  const parts = [`${plural(metrics.evaluations, 'evaluation')} judged`, plural(metrics.runs, 'run')]
  if (metrics.passRate !== null) parts.push(`pass rate ${formatPercent(metrics.passRate)}`)
  parts.push(`cost ${formatCost(metrics.totalCost)}`)
  if (metrics.avgLatency !== null) parts.push(`${formatDuration(metrics.avgLatency)} per run`)
  parts.push(plural(metrics.totalTokens, 'token'))
  if (metrics.failedRows > 0) parts.push(plural(metrics.failedRows, 'failed row'))
  return parts
}

/** Near the top: cancels that did not land fail the run whatever the gate says. */
function cancelFailedWarning({ cancel }: RunReport, width: number, c: Colors): string[][] {
  if (cancel.failed.length === 0) return []
  const n = cancel.failed.length
  return [
    wrap(
      c.bold(
        c.red(
          `⚠ ${plural(n, 'superseded evaluation')} could not be cancelled and may still be running and billing, so the run fails whatever the gate (see below).`
        )
      ),
      width
    )
  ]
}

function section(title: string, c: Colors): string {
  return c.bold(title)
}

/** Every rule the policy sets, held or broken: on a pass too, so a reader sees what was checked. */
function rules({ verdict }: RunReport, width: number, c: Colors): string[][] {
  if (verdict.checks.length === 0) return []
  const rows = verdict.checks.map(check => [
    check.rule,
    terminalText(check.figure, 40),
    terminalText(check.limit, 40),
    check.ok
      ? check.warning
        ? c.yellow('! within noise')
        : c.green('✓ pass')
      : c.red(c.bold('✗ FAIL'))
  ])
  return [
    [
      section('Rules', c),
      ...table(
        [
          { header: 'Rule' },
          { header: 'Figure', align: 'right' },
          { header: 'Limit', align: 'right' },
          { header: 'Result' }
        ],
        rows,
        width,
        c
      ),
      ...verdict.checks.flatMap(check =>
        check.warning ? wrap(c.yellow(`! ${terminalText(check.warning, 600)}`), width) : []
      )
    ]
  ]
}

function title(report: RunReport, evaluatorId: string): string {
  return terminalText(report.evaluatorTitles?.get(evaluatorId) ?? evaluatorId, 200)
}

function evaluations(report: RunReport, width: number, c: Colors): string[] {
  const { gathered, baselines } = report
  const whose = report.started.length > 0 ? 'started by this run' : `scope: ${report.scope}`
  const heading = wrap(section(`Evaluations (${whose})`, c), width)
  if (gathered.judged.length === 0)
    return [...heading, ...wrap('No evaluation matched the filters.', width)]
  const withBaseline = baselines.size > 0
  const shown = gathered.judged.slice(0, MAX_EVALUATIONS)
  const fields: EvaluationField[] = EVALUATION_FIELDS.filter(
    field => withBaseline || field.column.header !== 'Δ baseline'
  )
  const rowsOf = (kept: EvaluationField[]) =>
    groupedByPrompt(
      report.promptIds,
      shown,
      item => item.promptId,
      item => kept.map(field => field.cell(item, report, c)),
      c
    )
  // a narrow terminal: the least needed columns go, rather than words broken in every cell
  const dropped: string[] = []
  for (const optional of ['Avg latency', 'Cost']) {
    if (
      fitsWithoutBreaking(
        fields.map(f => f.column),
        rowsOf(fields),
        width
      )
    )
      break
    fields.splice(
      fields.findIndex(field => field.column.header === optional),
      1
    )
    dropped.push(optional.toLowerCase())
  }
  const lines = [
    ...heading,
    ...table(
      fields.map(f => f.column),
      rowsOf(fields),
      width,
      c
    )
  ]
  if (dropped.length > 0)
    lines.push(
      ...wrap(
        c.dim(
          `Left out for the width: ${dropped.reverse().join(' and ')} (--format json has them).`
        ),
        width
      )
    )
  const hidden = gathered.judged.length - shown.length
  if (hidden > 0)
    lines.push(
      ...wrap(
        `… and ${plural(hidden, 'more evaluation')} not shown; the totals include them (--format json lists all).`,
        width
      )
    )
  const without =
    gathered.judged.length -
    [...gathered.judged].filter(i => baselines.has(i.evaluation.runId)).length
  if (withBaseline && without > 0)
    lines.push(
      ...wrap(
        c.dim(
          `Δ baseline: ${plural(without, 'judged evaluation')} without an earlier completed one to compare with.`
        ),
        width
      )
    )
  if (!withBaseline && report.comparesWithBaseline)
    lines.push(
      ...wrap(
        c.dim(
          'No judged evaluation has an earlier completed one of the same prompt, evaluator and dataset, so max-pass-rate-drop applied to none.'
        ),
        width
      )
    )
  return lines
}

interface EvaluationField {
  column: Column
  cell: (item: Listed, report: RunReport, c: Colors) => string
}

/** The evaluations table's columns, each with its cell: what a reviewer compares at a glance. */
const EVALUATION_FIELDS: readonly EvaluationField[] = [
  {
    column: { header: 'Evaluator', min: 20 },
    cell: (item, report) => title(report, item.evaluation.evaluatorId)
  },
  { column: { header: 'Status' }, cell: (item, _, c) => paintStatus(item.evaluation.status, c) },
  {
    column: { header: 'Pass rate', align: 'right' },
    cell: item => rateText(totals([item.evaluation]).passRate)
  },
  {
    column: { header: 'Δ baseline', align: 'right' },
    cell: (item, report) => {
      const now = totals([item.evaluation]).passRate
      const baseline = report.baselines.get(item.evaluation.runId)
      const before = baseline ? totals([baseline.evaluation]).passRate : null
      return now === null || before === null ? '—' : formatPointsDelta(now - before)
    }
  },
  {
    column: { header: 'Fail / unknown', align: 'right' },
    cell: (item, _, c) => {
      const { failRuns, unknownRuns } = item.evaluation.metrics
      return `${failRuns > 0 ? c.red(formatCount(failRuns)) : '0'} / ${formatCount(unknownRuns)}`
    }
  },
  {
    column: { header: 'Cost', align: 'right' },
    cell: item => formatCost(totals([item.evaluation]).totalCost)
  },
  {
    column: { header: 'Avg latency', align: 'right' },
    cell: item => {
      const { avgLatency } = totals([item.evaluation])
      return avgLatency === null ? '—' : formatDuration(avgLatency)
    }
  }
]

function rateText(rate: number | null): string {
  return rate === null ? '—' : formatPercent(rate)
}

function paintStatus(status: string, c: Colors): string {
  if (status === 'completed') return status
  if (status === 'failed') return c.red(status)
  return c.yellow(status)
}

/**
 * The failing and unknown rows, first of the evaluations that broke a rule (a broken check's
 * runIds), then of the others, newest first.
 */
function failingRows(report: RunReport, width: number, c: Colors): string[][] {
  const { gathered, failingRows: rowsOf, verdict } = report
  if (rowsOf.size === 0) return []
  const blamed = new Set(
    verdict.checks.filter(check => !check.ok).flatMap(check => check.runIds ?? [])
  )
  const withRows = gathered.judged.filter(item => rowsOf.has(item.evaluation.runId))
  const ordered = [
    ...withRows.filter(item => blamed.has(item.evaluation.runId)),
    ...withRows.filter(item => !blamed.has(item.evaluation.runId))
  ]
  const blocks = ordered
    .slice(0, MAX_FAILING_SECTIONS)
    .map(item => failingSection(report, item, rowsOf.get(item.evaluation.runId)!, width, c))
  const notShown =
    gathered.judged.filter(
      item => item.evaluation.metrics.failRuns + item.evaluation.metrics.unknownRuns > 0
    ).length - blocks.length
  if (notShown > 0)
    blocks.push(
      wrap(
        c.dim(
          `… and ${plural(notShown, 'more evaluation')} with failing or unknown rows not shown (--format json has them).`
        ),
        width
      )
    )
  return blocks
}

function failingSection(
  report: RunReport,
  item: Listed,
  results: Result[],
  width: number,
  c: Colors
): string[] {
  const e = item.evaluation
  const shown = results.slice(0, MAX_ROWS_EACH)
  const heading = wrap(section(`Failing rows: ${title(report, e.evaluatorId)}`, c), width)
  const counts = `${terminalText(e.runId, 80)} · ${formatCount(e.metrics.failRuns)} fail, ${formatCount(e.metrics.unknownRuns)} unknown; showing ${formatCount(shown.length)}`
  const rows = shown.map(result => [
    result.grade === 'fail' ? c.red('fail') : c.yellow(result.grade),
    result.reason ? terminalText(result.reason, 160) : '—',
    result.row ? terminalText(rowValues(result.row.values), 120) : '—'
  ])
  return [
    ...heading,
    ...wrap(c.dim(counts), width),
    ...table(
      [{ header: 'Grade' }, { header: 'Reason', min: 12 }, { header: 'Input', min: 12 }],
      rows,
      width,
      c
    )
  ]
}

/** What the run did besides judging, each only when it happened. */
function happenings(report: RunReport, width: number, c: Colors): string[][] {
  const { started, wait, cancel, dryRun, gathered } = report
  const lines: string[] = []
  if (started.length > 0)
    lines.push(
      ...wrap(
        `Started ${plural(started.length, 'evaluation')} for this commit: ${ids(started)}.`,
        width
      )
    )
  if (wait)
    lines.push(
      ...wrap(
        wait.timedOut.length === 0
          ? `Waited ${formatDuration(wait.waitedMs)} for the judged evaluations to finish.`
          : `Stopped waiting after ${formatDuration(wait.waitedMs)}; still not finished: ${ids(wait.timedOut)}.`,
        width
      )
    )
  if (cancel.cancelled.length > 0)
    lines.push(
      ...wrap(
        `${dryRun ? 'Would cancel (dry run)' : 'Cancelled'} ${formatCount(cancel.cancelled.length)} of ${plural(gathered.superseded.length, 'superseded evaluation')}: ${ids(cancel.cancelled)}.`,
        width
      )
    )
  if (cancel.finished.length > 0)
    lines.push(
      ...wrap(
        `Finished before their cancel arrived: ${cancel.finished
          .slice(0, MAX_LISTED_IDS)
          .map(f => `${terminalText(f.runId, 80)} (${f.status})`)
          .join(
            ', '
          )}${cancel.finished.length > MAX_LISTED_IDS ? ` and ${formatCount(cancel.finished.length - MAX_LISTED_IDS)} more` : ''}.`,
        width
      )
    )
  if (cancel.failed.length > 0) {
    lines.push(
      ...wrap(
        c.red(
          `Could not cancel ${plural(cancel.failed.length, 'superseded evaluation')}; ${cancel.failed.length === 1 ? 'it' : 'they'} may still be running and billing:`
        ),
        width
      )
    )
    for (const failed of cancel.failed.slice(0, MAX_LISTED_IDS))
      lines.push(
        ...wrap(
          `• ${terminalText(failed.runId, 80)}: ${terminalText(failed.message, 300)}`,
          width,
          '  '
        ).map((line, i) => (i === 0 ? line.slice(2) : line))
      )
    if (cancel.failed.length > MAX_LISTED_IDS)
      lines.push(`• … and ${formatCount(cancel.failed.length - MAX_LISTED_IDS)} more`)
  }
  return lines.length > 0 ? [lines] : []
}

function ids(runIds: string[]): string {
  const shown = runIds.slice(0, MAX_LISTED_IDS).map(id => terminalText(id, 80))
  const more = runIds.length - shown.length
  return `${shown.join(', ')}${more > 0 ? ` and ${formatCount(more)} more` : ''}`
}

function listedLine({ gathered }: RunReport): string {
  const byStatus = EVALUATION_STATUSES.filter(status => gathered.listedByStatus[status])
    .map(status => `${status} ${formatCount(gathered.listedByStatus[status] ?? 0)}`)
    .join(' · ')
  return `Listed: ${plural(gathered.listedCount, 'evaluation')} matched the filters${byStatus ? ` (${byStatus})` : ''}.`
}

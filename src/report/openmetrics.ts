/**
 * The metrics file for GitLab's metrics report (OpenMetrics text): one sample per judged
 * evaluation, labelled by prompt and evaluator, and one without labels for the totals. Pure.
 *
 * Metric families, all gauges (a report is a snapshot of one run, not a counter):
 * - `adaline_pass_ratio`: passed runs / all runs, 0..1, 4 decimals; left out while there are no runs
 *   (`_ratio`, not `_rate`, which Prometheus reads as "per second");
 * - `adaline_runs_passed`, `adaline_runs_failed`, `adaline_runs_unknown`: run counts;
 * - `adaline_cost_usd`: cost in US dollars, 6 decimals;
 * - `adaline_latency_avg_seconds`: average latency per run in seconds (Prometheus' base unit; the
 *   API's milliseconds / 1000), 3 decimals, so to the millisecond; left out while there are no runs;
 * - `adaline_tokens`: tokens used;
 * - `adaline_new_failures`, `adaline_new_passes`: rows that pass in the baseline and fail now, and
 *   the other way round; `adaline_regression_p_value`: McNemar's exact one-sided p for the drop, 6
 *   decimals (the totals: the smallest). Only for evaluations compared row by row with their
 *   baselines; a family with no such sample is left out whole.
 *
 * Why it is written so:
 * - GitLab keys each sample by `name{labels}` with the quotes removed and compares values as
 *   strings, so each figure has one fixed format: no exponent, fixed decimals, no `-0`.
 * - The totals carry no labels: `adaline_pass_ratio 0.8750` reads as the whole in the merge
 *   request widget, and no prompt can be named so as to take its place.
 * - GitLab cuts each line at its first `#` before splitting it like a shell: a `#` in a label
 *   value would lose the whole report, so it becomes `＃` (U+FF03).
 * - Two evaluations with the same labels would be one series (GitLab keeps the last): the later
 *   ones get " (2)", " (3)"… after the evaluator.
 */

/** One set of figures: an evaluation's, or the totals. */
export interface Figures {
  passRuns: number
  failRuns: number
  unknownRuns: number
  /** 0..1; null when there are no runs (then no sample) */
  passRate: number | null
  costUsd: number
  /** milliseconds; null when there are no runs (then no sample) */
  avgLatencyMs: number | null
  tokens: number
  /** compared row by row with the baseline: rows newly failing and newly passing, and McNemar's p; absent: not compared */
  newFailures?: number
  newPasses?: number
  pValue?: number
}

/** One judged evaluation's figures and names. */
export interface MetricsEvaluation extends Figures {
  /** the prompt's name as the report shows it */
  prompt: string
  /** the evaluator's title where known, else its ID */
  evaluator: string
}

export interface MetricsInput {
  evaluations: readonly MetricsEvaluation[]
  totals: Figures
}

interface Family {
  name: string
  help: string
  unit?: string
  /** the sample's value as written; undefined: no sample */
  value: (figures: Figures) => string | undefined
  /** left out whole, TYPE and HELP too, when no series has a sample */
  optional?: boolean
}

/** The metric families, in the order written. */
export const FAMILIES: readonly Family[] = [
  {
    name: 'adaline_pass_ratio',
    help: 'Share of runs graded pass, 0 to 1.',
    value: ({ passRate }) => (passRate === null ? undefined : fixed(passRate, 4))
  },
  {
    name: 'adaline_runs_passed',
    help: 'Runs graded pass.',
    value: ({ passRuns }) => fixed(passRuns, 0)
  },
  {
    name: 'adaline_runs_failed',
    help: 'Runs graded fail.',
    value: ({ failRuns }) => fixed(failRuns, 0)
  },
  {
    name: 'adaline_runs_unknown',
    help: 'Runs graded unknown.',
    value: ({ unknownRuns }) => fixed(unknownRuns, 0)
  },
  {
    name: 'adaline_cost_usd',
    help: 'Cost in US dollars.',
    unit: 'usd',
    value: ({ costUsd }) => fixed(costUsd, 6)
  },
  {
    name: 'adaline_latency_avg_seconds',
    help: 'Average latency per run, in seconds.',
    unit: 'seconds',
    value: ({ avgLatencyMs }) => (avgLatencyMs === null ? undefined : fixed(avgLatencyMs / 1000, 3))
  },
  {
    name: 'adaline_tokens',
    help: 'Tokens used.',
    value: ({ tokens }) => fixed(tokens, 0)
  },
  {
    name: 'adaline_new_failures',
    help: 'Rows that pass in the baseline and fail now.',
    optional: true,
    value: ({ newFailures }) => (newFailures === undefined ? undefined : fixed(newFailures, 0))
  },
  {
    name: 'adaline_new_passes',
    help: 'Rows that fail in the baseline and pass now.',
    optional: true,
    value: ({ newPasses }) => (newPasses === undefined ? undefined : fixed(newPasses, 0))
  },
  {
    name: 'adaline_regression_p_value',
    help: "McNemar's exact one-sided p-value for the drop from the baseline, 0 to 1.",
    optional: true,
    value: ({ pValue }) => (pValue === undefined ? undefined : fixed(pValue, 6))
  }
]

/** The OpenMetrics text, ending with `# EOF` and a newline. */
export function buildOpenMetrics(input: MetricsInput): string {
  const series = [
    { labels: '', figures: input.totals },
    ...uniqueLabels(input.evaluations).map((labels, i) => ({
      labels,
      figures: input.evaluations[i] as Figures
    }))
  ]
  const lines: string[] = []
  for (const family of FAMILIES) {
    const samples = series.flatMap(({ labels, figures }) => {
      const value = family.value(figures)
      return value === undefined ? [] : [`${family.name}${labels} ${value}`]
    })
    if (family.optional && samples.length === 0) continue
    lines.push(`# TYPE ${family.name} gauge`)
    if (family.unit !== undefined) lines.push(`# UNIT ${family.name} ${family.unit}`)
    lines.push(`# HELP ${family.name} ${family.help}`)
    lines.push(...samples)
  }
  lines.push('# EOF')
  return `${lines.join('\n')}\n`
}

/** `{prompt="…",evaluator="…"}` for each evaluation, no two alike. */
function uniqueLabels(evaluations: readonly MetricsEvaluation[]): string[] {
  const taken = new Set<string>()
  // the next suffix to try per set of names, so that a thousand twins cost a thousand steps
  const next = new Map<string, number>()
  return evaluations.map(({ prompt, evaluator }) => {
    const start = `{prompt="${labelValue(named(prompt))}",evaluator="${labelValue(named(evaluator))}`
    const first = `${start}"}`
    let n = taken.has(first) ? (next.get(first) ?? 2) : 1
    let chosen = n === 1 ? first : `${start} (${n})"}`
    while (taken.has(chosen)) chosen = `${start} (${(n += 1)})"}`
    next.set(first, n + 1)
    taken.add(chosen)
    return chosen
  })
}

// What some readers take as a line end or cannot show: control characters but LF (escaped below;
// CR and TAB are gone by then), U+2028/U+2029 and lone surrogates
const UNSAFE = /(?!\n)\p{Cc}|[\u2028\u2029]|\p{Surrogate}/gu

/** Prometheus takes an empty label value for a missing label: it would read as the totals. */
function named(text: string): string {
  return text === '' ? '(unnamed)' : text
}

/** The one escape for this format: a label value between double quotes. */
function labelValue(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, ' ')
    .replace(UNSAFE, '\uFFFD')
    .replace(/#/g, '＃')
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
}

const FORMATS = new Map<number, Intl.NumberFormat>()

/** A figure with a fixed number of decimals: never an exponent, never `-0`. */
function fixed(value: number, decimals: number): string {
  if (!Number.isFinite(value)) throw new RangeError(`not a finite number: ${value}`)
  let format = FORMATS.get(decimals)
  if (format === undefined) {
    format = new Intl.NumberFormat('en-US', {
      useGrouping: false,
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
      signDisplay: 'negative'
    })
    FORMATS.set(decimals, format)
  }
  return format.format(value)
}

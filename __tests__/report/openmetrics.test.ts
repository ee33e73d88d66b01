/**
 * The OpenMetrics builder: every line in the name and label grammar, read back by a Prometheus
 * text parser and by GitLab's own line rule with the input's figures and names.
 */
import fc from 'fast-check'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import {
  buildOpenMetrics,
  FAMILIES,
  type Figures,
  type MetricsEvaluation,
  type MetricsInput
} from '../../src/report/openmetrics.js'
import { gitlabReading, grammarProblems } from '../../test-support/metrics-check.js'

function figures(overrides: Partial<Figures> = {}): Figures {
  return {
    passRuns: 7,
    failRuns: 1,
    unknownRuns: 0,
    passRate: 0.875,
    costUsd: 0.0123,
    avgLatencyMs: 1234.5678,
    tokens: 4200,
    ...overrides
  }
}

/** The families every report has; the row-comparison ones only when something was compared. */
const ALWAYS = FAMILIES.filter(family => !family.optional)

const EXAMPLE: MetricsInput = {
  totals: figures({ passRuns: 16, failRuns: 2, unknownRuns: 2, passRate: 0.8, costUsd: 0.5 }),
  evaluations: [
    { prompt: 'support bot', evaluator: 'tone', ...figures() },
    {
      prompt: 'faq',
      evaluator: 'facts',
      ...figures({ passRuns: 9, failRuns: 1, unknownRuns: 2, passRate: 0.75, costUsd: 0.4877 })
    }
  ]
}

describe('buildOpenMetrics', () => {
  it('writes each family as a gauge: the totals without labels, then one sample per evaluation', () => {
    expect(buildOpenMetrics(EXAMPLE)).toBe(
      [
        '# TYPE adaline_pass_ratio gauge',
        '# HELP adaline_pass_ratio Share of runs graded pass, 0 to 1.',
        'adaline_pass_ratio 0.8000',
        'adaline_pass_ratio{prompt="support bot",evaluator="tone"} 0.8750',
        'adaline_pass_ratio{prompt="faq",evaluator="facts"} 0.7500',
        '# TYPE adaline_runs_passed gauge',
        '# HELP adaline_runs_passed Runs graded pass.',
        'adaline_runs_passed 16',
        'adaline_runs_passed{prompt="support bot",evaluator="tone"} 7',
        'adaline_runs_passed{prompt="faq",evaluator="facts"} 9',
        '# TYPE adaline_runs_failed gauge',
        '# HELP adaline_runs_failed Runs graded fail.',
        'adaline_runs_failed 2',
        'adaline_runs_failed{prompt="support bot",evaluator="tone"} 1',
        'adaline_runs_failed{prompt="faq",evaluator="facts"} 1',
        '# TYPE adaline_runs_unknown gauge',
        '# HELP adaline_runs_unknown Runs graded unknown.',
        'adaline_runs_unknown 2',
        'adaline_runs_unknown{prompt="support bot",evaluator="tone"} 0',
        'adaline_runs_unknown{prompt="faq",evaluator="facts"} 2',
        '# TYPE adaline_cost_usd gauge',
        '# UNIT adaline_cost_usd usd',
        '# HELP adaline_cost_usd Cost in US dollars.',
        'adaline_cost_usd 0.500000',
        'adaline_cost_usd{prompt="support bot",evaluator="tone"} 0.012300',
        'adaline_cost_usd{prompt="faq",evaluator="facts"} 0.487700',
        '# TYPE adaline_latency_avg_seconds gauge',
        '# UNIT adaline_latency_avg_seconds seconds',
        '# HELP adaline_latency_avg_seconds Average latency per run, in seconds.',
        'adaline_latency_avg_seconds 1.235',
        'adaline_latency_avg_seconds{prompt="support bot",evaluator="tone"} 1.235',
        'adaline_latency_avg_seconds{prompt="faq",evaluator="facts"} 1.235',
        '# TYPE adaline_tokens gauge',
        '# HELP adaline_tokens Tokens used.',
        'adaline_tokens 4200',
        'adaline_tokens{prompt="support bot",evaluator="tone"} 4200',
        'adaline_tokens{prompt="faq",evaluator="facts"} 4200',
        '# EOF',
        ''
      ].join('\n')
    )
    expect(grammarProblems(buildOpenMetrics(EXAMPLE))).toEqual([])
  })

  it('reads back through a Prometheus text parser with the input figures', () => {
    const families = parsePrometheusTextFormat(buildOpenMetrics(EXAMPLE))
    expect(families.map(f => [f.name, f.type])).toEqual(ALWAYS.map(f => [f.name, 'GAUGE']))
    const tone = { prompt: 'support bot', evaluator: 'tone' }
    const read = (name: string) => families.find(f => f.name === name)?.metrics
    expect(read('adaline_pass_ratio')?.[0]).toEqual({ value: '0.8000' })
    expect(read('adaline_pass_ratio')?.[1]).toEqual({ value: '0.8750', labels: tone })
    expect(read('adaline_runs_unknown')?.map(m => Number(m.value))).toEqual([2, 0, 2])
    expect(read('adaline_cost_usd')?.map(m => Number(m.value))).toEqual([0.5, 0.0123, 0.4877])
    expect(read('adaline_latency_avg_seconds')?.[1]?.labels).toEqual(tone)
  })

  it('adds new failures, new passes and the p-value for the evaluations compared row by row only', () => {
    const compared: MetricsInput = {
      totals: figures({ newFailures: 40, newPasses: 1, pValue: 3.7e-11 }),
      evaluations: [
        {
          prompt: 'support bot',
          evaluator: 'tone',
          ...figures({ newFailures: 40, newPasses: 1, pValue: 3.7e-11 })
        },
        { prompt: 'faq', evaluator: 'facts', ...figures() }
      ]
    }
    const text = buildOpenMetrics(compared)
    expect(grammarProblems(text)).toEqual([])
    const gitlab = gitlabReading(text)
    expect(gitlab.get('adaline_new_failures')).toBe('40')
    expect(gitlab.get('adaline_new_failures{prompt=support bot,evaluator=tone}')).toBe('40')
    expect(gitlab.get('adaline_new_passes{prompt=support bot,evaluator=tone}')).toBe('1')
    expect(gitlab.get('adaline_regression_p_value')).toBe('0.000000')
    expect(gitlab.has('adaline_new_failures{prompt=faq,evaluator=facts}')).toBe(false)
    expect(parsePrometheusTextFormat(text).map(f => f.name)).toEqual(FAMILIES.map(f => f.name))
  })

  it('is read whole by GitLab, keyed name{labels} without quotes', () => {
    const gitlab = gitlabReading(buildOpenMetrics(EXAMPLE))
    expect(gitlab.size).toBe(ALWAYS.length * 3)
    expect(gitlab.get('adaline_pass_ratio')).toBe('0.8000')
    expect(gitlab.get('adaline_pass_ratio{prompt=support bot,evaluator=tone}')).toBe('0.8750')
    expect(gitlab.get('adaline_cost_usd{prompt=faq,evaluator=facts}')).toBe('0.487700')
  })

  it('leaves out the pass ratio and latency where there are no runs, never writing NaN', () => {
    const none = figures({ passRuns: 0, failRuns: 0, passRate: null, avgLatencyMs: null })
    const text = buildOpenMetrics({
      totals: none,
      evaluations: [{ prompt: 'p', evaluator: 'e', ...none }]
    })
    expect(text).not.toMatch(/^adaline_(pass_ratio|latency_avg_seconds)[{ ]/m)
    expect(text).not.toMatch(/NaN|null|undefined/)
    expect(text).toMatch(/^adaline_runs_passed 0$/m)
    expect(grammarProblems(text)).toEqual([])
    const families = parsePrometheusTextFormat(text)
    expect(families.find(f => f.name === 'adaline_pass_ratio')?.metrics ?? []).toEqual([])
  })

  it('writes each figure in one fixed plain format: no exponent, no -0, fixed decimals', () => {
    const text = buildOpenMetrics({
      totals: figures({
        passRate: 0.1 + 0.2,
        costUsd: 1e-7,
        avgLatencyMs: 1e25,
        tokens: 1e21,
        unknownRuns: -0
      }),
      evaluations: []
    })
    expect(text).toMatch(/^adaline_pass_ratio 0\.3000$/m)
    expect(text).toMatch(/^adaline_cost_usd 0\.000000$/m)
    expect(text).toMatch(/^adaline_latency_avg_seconds 10000000000000000000000\.000$/m)
    expect(text).toMatch(/^adaline_tokens 1000000000000000000000$/m)
    expect(text).toMatch(/^adaline_runs_unknown 0$/m)
    expect(grammarProblems(text)).toEqual([])
  })

  it('escapes \\ " and newlines in label values and replaces # so GitLab keeps the whole report', () => {
    const name = 'C# tone "strict"\nit\'s \\ok'
    const text = buildOpenMetrics({
      totals: figures(),
      evaluations: [{ prompt: name, evaluator: name, ...figures() }]
    })
    const written = 'C＃ tone \\"strict\\"\\nit\'s \\\\ok'
    expect(text).toContain(`adaline_tokens{prompt="${written}",evaluator="${written}"} 4200`)
    expect(grammarProblems(text)).toEqual([])
    const read = 'C＃ tone "strict"\nit\'s \\ok'
    const labels = parsePrometheusTextFormat(text)[0]?.metrics[1]?.labels
    expect(labels).toEqual({ prompt: read, evaluator: read })
    const gitlab = gitlabReading(text)
    expect(gitlab.size).toBe(ALWAYS.length * 2)
    const key = 'C＃ tone "strict"\\nit\'s \\ok'
    expect(gitlab.get(`adaline_tokens{prompt=${key},evaluator=${key}}`)).toBe('4200')
  })

  it('replaces controls, lone surrogates and line separators, and names an empty label', () => {
    const text = buildOpenMetrics({
      totals: figures(),
      evaluations: [
        {
          prompt: 'a\u0000b\u001Bc\u007Fd\u0085e\u2028f\uD800g\r\nh\ti',
          evaluator: '',
          ...figures()
        }
      ]
    })
    const labels = parsePrometheusTextFormat(text)[0]?.metrics[1]?.labels
    expect(labels).toEqual({
      prompt: 'a\uFFFDb\uFFFDc\uFFFDd\uFFFDe\uFFFDf\uFFFDg\nh i',
      evaluator: '(unnamed)'
    })
    expect(grammarProblems(text)).toEqual([])
  })

  it('gives evaluations that share a prompt and an evaluator name distinct series', () => {
    const twin = { prompt: 'support bot', evaluator: 'tone' }
    const text = buildOpenMetrics({
      totals: figures(),
      evaluations: [
        { ...twin, ...figures({ tokens: 1 }) },
        { ...twin, ...figures({ tokens: 2 }) },
        { ...twin, evaluator: 'tone (2)', ...figures({ tokens: 3 }) }
      ]
    })
    const tokens = parsePrometheusTextFormat(text).find(f => f.name === 'adaline_tokens')
    expect(tokens?.metrics.slice(1)).toEqual([
      { value: '1', labels: twin },
      { value: '2', labels: { ...twin, evaluator: 'tone (2)' } },
      { value: '3', labels: { ...twin, evaluator: 'tone (2) (2)' } }
    ])
  })

  it('refuses a figure that is not finite rather than write NaN or Infinity', () => {
    expect(() => buildOpenMetrics({ totals: figures({ costUsd: NaN }), evaluations: [] })).toThrow(
      RangeError
    )
    expect(() =>
      buildOpenMetrics({ totals: figures({ passRate: Infinity }), evaluations: [] })
    ).toThrow(RangeError)
  })
})

/** Names that break naive writers, mixed with any code point (lone surrogates included). */
const hostileName = fc.oneof(
  // names that recur, so that twins and empty names come up
  fc.constantFrom('', 'tone', 'tone (2)', '#'),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({
    unit: fc.constantFrom(
      ...['#', '"', '\\', '\n', '\r', '\t', ' ', '{', '}', ',', '=', "'", '\\n', '$', '`'],
      ...['\u0000', '\u0085', '\u2028', '\uD800', '😀', '事', '＃', 'a', 'all']
    ),
    maxLength: 16
  })
)
const countArb = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })
const figuresArb: fc.Arbitrary<Figures> = fc.record({
  passRuns: countArb,
  failRuns: countArb,
  unknownRuns: countArb,
  passRate: fc.option(fc.double({ min: 0, max: 1, noNaN: true })),
  costUsd: fc.double({ min: 0, max: 1e12, noNaN: true }),
  avgLatencyMs: fc.option(fc.double({ min: 0, max: 1e9, noNaN: true })),
  tokens: countArb
})
const evaluationArb = fc
  .tuple(hostileName, hostileName, figuresArb)
  .map(([prompt, evaluator, f]): MetricsEvaluation => ({ prompt, evaluator, ...f }))
const inputArb: fc.Arbitrary<MetricsInput> = fc.record({
  totals: figuresArb,
  // some evaluations again under the same names: twins must still be distinct series
  evaluations: fc
    .array(evaluationArb, { maxLength: 5 })
    .chain(list => fc.subarray(list).map(twins => [...list, ...twins]))
})

/** What a label value reads back as: the documented replacements, nothing else. */
function asRead(name: string): string {
  if (name === '') return '(unnamed)'
  return Array.from(name.replace(/\r\n?/g, '\n'), c => {
    const code = c.codePointAt(0) ?? 0
    if (c === '\t') return ' '
    if (c === '#') return '＃'
    if (c === '\n') return c
    const control = code < 0x20 || (code >= 0x7f && code <= 0x9f)
    const surrogate = code >= 0xd800 && code <= 0xdfff
    return control || surrogate || c === '\u2028' || c === '\u2029' ? '\uFFFD' : c
  }).join('')
}

/** Each family's figure as the input has it, and how many decimals the file keeps. */
const FIGURE: Record<string, [(f: Figures) => number | null, number]> = {
  adaline_pass_ratio: [f => f.passRate, 4],
  adaline_runs_passed: [f => f.passRuns, 0],
  adaline_runs_failed: [f => f.failRuns, 0],
  adaline_runs_unknown: [f => f.unknownRuns, 0],
  adaline_cost_usd: [f => f.costUsd, 6],
  adaline_latency_avg_seconds: [f => (f.avgLatencyMs === null ? null : f.avgLatencyMs / 1000), 3],
  adaline_tokens: [f => f.tokens, 0]
}

describe('buildOpenMetrics on any input', () => {
  it('keeps to the grammar, and reads back with the input names and figures, in GitLab too', () => {
    fc.assert(
      fc.property(inputArb, input => {
        const text = buildOpenMetrics(input)
        expect(grammarProblems(text)).toEqual([])
        let samples = 0
        for (const family of parsePrometheusTextFormat(text)) {
          const entry = FIGURE[family.name]
          if (!entry) throw new Error(`unexpected family ${family.name}`)
          const [figure, decimals] = entry
          const hasTotal = figure(input.totals) !== null
          const named = input.evaluations.filter(e => figure(e) !== null)
          const present = [...(hasTotal ? [input.totals] : []), ...named]
          expect(family.metrics).toHaveLength(present.length)
          family.metrics.forEach((metric, i) => {
            const expected = figure(present[i] as Figures) as number
            const [, fraction = ''] = metric.value.split('.')
            expect(fraction).toHaveLength(decimals)
            const value = Number(metric.value)
            if (decimals === 0) expect(value).toBe(expected)
            else
              expect(Math.abs(value - expected)).toBeLessThanOrEqual(
                0.5 * 10 ** -decimals + Math.abs(expected) * Number.EPSILON
              )
          })
          samples += family.metrics.length
          // the totals first, unlabelled; then every evaluation, named as given, no two alike
          if (hasTotal) expect(family.metrics[0]?.labels).toBeUndefined()
          const labelled = family.metrics.slice(hasTotal ? 1 : 0).map(m => m.labels)
          expect(new Set(labelled.map(l => JSON.stringify(l))).size).toBe(labelled.length)
          labelled.forEach((labels, i) => {
            const evaluation = named[i] as MetricsEvaluation
            expect(labels?.prompt).toBe(asRead(evaluation.prompt))
            // a twin of an earlier evaluation's names gets " (n)"
            const evaluator = asRead(evaluation.evaluator)
            expect(labels?.evaluator?.startsWith(evaluator)).toBe(true)
            expect(labels?.evaluator?.slice(evaluator.length)).toMatch(/^(| \(\d+\))$/)
          })
        }
        // GitLab reads every sample (no line lost to a # or a quote) under its own key
        expect(gitlabReading(text).size).toBe(samples)
      }),
      { numRuns: 300 }
    )
  })
})

/**
 * The report files from what a run produced: the JUnit file valid for Jenkins and GitLab with a
 * suite per judged evaluation and a testcase per row, the metrics file read back by a Prometheus
 * parser, and in both the counts the step's outputs give.
 */
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import type { Result } from '../../src/adaline/schema.js'
import { buildReportFiles, junitInput, metricsInput } from '../../src/report/ci-files.js'
import { buildOpenMetrics } from '../../src/report/openmetrics.js'
import { buildJUnit, RUNS_TESTCASE } from '../../src/report/junit.js'
import { buildOutputs } from '../../src/report/outputs.js'
import type { FetchedResults } from '../../src/run/results-cache.js'
import { fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import {
  expectCountsAgree,
  junit10Problems,
  readBack,
  schemaErrors
} from '../../test-support/junit-check.js'
import { grammarProblems } from '../../test-support/metrics-check.js'
import { judgedOf, reportOf } from '../../test-support/run-reports.js'

const A = makeEvaluation({ n: 1, pass: 3, fail: 2, unknown: 1, evaluatorId: fakeId('evl', 1) })
const B = makeEvaluation({ n: 2, pass: 4, fail: 0, unknown: 0, evaluatorId: fakeId('evl', 2) })
const C = makeEvaluation({ n: 3, pass: 5, fail: 1, unknown: 0, evaluatorId: fakeId('evl', 3) })

/** Results that agree with an evaluation's run counts: pass rows, then fail, then unknown. */
function resultsOf(evaluation: typeof A): Result[] {
  const { passRuns, failRuns, unknownRuns } = evaluation.metrics
  const grades = [
    ...Array<'pass'>(passRuns).fill('pass'),
    ...Array<'fail'>(failRuns).fill('fail'),
    ...Array<'unknown'>(unknownRuns).fill('unknown')
  ]
  return grades.map((grade, i) => ({
    id: `res_${evaluation.runId}_${i}`,
    rowId: `row_${i}`,
    grade,
    score: grade === 'pass' ? 1 : 0,
    reason: grade === 'pass' ? 'fine' : `judge says ${grade} <&> "quoted"`,
    latency: 500 + i
  }))
}

/** A failing run: A's rows fetched, B's capped at 2 (2 left out), C's not fetched. */
function failingRun() {
  const rowResults = new Map<string, FetchedResults>([
    [A.runId, { ok: true, results: resultsOf(A), leftOut: 0, cap: 10_000 }],
    [B.runId, { ok: true, results: resultsOf(B).slice(0, 2), leftOut: 2, cap: 2 }],
    [C.runId, { ok: false, problem: 'GET … answered 500' }]
  ])
  return reportOf(judgedOf([A, B, C]), 'scope: all\nmax-fail-runs: 0\nmin-pass-rate: 0.5', {
    extra: {
      rowResults,
      evaluatorTitles: new Map([[A.evaluatorId, 'Tone & "style"']])
    }
  })
}

describe('junitInput', () => {
  it('builds a file Jenkins and GitLab read: valid, counts agreeing, a testcase per row', async () => {
    const report = failingRun()
    const xml = buildJUnit(junitInput(report))
    expect(await schemaErrors([xml])).toEqual(new Map())
    expect(junit10Problems(xml)).toEqual([])
    const read = await readBack(xml)
    expectCountsAgree(read)
    const [policy, a, b, c] = read.testsuite ?? []
    expect(policy?.testcase?.map(t => [t.name, Boolean(t.failure)])).toEqual([
      ['max-fail-runs', true],
      ['min-pass-rate', false],
      ['allow-status', false]
    ])
    // A: every row, with grades as testcase outcomes, named after prompt and the evaluator's title
    expect(a?.name).toBe(`${fakeId('prm', 1)} / Tone & "style"`)
    expect(a?.testcase?.map(t => t.name)).toEqual(resultsOf(A).map(r => r.rowId))
    expect(a).toMatchObject({ tests: 6, failures: 2, errors: 1 })
    // B: the rows under the cap, and one skipped testcase for those left out
    expect(b?.name).toBe(`${fakeId('prm', 1)} / ${B.evaluatorId}`)
    expect(b?.testcase?.map(t => [t.name, Boolean(t.skipped)])).toEqual([
      ['row_0', false],
      ['row_1', false],
      ['2 more rows left out', true]
    ])
    // C: rows not fetched, its run counts stand for them
    expect(c?.testcase?.map(t => [t.name, Boolean(t.failure)])).toEqual([[RUNS_TESTCASE, true]])
    const properties = Object.fromEntries((a?.properties ?? []).map(p => [p.name, p.value]))
    expect(properties).toMatchObject({
      runId: A.runId,
      promptId: fakeId('prm', 1),
      evaluatorId: A.evaluatorId,
      evaluator: 'Tone & "style"',
      datasetId: A.datasetId,
      status: 'completed',
      passRuns: '3',
      failRuns: '2',
      unknownRuns: '1',
      passRate: '0.5',
      costUsd: String(A.metrics.totalCost)
    })
  })

  it("agrees with the step's outputs: row failures and errors are the fail and unknown runs", async () => {
    const report = failingRun()
    report.rowResults!.set(B.runId, { ok: true, results: resultsOf(B), leftOut: 0, cap: 10_000 })
    report.rowResults!.set(C.runId, { ok: true, results: resultsOf(C), leftOut: 0, cap: 10_000 })
    const read = await readBack(buildJUnit(junitInput(report)))
    const { values } = buildOutputs(report)
    const rows = (read.testsuite ?? []).slice(1).flatMap(suite => suite.testcase ?? [])
    expect({
      'pass-runs': String(rows.filter(t => !t.failure && !t.error).length),
      'fail-runs': String(rows.filter(t => t.failure).length),
      'unknown-runs': String(rows.filter(t => t.error).length),
      'evaluation-count': String((read.testsuite ?? []).length - 1),
      gate: (read.testsuite?.[0]?.failures ?? 0) > 0 ? 'failed' : 'passed'
    }).toEqual({
      'pass-runs': values['pass-runs'],
      'fail-runs': values['fail-runs'],
      'unknown-runs': values['unknown-runs'],
      'evaluation-count': values['evaluation-count'],
      gate: values.gate
    })
  })

  it('names suites so that none is the same, keeping names stable from build to build', () => {
    const twin = (n: number, datasetId: string) =>
      makeEvaluation({ n, evaluatorId: fakeId('evl', 1), datasetId })
    const report = reportOf(
      judgedOf([twin(1, fakeId('dst', 1)), twin(2, fakeId('dst', 2)), twin(3, fakeId('dst', 2))]),
      'scope: all'
    )
    const base = `${fakeId('prm', 1)} / ${fakeId('evl', 1)}`
    expect(junitInput(report).evaluations.map(e => e.name)).toEqual([
      `${base} / ${fakeId('dst', 1)}`,
      `${base} / ${fakeId('dst', 2)}`,
      `${base} / ${fakeId('dst', 2)} (2)`
    ])
  })

  it('writes one suite per evaluation without rows when no row results were fetched', () => {
    const input = junitInput(reportOf(judgedOf([A])))
    expect(input.evaluations.map(e => e.rows)).toEqual([undefined])
    expect(input.time).toBe(12.345)
  })
})

describe('metricsInput', () => {
  it("gives the step's totals and each evaluation's figures, named by title where known", () => {
    const report = failingRun()
    const text = buildOpenMetrics(metricsInput(report))
    expect(grammarProblems(text)).toEqual([])
    const families = new Map(parsePrometheusTextFormat(text).map(f => [f.name, f.metrics]))
    const total = (name: string) => families.get(name)?.find(s => s.labels === undefined)?.value
    const { values } = buildOutputs(report)
    expect({
      'pass-runs': total('adaline_runs_passed'),
      'fail-runs': total('adaline_runs_failed'),
      'unknown-runs': total('adaline_runs_unknown'),
      'total-tokens': total('adaline_tokens')
    }).toEqual({
      'pass-runs': values['pass-runs'],
      'fail-runs': values['fail-runs'],
      'unknown-runs': values['unknown-runs'],
      'total-tokens': values['total-tokens']
    })
    expect(Number(total('adaline_pass_ratio'))).toBeCloseTo(Number(values['pass-rate']), 4)
    expect(Number(total('adaline_cost_usd'))).toBeCloseTo(Number(values['total-cost']), 6)
    const labelled = families.get('adaline_runs_failed')?.filter(s => s.labels)
    expect(labelled?.map(s => [s.labels?.evaluator, s.value])).toEqual([
      ['Tone & "style"', '2'],
      [B.evaluatorId, '0'],
      [C.evaluatorId, '1']
    ])
  })
})

describe('buildReportFiles', () => {
  it('builds only the files asked for, each named by its input', () => {
    const report = failingRun()
    expect(buildReportFiles(report, {}).map(f => f.input)).toEqual([])
    const files = buildReportFiles(report, { metricsFile: 'm.txt', junitFile: 'out/junit.xml' })
    expect(files.map(({ input, path }) => [input, path])).toEqual([
      ['junit-file', 'out/junit.xml'],
      ['metrics-file', 'm.txt']
    ])
    expect(files[0]?.text).toMatch(/^<\?xml/)
    expect(files[1]?.text).toMatch(/# EOF\n$/)
  })
})

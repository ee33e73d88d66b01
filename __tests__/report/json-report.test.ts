/**
 * The JSON report: valid against schema/report.schema.json (ajv, draft 2020-12, strict), with the
 * verdict and every rule, the totals the outputs give, each judged evaluation with its baseline
 * and deltas, and what the run did and when.
 */
import { readFileSync } from 'node:fs'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { buildJsonReport, jsonReportText } from '../../src/report/json-report.js'
import { buildOutputs } from '../../src/report/outputs.js'
import { fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { apiFieldsOf, judgedOf, reportOf } from '../../test-support/run-reports.js'

const schema = JSON.parse(
  readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8')
) as object
const ajv = new Ajv2020({ allErrors: true, strict: true })
addFormats.default(ajv)
const validate = ajv.compile(schema)

/** The schema's complaints about a report read back from its text; none when it is valid. */
function schemaErrors(text: string): string {
  return validate(JSON.parse(text)) ? '' : ajv.errorsText(validate.errors, { separator: '\n' })
}

const NOW = makeEvaluation({ n: 2, pass: 70, fail: 20, unknown: 10, cost: 0.5, avgLatencyMs: 900 })
const BEFORE = makeEvaluation({
  n: 1,
  pass: 90,
  fail: 10,
  unknown: 0,
  cost: 0.4,
  avgLatencyMs: 800
})

describe('buildJsonReport', () => {
  it('is valid against the published schema, on a failing run with a baseline and failing rows', () => {
    const report = reportOf(judgedOf([NOW]), 'max-fail-runs: 0\nmin-pass-rate: 0.8', {
      baselines: new Map([[NOW.runId, BEFORE]]),
      extra: {
        failingRows: new Map([
          [
            NOW.runId,
            [
              {
                id: 'res_1',
                rowId: 'row_1',
                grade: 'fail',
                score: 0,
                reason: 'wrong tone',
                latency: 812,
                row: { values: { question: 'hi', nested: { deep: ['…'] } } }
              },
              { id: 'res_2', rowId: 'row_2', grade: 'unknown' }
            ]
          ]
        ]),
        evaluatorTitles: new Map([[NOW.evaluatorId, 'Tone: strict']]),
        cancel: {
          cancelled: [fakeId('run', 7)],
          finished: [
            {
              runId: fakeId('run', 8),
              promptId: fakeId('prm', 1),
              status: 'completed',
              message: 'already completed'
            }
          ],
          failed: [{ runId: fakeId('run', 9), promptId: fakeId('prm', 1), message: 'answered 500' }]
        },
        started: [NOW.runId],
        wait: { items: [], waitedMs: 4_200, timedOut: [], progress: new Map() }
      }
    })
    const text = jsonReportText(buildJsonReport(report))
    expect(schemaErrors(text)).toBe('')
    const json = JSON.parse(text)
    expect(json.schemaVersion).toBe(1)
    expect(json.gate).toBe('failed')
    expect(json.rules).toEqual([
      expect.objectContaining({ rule: 'max-fail-runs', ok: false, figure: '20', limit: '0' }),
      expect.objectContaining({ rule: 'min-pass-rate', ok: false, figure: '70%', limit: '80%' }),
      expect.objectContaining({ rule: 'allow-status', ok: true })
    ])
    expect(json.rules[0].runIds).toEqual([NOW.runId])
    expect(json.broken.map((b: { rule: string }) => b.rule)).toEqual([
      'max-fail-runs',
      'min-pass-rate'
    ])
    const [judged] = json.evaluations
    expect(judged).toMatchObject({
      runId: NOW.runId,
      promptId: fakeId('prm', 1),
      evaluatorTitle: 'Tone: strict',
      passRate: 0.7,
      avgLatencyMs: 900,
      baseline: {
        runId: BEFORE.runId,
        passRate: 0.9,
        deltas: { passRatePoints: -20, cost: 0.1, avgLatencyMs: 100 }
      }
    })
    expect(judged.failingRows).toEqual([
      {
        id: 'res_1',
        rowId: 'row_1',
        grade: 'fail',
        score: 0,
        reason: 'wrong tone',
        latencyMs: 812,
        values: { question: 'hi', nested: { deep: ['…'] } }
      },
      {
        id: 'res_2',
        rowId: 'row_2',
        grade: 'unknown',
        score: null,
        reason: null,
        latencyMs: null,
        values: null
      }
    ])
    expect(json.cancelFailures).toEqual([
      { runId: fakeId('run', 9), promptId: fakeId('prm', 1), message: 'answered 500' }
    ])
    expect(json.waitedMs).toBe(4_200)
    expect(json.run).toEqual({
      promptIds: [fakeId('prm', 1)],
      scope: 'latest',
      dryRun: false,
      supersede: { act: false, reason: 'cancel-superseded is never' },
      startedAt: '2025-10-09T08:53:20.000Z',
      finishedAt: '2025-10-09T08:53:32.345Z',
      durationMs: 12_345
    })
  })

  it('is valid on a report-only run with nothing judged, and lists no rules', () => {
    const report = reportOf([], '', { extra: { timing: undefined } })
    const text = jsonReportText(buildJsonReport(report))
    expect(schemaErrors(text)).toBe('')
    const json = JSON.parse(text)
    expect(json).toMatchObject({ gate: 'skipped', rules: [], evaluations: [] })
    expect(json.metrics.passRate).toBeNull()
    expect(json.run).toMatchObject({ startedAt: null, finishedAt: null, durationMs: null })
  })

  it('lists every rule the policy sets when all hold, each with its figure against the limit', () => {
    const report = reportOf(
      judgedOf([BEFORE]),
      'max-fail-runs: 10\nmax-cost: 1\nmax-avg-latency: 1000\nallow-status: [completed]'
    )
    const json = buildJsonReport(report)
    expect(json.gate).toBe('passed')
    expect(json.rules).toEqual([
      {
        rule: 'max-fail-runs',
        ok: true,
        figure: '10',
        limit: '10',
        message: 'fail-runs 10, within max-fail-runs 10'
      },
      { rule: 'max-cost', ok: true, figure: '$0.40', limit: '$1.00', message: expect.any(String) },
      {
        rule: 'max-avg-latency',
        ok: true,
        figure: '800 ms',
        limit: '1.0 s',
        message: expect.any(String)
      },
      {
        rule: 'allow-status',
        ok: true,
        figure: '1 of 1',
        limit: 'completed',
        message: '1 of 1 judged evaluation in allow-status [completed]'
      }
    ])
  })

  it('gives the totals the step outputs give, as numbers', () => {
    const report = reportOf(judgedOf([NOW, BEFORE]), 'scope: all\nmax-fail-runs: 100')
    const json = buildJsonReport(report)
    const { values } = buildOutputs(report)
    expect({
      gate: json.gate,
      'listed-count': String(json.listedCount),
      'evaluation-count': String(json.metrics.evaluations),
      'pass-runs': String(json.metrics.passRuns),
      'fail-runs': String(json.metrics.failRuns),
      'unknown-runs': String(json.metrics.unknownRuns),
      'pass-rate': String(json.metrics.passRate),
      'total-cost': String(json.metrics.totalCost),
      'total-tokens': String(json.metrics.totalTokens)
    }).toEqual({
      gate: values.gate,
      'listed-count': values['listed-count'],
      'evaluation-count': values['evaluation-count'],
      'pass-runs': values['pass-runs'],
      'fail-runs': values['fail-runs'],
      'unknown-runs': values['unknown-runs'],
      'pass-rate': values['pass-rate'],
      'total-cost': values['total-cost'],
      'total-tokens': values['total-tokens']
    })
    // the API's fields of each evaluation, as the evaluations output has them
    expect(JSON.stringify(apiFieldsOf(json.evaluations))).toBe(values.evaluations)
  })

  it('keeps API text that looks like a workflow command or a line end inert, and reads back the same', () => {
    const hostile = '##[error]x \u2028::warning::y \u2029'
    const report = reportOf(judgedOf([NOW]), '', {
      extra: { evaluatorTitles: new Map([[NOW.evaluatorId, hostile]]) }
    })
    const text = jsonReportText(buildJsonReport(report))
    expect(text).not.toContain('##[')
    expect(text).not.toMatch(/[\u2028\u2029]/)
    expect(JSON.parse(text).evaluations[0].evaluatorTitle).toBe(hostile)
  })

  it('is refused by the schema when a field is missing or unknown (the schema is strict)', () => {
    const json = buildJsonReport(reportOf(judgedOf([NOW])))
    const { run: _run, ...missing } = json
    expect(schemaErrors(JSON.stringify(missing))).toContain("must have required property 'run'")
    expect(schemaErrors(JSON.stringify({ ...json, extra: 1 }))).toContain(
      'must NOT have additional properties'
    )
  })
})

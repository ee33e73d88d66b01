import { listed } from '../../__fixtures__/evaluations.js'
import type { CancelOutcome } from '../../src/run/cancel.js'
import type { Gathered } from '../../src/run/gather.js'
import { totals } from '../../src/judge/metrics.js'
import { judge } from '../../src/judge/policy.js'
import { parsePolicy } from '../../src/judge/policy-yaml.js'
import { buildOutputs } from '../../src/report/outputs.js'
import { SUMMARY_LIMIT_BYTES, buildSummary } from '../../src/report/summary.js'
import type { RunReport } from '../../src/run/run-report.js'
import { BaselineIndex, type Listed } from '../../src/judge/judged-set.js'

function reportOf(
  judged: Listed[],
  extra: Partial<RunReport> = {},
  policy = 'max-fail-runs: 0'
): RunReport {
  const evaluations = judged.map(item => item.evaluation)
  const metrics = totals(evaluations)
  const gathered: Gathered = {
    listedCount: judged.length,
    listedByStatus: { completed: judged.length },
    judged,
    superseded: [],
    baselines: new BaselineIndex(2),
    pages: 1
  }
  const cancel: CancelOutcome = { cancelled: [], finished: [], failed: [] }
  return {
    promptIds: ['prompt-aaaaaaaaaaaaaaaaaaaa'],
    scope: 'latest',
    dryRun: false,
    verdict: judge(evaluations, metrics, parsePolicy(policy)),
    metrics,
    gathered,
    decision: { act: false, reason: 'cancel-superseded is never' },
    cancel,
    started: [],
    baselines: new Map(),
    failingRows: new Map(),
    ...extra
  }
}

describe('buildSummary', () => {
  it('opens with the verdict, then each broken rule and the table with totals', () => {
    const summary = buildSummary(reportOf([listed({ pass: 8, fail: 2, unknown: 0, cost: 0.5 })]))
    const lines = summary.split('\n')
    expect(lines[0]).toBe('## ❌ Adaline evals: gate failed')
    expect(summary).toContain('### Broken rules\n\n- fail-runs 2 &#62; max-fail-runs 0')
    expect(summary).toMatch(
      /\| \*\*Total\*\* \|.*\| \*\*8\*\* \| \*\*2\*\* \| \*\*0\*\* \| \*\*80%\*\* \| \*\*\$0\.50\*\* \|/
    )
    expect(summary).toContain('1 evaluation(s) matched the filters: completed 1')
  })

  it('caps a long table and says how many rows were left out', () => {
    const summary = buildSummary(reportOf(Array.from({ length: 250 }, () => listed())))
    const rows = summary.split('\n').filter(line => line.startsWith('| run-'))
    expect(rows).toHaveLength(100)
    expect(summary).toContain('… and 150 more evaluation(s) not shown')
  })

  it('stays under the 1 MiB limit with the longest, most escaped API text', () => {
    const hostileId = '<'.repeat(80)
    const many = Array.from({ length: 5000 }, (_, i) =>
      listed({
        runId: `${'|'.repeat(70)}${String(i).padStart(10, '0')}`,
        evaluatorId: hostileId,
        datasetId: hostileId
      })
    )
    const failed = many
      .slice(0, 500)
      .map(item => ({ runId: item.evaluation.runId, promptId: 'p', message: '&'.repeat(5000) }))
    const report = reportOf(many, {
      decision: { act: true, cutoff: 1, reason: '@'.repeat(10_000) },
      gathered: {
        listedCount: 5000,
        listedByStatus: {},
        judged: many,
        superseded: many,
        baselines: new BaselineIndex(2),
        pages: 25
      },
      cancel: { cancelled: many.map(item => item.evaluation.runId), finished: [], failed }
    })
    expect(Buffer.byteLength(buildSummary(report))).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES)
    // and a smaller limit is met by dropping table rows
    const small = buildSummary(report, 100_000)
    expect(Buffer.byteLength(small)).toBeLessThanOrEqual(100_000)
    expect(small).toContain('more evaluation(s) not shown')
  })

  it('says the gate was skipped when the policy sets no rules', () => {
    expect(buildSummary(reportOf([listed()], {}, '')).split('\n')[0]).toBe(
      '## ⏭️ Adaline evals: report only (the policy sets no rules)'
    )
  })

  it('says what was cancelled and what could not be', () => {
    const a = listed({ status: 'running' })
    const b = listed({ status: 'running' })
    const summary = buildSummary(
      reportOf([], {
        decision: {
          act: true,
          cutoff: 5,
          reason: 'a force-push; evaluations submitted before X are superseded'
        },
        gathered: {
          listedCount: 0,
          listedByStatus: {},
          judged: [],
          superseded: [a, b],
          baselines: new BaselineIndex(2),
          pages: 1
        },
        cancel: {
          cancelled: [a.evaluation.runId],
          finished: [],
          failed: [
            { runId: b.evaluation.runId, promptId: a.promptId, message: 'answered 409 CONFLICT' }
          ]
        }
      })
    )
    expect(summary).toContain('A force-push; evaluations submitted before X are superseded.')
    expect(summary).toContain(`Cancelled 1 of 2 superseded evaluation(s): ${a.evaluation.runId}`)
    expect(summary).toContain(`- ${b.evaluation.runId}: answered 409 CONFLICT`)
  })

  it('says near the top that the run fails for cancels that did not land, and lists the finished apart', () => {
    const [a, b, c] = [1, 2, 3].map(() => listed({ status: 'running' }))
    const report = reportOf([listed()], {
      decision: { act: true, cutoff: 5, reason: 'a force-push' },
      cancel: {
        cancelled: [a!.evaluation.runId],
        finished: [
          { runId: c!.evaluation.runId, promptId: c!.promptId, status: 'completed', message: '409' }
        ],
        failed: [{ runId: b!.evaluation.runId, promptId: b!.promptId, message: 'answered 500' }]
      }
    })
    report.gathered = { ...report.gathered, superseded: [a!, b!, c!] }
    const lines = buildSummary(report).split('\n')
    expect(lines.slice(0, 6)).toContain(
      '⚠️ **1 superseded evaluation(s) could not be cancelled** and may still be running and billing, so the run fails whatever the gate (see Superseded evaluations, below).'
    )
    const superseded = lines.slice(lines.indexOf('### Superseded evaluations'))
    expect(superseded).toContain(
      `Cancelled 1 of 3 superseded evaluation(s): ${a!.evaluation.runId}`
    )
    expect(superseded).toContain(`- ${b!.evaluation.runId}: answered 500`)
    expect(superseded).toContain('Finished before their cancel arrived (1):')
    expect(superseded).toContain(`- ${c!.evaluation.runId}: completed`)
  })

  it('says nothing of failed cancels when every cancel landed', () => {
    expect(buildSummary(reportOf([listed()]))).not.toContain('could not be cancelled')
  })
})

describe('buildOutputs', () => {
  it('cuts the evaluations array to whole items within the limit and says so', () => {
    const many = Array.from({ length: 50 }, () => listed())
    const outputs = buildOutputs(reportOf(many), 5_000)
    expect(Buffer.byteLength(outputs.values.evaluations!)).toBeLessThanOrEqual(5_000)
    const kept = JSON.parse(outputs.values.evaluations!)
    expect(kept.length).toBe(outputs.truncated?.kept)
    expect(outputs.truncated?.total).toBe(50)
    expect(kept[0]).toEqual(many[0]?.evaluation)
  })

  it('leaves pass-rate empty when there are no runs', () => {
    expect(
      buildOutputs(reportOf([listed({ pass: 0, fail: 0, unknown: 0 })])).values['pass-rate']
    ).toBe('')
  })
})

describe('buildSummary, explaining a verdict', () => {
  it('opens with a one-line verdict and a chart of pass / fail / unknown runs', () => {
    const lines = buildSummary(reportOf([listed({ pass: 8, fail: 2, unknown: 1 })])).split('\n')
    expect(lines[2]).toBe('**Verdict: failed.** fail-runs 2 &#62; max-fail-runs 0')
    expect(lines.slice(4, 10)).toEqual([
      '```mermaid',
      'pie showData title Runs of the judged evaluations',
      '    "Pass" : 8',
      '    "Fail" : 2',
      '    "Unknown" : 1',
      '```'
    ])
  })

  it('shows failing rows in a collapsible section, escaped', () => {
    const item = listed({ pass: 1, fail: 1, unknown: 1 })
    const summary = buildSummary(
      reportOf([item], {
        failingRows: new Map([
          [
            item.evaluation.runId,
            [
              {
                id: 'r1',
                rowId: 'row1',
                grade: 'fail' as const,
                score: 0.2,
                reason: 'Expected <b>billing</b>',
                cost: 0.001,
                latency: 900,
                row: { values: { ticket: 'Refund *now*' } }
              },
              { id: 'r2', rowId: 'row2', grade: 'unknown' as const, reason: null }
            ]
          ]
        ])
      })
    )
    expect(summary).toContain(
      `<summary>${item.evaluation.runId}: 1 fail, 1 unknown (showing 1 fail, 1 unknown)</summary>`
    )
    expect(summary).toContain(
      '| fail | 0.2 | Expected &#60;b&#62;billing&#60;/b&#62; | $0.0010 | 900 ms | ticket: Refund &#42;now&#42; |'
    )
    expect(summary).toContain('| unknown | — | — | — | — | — |')
    expect(summary).toContain('</details>')
  })

  it('says how many of each grade a section shows, and how many evaluations got no section', () => {
    // rows are fetched for 10 evaluations at most: 12 with failures leave 2 without a section
    const judged = Array.from({ length: 12 }, () => listed({ pass: 5, fail: 30, unknown: 15 }))
    const result = (id: string, grade: 'fail' | 'unknown') => ({ id, rowId: id, grade })
    const fetched = [
      ...Array.from({ length: 20 }, (_, i) => result(`f${i}`, 'fail')),
      ...Array.from({ length: 10 }, (_, i) => result(`u${i}`, 'unknown'))
    ]
    const failingRows = new Map(judged.slice(0, 10).map(item => [item.evaluation.runId, fetched]))
    const summary = buildSummary(reportOf(judged, { failingRows }))
    // 25 rows a section: the 20 failing rows fetched, then 5 of the 10 unknown ones
    expect(summary).toContain(
      `<summary>${judged[0]!.evaluation.runId}: 30 fail, 15 unknown (showing 20 fail, 5 unknown)</summary>`
    )
    expect(summary.match(/<details>/g)).toHaveLength(10)
    expect(summary).toContain('… and 2 more evaluation(s) with failing or unknown rows not shown.')
  })

  it('compares each judged evaluation with its baseline', () => {
    const now = listed({ pass: 8, fail: 2, unknown: 0, cost: 0.6, latency: 11_000 })
    const base = listed({ pass: 9, fail: 1, unknown: 0, cost: 0.5, latency: 10_000 })
    const summary = buildSummary(
      reportOf([now], { baselines: new Map([[now.evaluation.runId, base]]) })
    )
    expect(summary).toContain(
      `| ${now.evaluation.runId} | ${base.evaluation.runId} | 80% | −10 pp | $0.60 | +20% | 1.1 s | +10% |`
    )
  })

  it('caps the baseline table and says how many comparisons were left out', () => {
    const judged = Array.from({ length: 130 }, () => listed())
    const baselines = new Map(judged.map(item => [item.evaluation.runId, listed()]))
    const summary = buildSummary(reportOf(judged, { baselines }))
    const rows = summary.split('\n').filter(line => / \| [+−±]\d* ?pp \| /.test(line))
    expect(rows).toHaveLength(100)
    expect(summary).toContain('… and 30 more comparison(s) not shown.')
  })

  it('says there is no baseline when the policy compares with one and none was found', () => {
    const summary = buildSummary(reportOf([listed()], { comparesWithBaseline: true }))
    expect(summary).toContain(
      '### Compared with the baseline\n\nThere is no earlier completed evaluation of the same prompt, evaluator and dataset for any judged evaluation, so max-pass-rate-drop applied to none.'
    )
    expect(buildSummary(reportOf([listed()]))).not.toContain('### Compared with the baseline')
  })

  it('says what was started and what was still running when the wait ended', () => {
    const item = listed({ status: 'running' })
    const summary = buildSummary(
      reportOf([item], {
        started: [item.evaluation.runId],
        wait: {
          items: [item],
          waitedMs: 1_800_000,
          timedOut: [item.evaluation.runId],
          progress: new Map()
        }
      })
    )
    expect(summary).toContain(`Started 1 evaluation(s) for this commit: ${item.evaluation.runId}.`)
    expect(summary).toContain(
      `Stopped waiting after 30.0 min; still not finished: ${item.evaluation.runId}.`
    )
    expect(summary).toContain('### Judged evaluations (started by this run)')
  })
})

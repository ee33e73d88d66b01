import { EVALUATOR, OTHER_PROMPT, listed } from '../../__fixtures__/evaluations.js'
import type { CancelOutcome } from '../../src/run/cancel.js'
import type { Gathered } from '../../src/run/gather.js'
import { totals } from '../../src/judge/metrics.js'
import { judge } from '../../src/judge/policy.js'
import { parsePolicy } from '../../src/judge/policy-yaml.js'
import { buildOutputs } from '../../src/report/outputs.js'
import { SUMMARY_LIMIT_BYTES, buildErrorReport, buildSummary } from '../../src/report/summary.js'
import { squaresOf } from '../../src/report/markdown.js'
import type { RunReport } from '../../src/run/run-report.js'
import { BaselineIndex, type Listed } from '../../src/judge/judged-set.js'
import { fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { judgedOf, reportOf as judgedReport } from '../../test-support/run-reports.js'

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

const LINKS = {
  commit: {
    sha: '3f9c2e1d4b5a69780000',
    url: 'https://github.com/acme/bot/commit/3f9c2e1d4b5a69780000'
  },
  workflowRun: 'https://github.com/acme/bot/actions/runs/42/attempts/2'
}

/** The rows of the judged evaluations' table, header and totals row included. */
function judgedTable(summary: string): string[] {
  const lines = summary.split('\n')
  const from = lines.findIndex(line => line.startsWith('| Evaluator |'))
  if (from < 0) return []
  const to = lines.findIndex((line, i) => i > from && !line.startsWith('|'))
  return lines.slice(from, to < 0 ? undefined : to)
}

/** A table row's cells, without the outer pipes. */
function cells(line: string): string[] {
  return line.slice(2, -2).split(' | ')
}

describe('buildSummary: the headline', () => {
  it('names the verdict, links the short commit and the workflow run, and says the verdict in one sentence', () => {
    const lines = buildSummary(reportOf([listed({ pass: 8, fail: 2, unknown: 0 })]), {
      links: LINKS
    }).split('\n')
    expect(lines[0]).toBe('## ❌ Adaline evals failed')
    expect(lines[2]).toBe(
      'Commit [`3f9c2e1`](https://github.com/acme/bot/commit/3f9c2e1d4b5a69780000) · [workflow run](https://github.com/acme/bot/actions/runs/42/attempts/2)'
    )
    expect(lines[4]).toBe('**Failed:** fail-runs 2 &#62; max-fail-runs 0.')
  })

  it('leaves the links out when there are none (the command outside GitHub), and each one alone', () => {
    const lines = buildSummary(reportOf([listed({ fail: 0, unknown: 0 })])).split('\n')
    expect(lines[0]).toBe('## ✅ Adaline evals passed')
    expect(lines[2]).toBe('**Passed:** both rules hold over 1 judged evaluation.')
    const runOnly = buildSummary(reportOf([listed()]), {
      links: { workflowRun: LINKS.workflowRun }
    })
    expect(runOnly.split('\n')[2]).toBe(`[workflow run](${LINKS.workflowRun})`)
  })

  it('says the gate was skipped when the policy sets no rules, and shows no rules table', () => {
    const summary = buildSummary(reportOf([listed()], {}, ''))
    expect(summary.split('\n')[0]).toBe('## ⏭️ Adaline evals: report only')
    expect(summary).toContain('**Report only:** the policy sets no rules')
    expect(summary).not.toContain('| Rule |')
  })

  it('counts the broken rules beyond the first, in the singular and the plural', () => {
    const item = listed({ pass: 5, fail: 3, unknown: 2 })
    const two = buildSummary(reportOf([item], {}, 'max-fail-runs: 0\nmax-unknown-runs: 0'))
    expect(two).toContain('(and 1 more broken rule).')
    const three = buildSummary(
      reportOf([item], {}, 'max-fail-runs: 0\nmax-unknown-runs: 0\nmin-pass-rate: 0.9')
    )
    expect(three).toContain('(and 2 more broken rules).')
  })

  it('draws runs as 20 squares, green pass, red fail, grey unknown, with the counts and totals beside', () => {
    const lines = buildSummary(
      reportOf([listed({ pass: 97, fail: 2, unknown: 1, cost: 0.5, latency: 100_000 })])
    ).split('\n')
    const chart = lines.find(line => line.startsWith('🟩'))!
    expect(chart).toBe(
      `${'🟩'.repeat(18)}🟥⬜ **97** pass · **2** fail · **1** unknown of 100 runs\\`
    )
    expect(lines[lines.indexOf(chart) + 1]).toBe(
      '1 evaluation · pass rate **97%** · cost **$0.50** · **1.0 s** a run'
    )
  })

  it('says what the reader needs before the tables: the cancels that did not land', () => {
    const [a, b] = [1, 2].map(() => listed({ status: 'running' }))
    const report = reportOf([listed()], {
      decision: { act: true, cutoff: 5, reason: 'a force-push' },
      cancel: {
        cancelled: [a!.evaluation.runId],
        finished: [],
        failed: [{ runId: b!.evaluation.runId, promptId: b!.promptId, message: 'answered 500' }]
      }
    })
    report.gathered = { ...report.gathered, superseded: [a!, b!] }
    const lines = buildSummary(report).split('\n')
    const warning = lines.indexOf(
      '⚠️ **1 superseded evaluation could not be cancelled** and may still be running and billing, so the run fails whatever the gate (see Superseded evaluations, below).'
    )
    expect(warning).toBeGreaterThan(0)
    expect(warning).toBeLessThan(lines.findIndex(line => line.startsWith('| Rule |')))
  })
})

describe('buildSummary: the headline when cancels did not land', () => {
  const failure = (n: number) => ({
    runId: `run-notlanded-${String(n).padStart(12, '0')}`,
    promptId: 'prompt-aaaaaaaaaaaaaaaaaaaa',
    message: 'answered 500'
  })
  const headingOf = (policy: string, failed: number, fail = 0) =>
    buildSummary(
      reportOf(
        [listed({ pass: 9, fail, unknown: 0 })],
        {
          cancel: { cancelled: [], finished: [], failed: [1, 2].slice(0, failed).map(failure) }
        },
        policy
      )
    ).split('\n')[0]

  it('says the run failed though the gate passed, as the step does (exit 4)', () => {
    expect(headingOf('max-fail-runs: 0', 1)).toBe(
      '## ❌ Adaline evals passed, but 1 cancel did not land'
    )
    expect(headingOf('max-fail-runs: 0', 2)).toBe(
      '## ❌ Adaline evals passed, but 2 cancels did not land'
    )
    expect(headingOf('', 1)).toBe('## ❌ Adaline evals: report only, but 1 cancel did not land')
    expect(headingOf('max-fail-runs: 0', 1, 1)).toBe(
      '## ❌ Adaline evals failed, and 1 cancel did not land'
    )
    expect(headingOf('max-fail-runs: 0', 0)).toBe('## ✅ Adaline evals passed')
  })
})

describe('squaresOf', () => {
  it('gives each share its part of 20, and a small share at least one square', () => {
    expect(squaresOf([97, 2, 1])).toEqual([18, 1, 1])
    expect(squaresOf([1, 999, 0])).toEqual([1, 19, 0])
    expect(squaresOf([1, 1, 1])).toEqual([7, 7, 6])
    expect(squaresOf([0, 0, 0])).toEqual([0, 0, 0])
    for (const counts of [
      [3, 5, 7],
      [1, 0, 1_000_000],
      [50, 50, 0]
    ])
      expect(squaresOf(counts).reduce((a, b) => a + b)).toBe(20)
  })
})

describe('buildSummary: the rules table', () => {
  it('lists every rule on a pass, with its figure, its limit and a tick', () => {
    const summary = buildSummary(
      reportOf(
        [listed({ pass: 9, fail: 1, unknown: 0, cost: 0.5 })],
        {},
        'max-fail-runs: 3\nmin-pass-rate: 0.8\nmax-cost: 2'
      )
    )
    expect(summary).toContain(
      [
        '| Rule | Figure | Limit |  |',
        '| --- | ---: | ---: | :---: |',
        '| max-fail-runs | 1 | 3 | ✅ |',
        '| min-pass-rate | 90% | 80% | ✅ |',
        '| max-cost | &#36;0.50 | &#36;2.00 | ✅ |',
        '| allow-status | 1 of 1 | completed | ✅ |'
      ].join('\n')
    )
  })

  it('marks a broken rule with a cross', () => {
    const summary = buildSummary(reportOf([listed({ pass: 8, fail: 2, unknown: 0 })]))
    expect(summary).toContain('| max-fail-runs | 2 | 0 | ❌ |')
    expect(summary).not.toContain('### Broken rules')
  })
})

describe('buildSummary: one way to write each figure', () => {
  // 8 of 9 pass (88.888…%) against a baseline of 10 of 10: 88.9% and −11.1 pp wherever shown
  const now = makeEvaluation({ n: 1, evaluatorId: fakeId('evr', 1), pass: 8, fail: 1, unknown: 0 })
  const before = makeEvaluation({
    n: 2,
    evaluatorId: fakeId('evr', 1),
    pass: 10,
    fail: 0,
    unknown: 0
  })
  const summaryUnder = (policy: string) =>
    buildSummary(
      judgedReport(judgedOf([now]), policy, { baselines: new Map([[now.runId, before]]) })
    )

  it('reads the same in the verdict sentence, the rules table, the totals and the judged table', () => {
    const summary = summaryUnder('min-pass-rate: 90%\nmax-pass-rate-drop: 10%')
    expect(summary).toContain(
      '**Failed:** pass-rate 88.9% &#60; min-pass-rate 90% (and 1 more broken rule).'
    )
    expect(summary).toContain('| min-pass-rate | 88.9% | 90% | ❌ |')
    expect(summary).toContain('| max-pass-rate-drop | −11.1 pp | −10 pp | ❌ |')
    expect(summary).toContain('pass rate **88.9%**')
    expect(cells(judgedTable(summary)[2]!).slice(2, 4)).toEqual(['88.9%', '−11.1 pp'])
    expect(summary).not.toMatch(/88\.89|11\.11/)
  })

  it('says a drop in the verdict sentence as the rules table and the Δ column do', () => {
    const summary = summaryUnder('max-pass-rate-drop: 10%')
    expect(summary).toContain(
      `**Failed:** pass rate −11.1 pp vs baseline, beyond max-pass-rate-drop −10 pp: ${now.runId} 88.9% vs baseline ${before.runId} 100%.`
    )
  })
})

describe('buildSummary: the judged evaluations', () => {
  it('has at most 7 columns, numbers right-aligned, and a totals row', () => {
    const now = listed({ pass: 8, fail: 2, unknown: 0, cost: 0.6, latency: 11_000 })
    const other = listed({ pass: 5, fail: 0, unknown: 5 }, OTHER_PROMPT)
    const base = listed({ pass: 9, fail: 1, unknown: 0 })
    const report = reportOf([now, other], {
      promptIds: [now.promptId, OTHER_PROMPT],
      baselines: new Map([[now.evaluation.runId, base]])
    })
    const rows = judgedTable(buildSummary(report))
    expect(rows).toHaveLength(5)
    for (const row of rows) expect(cells(row).length).toBeLessThanOrEqual(7)
    expect(cells(rows[0]!)).toEqual([
      'Evaluator',
      'Status',
      'Pass rate',
      'Δ baseline',
      'Fail / unknown',
      'Cost',
      'Avg latency'
    ])
    expect(rows[1]).toBe('| --- | --- | ---: | ---: | ---: | ---: | ---: |')
    // several prompts: each row says which, by the shortest prefix that tells them apart
    expect(rows[2]).toBe(
      `| prompt-a… · ${EVALUATOR} | completed | 80% | −10 pp | 2 / 0 | $0.60 | 1.1 s |`
    )
    expect(rows[3]).toContain('| prompt-b… · ')
    expect(rows[3]).toContain('| 50% | — | 0 / 5 |')
    expect(rows[4]).toBe('| **Total** |  | **65%** |  | **2 / 5** | **$0.85** | 1.1 s |')
  })

  it('leaves the Δ baseline column out when no evaluation has a baseline, and the prompt when there is one', () => {
    const rows = judgedTable(buildSummary(reportOf([listed()])))
    expect(cells(rows[0]!)).not.toContain('Δ baseline')
    expect(cells(rows[0]!)).toHaveLength(6)
    expect(rows[2]).toMatch(new RegExp(`^\\| ${EVALUATOR} \\| completed \\|`))
  })

  it("names each evaluation by its evaluator's title where known, by the evaluator ID where not", () => {
    const named = listed({ evaluatorId: 'evaluator-named-aaaaaaaaaaaa' })
    const unnamed = listed({ evaluatorId: 'evaluator-unnamed-aaaaaaaaaa' })
    const summary = buildSummary(
      reportOf([named, unnamed], {
        evaluatorTitles: new Map([
          ['evaluator-named-aaaaaaaaaaaa', 'Grounded in the *retrieved* context']
        ])
      })
    )
    const rows = judgedTable(summary)
    expect(rows[2]).toMatch(/^\| Grounded in the &#42;retrieved&#42; context \| completed \|/)
    expect(rows[3]).toMatch(/^\| evaluator-unnamed-aaaaaaaaaa \| completed \|/)
    // the IDs stay, in the collapsed details
    expect(summary).toContain(
      `- **Grounded in the &#42;retrieved&#42; context**: run ${named.evaluation.runId} · evaluator evaluator-named-aaaaaaaaaaaa · dataset`
    )
  })

  it('lets a cell wrap a title with no spaces, so one word cannot widen the table past the page', () => {
    const item = listed({ evaluatorId: 'evaluator-nospace-aaaaaaaaa' })
    const title = `${'x'.repeat(30)}&${'y'.repeat(60)}`
    const summary = buildSummary(
      reportOf([item], { evaluatorTitles: new Map([[item.evaluation.evaluatorId, title]]) })
    )
    const name = judgedTable(summary)[2]!.split(' | ')[0]!.slice(2)
    // a zero-width space after every 32 characters, a character reference counted as one and whole
    const pieces = name.split('\u200b')
    expect(pieces.length).toBeGreaterThan(1)
    for (const piece of pieces) expect(piece.replace(/&#\d+;/g, '_').length).toBeLessThanOrEqual(32)
    expect(pieces.join('')).toBe(`${'x'.repeat(30)}&#38;${'y'.repeat(16)}…`)
  })

  it('links each evaluation by the evaluation-url template, its IDs URL-encoded and nothing able to end the link', () => {
    const item = listed({ runId: 'run-(x)|y-aaaaaaaaaaaaaaa' })
    const summary = buildSummary(
      reportOf([item], {
        evaluationUrl: 'https://app.example/p/{promptId}/e/{evaluatorId}?run={runId}&tab=(rows)',
        evaluatorTitles: new Map([[EVALUATOR, 'Tone [matches](https://evil.example)']])
      })
    )
    const row = judgedTable(summary)[2]!
    expect(cells(row)[0]).toBe(
      `[Tone &#91;matches&#93;(https&#58;//evil.example)](https://app.example/p/${item.promptId}/e/${EVALUATOR}?run=run-%28x%29%7Cy-aaaaaaaaaaaaaaa&amp;tab=%28rows%29)`
    )
    expect(cells(row)).toHaveLength(6)
  })

  it('makes no links without a template', () => {
    expect(buildSummary(reportOf([listed()]))).not.toMatch(/\]\(/)
  })

  it('holds the IDs and the other figures in a collapsed section, with the listing', () => {
    const now = listed({ pass: 8, fail: 2, unknown: 0, tokens: 1234, failedRows: 1 })
    const base = listed()
    const summary = buildSummary(
      reportOf([now], { baselines: new Map([[now.evaluation.runId, base]]) })
    )
    expect(summary).toContain('<details>\n<summary>IDs and more figures</summary>')
    expect(summary).toContain(
      `- **${EVALUATOR}**: run ${now.evaluation.runId} · evaluator ${EVALUATOR} · dataset dataset-aaaaaaaaaaaaaaaaaaa · prompt ${now.promptId} · runs 8 pass, 2 fail, 0 unknown · 1,234 tokens · 10 of 10 rows done (1 failed) · baseline ${base.evaluation.runId} (cost ±0%, avg latency ±0%)`
    )
    expect(summary).toContain('1 evaluation matched the filters: completed 1; scope: latest.')
  })

  it('caps a long table and says how many rows were left out', () => {
    const summary = buildSummary(reportOf(Array.from({ length: 250 }, () => listed())))
    expect(judgedTable(summary)).toHaveLength(100 + 3)
    expect(summary).toContain('… and 150 more evaluations not shown')
    expect(summary).toContain('- … and 150 more evaluations')
  })

  it('says there is no baseline when the policy compares with one and none was found', () => {
    const summary = buildSummary(reportOf([listed()], { comparesWithBaseline: true }))
    expect(summary).toContain(
      'No judged evaluation has a baseline (an earlier completed evaluation of the same prompt, evaluator and dataset), so max-pass-rate-drop applied to none.'
    )
    expect(buildSummary(reportOf([listed()]))).not.toContain('max-pass-rate-drop applied to none')
  })

  it('says how many judged evaluations have no baseline when some have one', () => {
    const [a, b, c] = [1, 2, 3].map(() => listed())
    const summary = buildSummary(
      reportOf([a!, b!, c!], { baselines: new Map([[a!.evaluation.runId, listed()]]) })
    )
    expect(summary).toContain('2 judged evaluations have no baseline')
  })
})

describe('buildSummary: sections for what the run did', () => {
  it('leaves out the sections of features the run did not use', () => {
    const summary = buildSummary(reportOf([listed()]))
    expect(summary).not.toContain('### Superseded evaluations')
    expect(summary).not.toContain('Nothing cancelled')
    expect(summary).not.toContain('### Started and waited')
    expect(summary).not.toContain('### Failing rows')
    expect(summary).not.toContain('evaluation(s)')
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
    expect(summary).toContain(`Cancelled 1 of 2 superseded evaluations: ${a.evaluation.runId}`)
    expect(summary).toContain(`- ${b.evaluation.runId}: answered 409 CONFLICT`)
    expect(summary).toContain('No evaluation matched the filters.')
  })

  it('lists the finished apart from the cancelled', () => {
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
    const superseded = lines.slice(lines.indexOf('### Superseded evaluations'))
    expect(superseded).toContain(`Cancelled 1 of 3 superseded evaluations: ${a!.evaluation.runId}`)
    expect(superseded).toContain(`- ${b!.evaluation.runId}: answered 500`)
    expect(superseded).toContain('Finished before their cancel arrived (1):')
    expect(superseded).toContain(`- ${c!.evaluation.runId}: completed`)
  })

  it('says why nothing was cancelled when cancel-superseded is on, and nothing when it is never', () => {
    const decision = { act: false as const, reason: 'the push was not a force-push' }
    const on = buildSummary(reportOf([listed()], { decision, cancelSuperseded: 'force-push' }))
    expect(on).toContain(
      '### Superseded evaluations\n\nNothing cancelled: the push was not a force-push.'
    )
    const never = buildSummary(reportOf([listed()], { decision, cancelSuperseded: 'never' }))
    expect(never).not.toContain('Superseded')
  })

  it('says nothing of failed cancels when every cancel landed', () => {
    expect(buildSummary(reportOf([listed()]))).not.toContain('could not be cancelled')
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
    expect(summary).toContain(`Started 1 evaluation for this commit: ${item.evaluation.runId}.`)
    expect(summary).toContain(
      `Stopped waiting after 30.0 min; still not finished: ${item.evaluation.runId}.`
    )
    expect(summary).toContain('### Judged evaluations (started by this run)')
    expect(judgedTable(summary)[2]).toContain('| running 100% |')
  })
})

describe('buildSummary: size', () => {
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
      cancel: { cancelled: many.map(item => item.evaluation.runId), finished: [], failed },
      evaluatorTitles: new Map([[hostileId, '>'.repeat(200)]]),
      evaluationUrl: 'https://app.example/{promptId}/{runId}/{evaluatorId}'
    })
    expect(Buffer.byteLength(buildSummary(report))).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES)
    // and a smaller limit is met by dropping table rows
    const small = buildSummary(report, { limitBytes: 100_000 })
    expect(Buffer.byteLength(small)).toBeLessThanOrEqual(100_000)
    expect(small).toContain('more evaluations not shown')
    expect(judgedTable(small).length).toBeLessThan(judgedTable(buildSummary(report)).length)
  })

  it('fits the comment limit with 100 evaluations and failing rows, keeping the verdict and totals', () => {
    const judged = Array.from({ length: 100 }, () => listed({ pass: 5, fail: 30, unknown: 15 }))
    const reason = 'Expected <b>billing</b> | '.repeat(20)
    const rows = Array.from({ length: 20 }, (_, i) => ({
      id: `r${i}`,
      rowId: `row${i}`,
      grade: 'fail' as const,
      reason,
      row: { values: { ticket: '*'.repeat(200) } }
    }))
    const failingRows = new Map(judged.slice(0, 5).map(item => [item.evaluation.runId, rows]))
    const summary = buildSummary(reportOf(judged, { failingRows }), { limitBytes: 60_000 })
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(60_000)
    expect(summary.split('\n')[0]).toBe('## ❌ Adaline evals failed')
    expect(summary).toContain('| **Total** |')
  })
})

describe('buildErrorReport', () => {
  it('says there is no verdict, with the links and what had started', () => {
    const text = buildErrorReport('API answered 500', ['run-aaaaaaaaaaaaaaaaaaaa'], LINKS)
    expect(text.split('\n')[0]).toBe('## ⚠️ Adaline evals: no verdict')
    expect(text).toContain('[workflow run](https://github.com/acme/bot/actions/runs/42/attempts/2)')
    expect(text).toContain('It had started run-aaaaaaaaaaaaaaaaaaaa.')
    // the comment says a later verdict replaces it; the summary, where the log is one click away, not
    expect(text).toMatch(/the next run that reaches a verdict replaces this\.$/)
    const summary = buildErrorReport('API answered 500', [], LINKS, 'summary')
    expect(summary).toMatch(/\n\nThe step's log says more\.$/)
    expect(summary).not.toContain('replaces this')
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
      `<summary>❌ ${EVALUATOR} (${item.evaluation.runId}): 1 fail, 1 unknown (showing 1 fail, 1 unknown)</summary>`
    )
    expect(summary).toContain(
      '| fail | 0.2 | Expected &#60;b&#62;billing&#60;/b&#62; | ticket: Refund &#42;now&#42; | $0.0010 | 900 ms |'
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
      `<summary>❌ ${EVALUATOR} (${judged[0]!.evaluation.runId}): 30 fail, 15 unknown (showing 20 fail, 5 unknown)</summary>`
    )
    // ten sections, and the details of the IDs
    expect(summary.match(/<details>/g)).toHaveLength(11)
    expect(summary).toContain('… and 2 more evaluations with failing or unknown rows not shown.')
  })

  it('shows first the rows of the evaluations that broke a rule, titled with the evaluator', () => {
    // the first evaluation has more failing runs, but only the second has failed rows (max-failed-rows)
    const many = listed({
      pass: 1,
      fail: 9,
      unknown: 0,
      evaluatorId: 'evaluator-many-aaaaaaaaaaaa'
    })
    const broke = listed({
      pass: 9,
      fail: 1,
      unknown: 0,
      failedRows: 2,
      evaluatorId: 'evaluator-broke-aaaaaaaaaaa'
    })
    const rows = [{ id: 'r1', rowId: 'row1', grade: 'fail' as const }]
    const summary = buildSummary(
      reportOf(
        [many, broke],
        {
          failingRows: new Map([
            [many.evaluation.runId, rows],
            [broke.evaluation.runId, rows]
          ]),
          evaluatorTitles: new Map([['evaluator-broke-aaaaaaaaaaa', 'Answers in valid JSON']])
        },
        'max-failed-rows: 0'
      )
    )
    const sections = summary
      .split('\n')
      .filter(line => line.startsWith('<summary>❌') || line.startsWith('<summary>evaluator'))
    expect(sections).toEqual([
      `<summary>❌ Answers in valid JSON (${broke.evaluation.runId}): 1 fail, 0 unknown (showing 1 fail, 0 unknown)</summary>`,
      `<summary>evaluator-many-aaaaaaaaaaaa (${many.evaluation.runId}): 9 fail, 0 unknown (showing 1 fail, 0 unknown)</summary>`
    ])
  })
})

/** "What changed since the baseline": the Markdown section and the terminal's plain lines. */
import { evaluation } from '../../__fixtures__/evaluations.js'
import type { Grade } from '../../src/adaline/schema.js'
import type { RowResult } from '../../src/judge/pairing.js'
import { compareRows, type Comparison } from '../../src/judge/regressions.js'
import { STALE_AFTER_MS, changesMarkdown, changesText } from '../../src/report/changes.js'
import { buildSummary } from '../../src/report/summary.js'
import { judgedOf, reportOf } from '../../test-support/run-reports.js'

const NOW = 'run-now-000000000000000001'
const BASE = 'run-base-00000000000000001'
const OTHER = 'run-now-000000000000000002'
const OTHER_BASE = 'run-base-00000000000000002'
const STARTED = 1_760_000_000_000

function side(
  rows: number,
  fails: number[],
  extra: (i: number) => Partial<RowResult> = () => ({})
) {
  return Array.from({ length: rows }, (_, i) => ({
    rowId: `row-${String(i).padStart(4, '0')}`,
    grade: (fails.includes(i) ? 'fail' : 'pass') as Grade,
    ...extra(i)
  }))
}

function report(
  comparisons: Map<string, Comparison>,
  baselineAgeMs = 3_600_000,
  pinned: string[] = []
) {
  const judged = judgedOf([evaluation({ runId: NOW }), evaluation({ runId: OTHER })])
  const baselines = new Map([
    [NOW, evaluation({ runId: BASE, submittedAt: STARTED - baselineAgeMs })],
    [OTHER, evaluation({ runId: OTHER_BASE, submittedAt: STARTED - 3_600_000 })]
  ])
  return reportOf(judged, 'max-new-failures: 0\nsignificance: 5%', {
    baselines,
    extra: { comparisons, pinnedBaselines: pinned }
  })
}

const regression = () =>
  compareRows(
    BASE,
    side(100, [], i => ({ reason: 'ok', score: 1, values: { ticket: `ticket ${i}` } })),
    side(100, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], i => ({
      reason: i === 3 ? 'says *bold* <b>x</b> | pipe' : 'wrong category',
      score: 0,
      values: { ticket: i === 3 ? '[link](http://evil.example) @team' : `ticket ${i}` }
    })),
    0.05
  )

describe('changesMarkdown', () => {
  it('says nothing when the run compared no rows', () => {
    expect(changesMarkdown(report(new Map()))).toEqual([])
  })

  it('gives each compared evaluation its verdict in words and the counts, and the reasons for those not compared', () => {
    const lines = changesMarkdown(
      report(
        new Map<string, Comparison>([
          [NOW, regression()],
          [
            OTHER,
            {
              compared: false,
              baselineRunId: OTHER_BASE,
              reason: 'it is running, so its rows are not all graded yet'
            }
          ]
        ])
      )
    )
    expect(lines[0]).toBe('### What changed since the baseline')
    expect(lines).toContain(
      `| ${NOW}<br>vs ${BASE} | **regression, p < 0.001** | 90 | 0 | 10 | 0 | 0 | 0 |`
    )
    expect(lines).toContain(
      `- ${OTHER} was **not compared** with its baseline ${OTHER_BASE}: it is running, so its rows are not all graded yet.`
    )
    expect(lines.join('\n')).toContain(`${NOW}: 10 newly failing row(s) (showing 10)`)
  })

  it('lists newly failing rows with their input and both sides’ grade and reason, API text escaped', () => {
    const text = changesMarkdown(report(new Map([[NOW, regression()]]))).join('\n')
    expect(text).toContain(
      '| row-0000 | ticket: ticket 0 | pass (score 1): ok | fail (score 0): wrong category |'
    )
    expect(text).toContain(
      '| row-0003 | ticket: &#91;link&#93;(http&#58;//evil.example) &#64;team | pass (score 1): ok | fail (score 0): says &#42;bold&#42; &#60;b&#62;x&#60;/b&#62; &#124; pipe |'
    )
    expect(text).not.toContain('<b>')
  })

  it('caps the rows listed as the summary shrinks to fit', () => {
    const lines = changesMarkdown(report(new Map([[NOW, regression()]])), 10)
    expect(lines.filter(line => line.startsWith('| row-'))).toHaveLength(2)
  })

  it('notes a baseline older than 30 days, and marks a pinned one', () => {
    const stale = changesMarkdown(
      report(new Map([[NOW, regression()]]), STALE_AFTER_MS + 5 * 24 * 3_600_000, [BASE])
    ).join('\n')
    expect(stale).toContain(
      `> ⚠️ A baseline was submitted more than 30 days before this run and may be stale: ${BASE} (of ${NOW}, 35 days). Pin a recent one with \`baseline-run-id\`.`
    )
    expect(stale).toContain(`| ${NOW}<br>vs ${BASE} (pinned) |`)
    const fresh = changesMarkdown(report(new Map([[NOW, regression()]]), STALE_AFTER_MS - 1))
    expect(fresh.join('\n')).not.toContain('may be stale')
  })

  it('puts the section in the summary after the judged evaluations and their Δ baseline', () => {
    const summary = buildSummary(report(new Map([[NOW, regression()]])))
    const baseline = summary.indexOf('| Δ baseline |')
    const changes = summary.indexOf('### What changed since the baseline')
    expect(baseline).toBeGreaterThan(-1)
    expect(changes).toBeGreaterThan(baseline)
  })
})

describe('changesText', () => {
  it('gives the same facts as plain lines, with control characters taken out of API text', () => {
    const comparison = compareRows(
      BASE,
      side(3, []),
      side(3, [1], () => ({ reason: 'bad\u001b[31m red\nnext' })),
      0.05
    )
    const lines = changesText(report(new Map([[NOW, comparison]])))
    expect(lines[0]).toBe('What changed since the baseline')
    expect(lines).toContain(
      `  ${NOW} vs ${BASE}: within noise, p = 0.5; 1 newly failing, 0 newly passing, 2 both pass, 0 both fail, 0 unknown either side, 0 on one side only`
    )
    expect(lines).toContain('    newly failing row-0001: was pass; now fail: bad [31m red next')
    // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
    expect(lines.filter(line => /[\u0000-\u001f]/.test(line))).toEqual([])
  })
})

/** "What changed since the baseline": the Markdown section and the terminal's plain lines. */
import { EVALUATOR, evaluation } from '../../__fixtures__/evaluations.js'
import type { Grade } from '../../src/adaline/schema.js'
import type { RowResult } from '../../src/judge/pairing.js'
import { compareRows, type Comparison } from '../../src/judge/regressions.js'
import { STALE_AFTER_MS, changesMarkdown } from '../../src/report/changes.js'
import { buildTerminalReport } from '../../src/report/terminal.js'
import stringWidth from 'string-width'
import { judge } from '../../src/judge/policy.js'
import { parsePolicy } from '../../src/judge/policy-yaml.js'
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
    const header = lines.find(line => line.startsWith('| Evaluator'))!
    expect(header).toBe(
      '| Evaluator | Verdict | Newly failing | Newly passing | Unchanged pass / fail | Not paired |'
    )
    // evaluations are named by their evaluator; the IDs are folded away
    expect(lines).toContain(`| ${EVALUATOR} | **regression, p < 0.001** | 10 | 0 | 90 / 0 | 0 |`)
    expect(lines).toContain(
      `- ⚠️ ${EVALUATOR} was not compared with its baseline: it is running, so its rows are not all graded yet.`
    )
    expect(lines.join('\n')).toContain(`${EVALUATOR}: 10 newly failing rows (showing 10)`)
    const ids = lines.slice(lines.indexOf('<summary>Runs compared</summary>'))
    expect(ids).toContain(
      `- ${NOW} vs baseline ${BASE} · 0 unknown either side, 0 in the baseline only, 0 in this run only`
    )
    expect(ids).toContain(`- ${OTHER} vs baseline ${OTHER_BASE}`)
  })

  it('lists newly failing rows with their input and both sides’ grade and reason, API text escaped', () => {
    const text = changesMarkdown(report(new Map([[NOW, regression()]]))).join('\n')
    expect(text).toContain(
      '| ticket: ticket 0 | pass (score 1): ok | fail (score 0): wrong category |'
    )
    expect(text).toContain(
      '| ticket: &#91;link&#93;(http&#58;//evil.example) &#64;team | pass (score 1): ok | fail (score 0): says &#42;bold&#42; &#60;b&#62;x&#60;/b&#62; &#124; pipe |'
    )
    expect(text).not.toContain('<b>')
  })

  it('caps the rows listed as the summary shrinks to fit', () => {
    const lines = changesMarkdown(report(new Map([[NOW, regression()]])), 10)
    expect(lines.filter(line => line.startsWith('| ticket: '))).toHaveLength(2)
  })

  it('notes a baseline older than 30 days, and marks a pinned one', () => {
    const stale = changesMarkdown(
      report(new Map([[NOW, regression()]]), STALE_AFTER_MS + 5 * 24 * 3_600_000, [BASE])
    ).join('\n')
    expect(stale).toContain(
      `> ⚠️ A baseline was submitted more than 30 days before this run and may be stale: ${EVALUATOR} (35 days). Pin a recent one with \`baseline-run-id\`.`
    )
    expect(stale).toContain(`- ${NOW} vs baseline ${BASE} (pinned) · `)
    // the command's --format markdown names its flag
    const flagged = changesMarkdown(
      report(new Map([[NOW, regression()]]), STALE_AFTER_MS + 5 * 24 * 3_600_000),
      100,
      {
        nameOf: input => `--${input}`,
        withValue: (input, value) => `--${input} ${value}`,
        verb: 'pass'
      }
    ).join('\n')
    expect(flagged).toContain('Pin a recent one with `--baseline-run-id`.')
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

describe('with several prompts', () => {
  const PROMPT_A = 'prm_support_bot_000000000001'
  const PROMPT_B = 'prm_billing_bot_000000000002'
  const twoPrompts = () =>
    reportOf(
      [
        { promptId: PROMPT_A, evaluation: evaluation({ runId: NOW }) },
        { promptId: PROMPT_B, evaluation: evaluation({ runId: OTHER }) }
      ],
      'max-new-failures: 0\nsignificance: 5%',
      {
        baselines: new Map([
          [NOW, evaluation({ runId: BASE, submittedAt: STARTED - 3_600_000 })],
          [OTHER, evaluation({ runId: OTHER_BASE, submittedAt: STARTED - 3_600_000 })]
        ]),
        extra: {
          comparisons: new Map<string, Comparison>([
            [NOW, regression()],
            [OTHER, compareRows(OTHER_BASE, side(10, []), side(10, []), 0.05)]
          ])
        }
      }
    )

  it('names each compared evaluation with its prompt, as the judged evaluations table does', () => {
    const lines = changesMarkdown(twoPrompts())
    expect(lines).toContainEqual(
      expect.stringMatching(/^\| prm_supp… · evaluator-a+ \| \*\*regression/)
    )
    expect(lines).toContainEqual(expect.stringMatching(/^\| prm_bill… · evaluator-a+ \| no change/))
    const summary = buildSummary(twoPrompts())
    expect(summary).toMatch(/^\| prm_supp… · evaluator-a+ \| completed \|/m)
  })

  it('groups the terminal table under a line naming each prompt', () => {
    const text = buildTerminalReport(twoPrompts(), { width: 100, color: false })
    const section = text.slice(text.indexOf('What changed since the baseline'))
    const a = section.indexOf(`prompt ${PROMPT_A}`)
    const b = section.indexOf(`prompt ${PROMPT_B}`)
    expect(a).toBeGreaterThan(-1)
    expect(b).toBeGreaterThan(a)
    expect(section.slice(a, b)).toMatch(/regression, p < 0\.001/)
    expect(section.slice(b)).toMatch(/no change/)
  })
})

describe('the terminal report', () => {
  it('gives the same facts in tables that fit the width, API text made inert', () => {
    const comparison = compareRows(
      BASE,
      side(3, [], () => ({ values: { ticket: 'where is my parcel' } })),
      side(3, [1], () => ({
        reason: 'bad\u001b[31m red\nnext',
        values: { ticket: 'where is my parcel' }
      })),
      0.05
    )
    const text = buildTerminalReport(report(new Map([[NOW, comparison]])), {
      width: 120,
      color: false
    })
    const lines = text.split('\n')
    const narrow = buildTerminalReport(report(new Map([[NOW, comparison]])), {
      width: 80,
      color: false
    })
    expect(Math.max(...narrow.split('\n').map(line => stringWidth(line)))).toBeLessThanOrEqual(80)
    expect(narrow).toMatch(/^What changed since the baseline$/m)
    expect(lines).toContain('What changed since the baseline')
    expect(text).toMatch(
      /^Evaluator +Verdict +Newly failing +Newly passing +Unchanged pass \/ fail +Not paired$/m
    )
    expect(text).toMatch(new RegExp(`^${EVALUATOR} +within noise, p = 0\\.5 +1 +0 +2 / 0 +0$`, 'm'))
    expect(lines).toContain(`Newly failing: ${EVALUATOR}`)
    expect(text).toMatch(/^ticket: where is my parcel +pass +fail: bad red next$/m)
    expect(text).not.toContain('[31m')
    // eslint-disable-next-line no-control-regex -- no control character may reach the terminal
    expect(lines.filter(line => /[\u0000-\u001f]/.test(line))).toEqual([])
  })

  it('says nothing of the baseline when the run compared no rows', () => {
    const text = buildTerminalReport(report(new Map()), { width: 80, color: false })
    expect(text).not.toContain('What changed since the baseline')
  })
})

describe('a breach within noise', () => {
  it('is a held rule with a warning: ⚠️ and the reason in the summary, "! within noise" in the terminal', () => {
    const comparison = compareRows(BASE, side(3, []), side(3, [1]), 0.05)
    const judged = judgedOf([evaluation({ runId: NOW })])
    const base = evaluation({ runId: BASE, submittedAt: STARTED - 3_600_000 })
    const policy = 'max-new-failures: 0\nsignificance: 5%'
    const withComparison = reportOf(judged, policy, {
      baselines: new Map([[NOW, base]]),
      extra: { comparisons: new Map([[NOW, comparison]]) }
    })
    const evaluations = judged.map(item => item.evaluation)
    const verdict = judge(evaluations, withComparison.metrics, parsePolicy(policy), {
      baselines: new Map([[NOW, base]]),
      comparisons: new Map([[NOW, comparison]])
    })
    expect(verdict.gate).toBe('passed')
    const held = { ...withComparison, verdict }
    const summary = buildSummary(held)
    expect(summary).toMatch(/^\| max-new-failures \| .* \| ⚠️ \|$/m)
    expect(summary).toMatch(/^> ⚠️ .*within noise/m)
    expect(summary).toContain(
      '**Passed:** both rules hold over 1 judged evaluation; one of them only because its breach is within noise.'
    )
    const text = buildTerminalReport(held, { width: 100, color: false })
    expect(text).toMatch(/^max-new-failures .* ! within noise$/m)
    expect(text).toMatch(/^! .*within noise/m)
    expect(text).toContain(
      'Every rule holds over 1 evaluation; one of them only because its breach is within noise.'
    )
  })
})

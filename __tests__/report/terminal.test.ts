/** The terminal report (`--format text`): built from the RunReport, sized to the width, inert. */
import stringWidth from 'string-width'
import type { Evaluation, Result } from '../../src/adaline/schema.js'
import { fitColumns, terminalText } from '../../src/report/terminal-layout.js'
import { buildTerminalReport } from '../../src/report/terminal.js'
import type { RunReport } from '../../src/run/run-report.js'
import { fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { judgedOf, reportOf } from '../../test-support/run-reports.js'

// eslint-disable-next-line no-control-regex -- looking for escape sequences is the point
const ANSI = /\u001b\[[0-9;]*m/
// eslint-disable-next-line no-control-regex -- any control character but the newline
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/

const LONG_TITLE =
  'Helpfulness and tone judge for the customer-support reply drafter, strict rubric v2'
const CJK_TITLE = '日本語の評価者タイトル：返信の丁寧さと正確さを判定する評価者'
const EMOJI_REASON = '🚫 The reply promised a refund 💸 it may not give ✅❌ 👩‍👩‍👧 家族 😀'

function result(n: number, grade: Result['grade'], reason: string, ticket: string): Result {
  return {
    id: `res_${n}`,
    rowId: `row_${n}`,
    grade,
    score: grade === 'fail' ? 0 : null,
    reason,
    cost: 0.001,
    latency: 900,
    tokenCount: 100,
    createdAt: 1_760_000_000_000,
    row: { values: { ticket, expected: 'refund' } }
  }
}

const first = makeEvaluation({ n: 1, evaluatorId: fakeId('evr', 1), pass: 30, fail: 8, unknown: 2 })
const second = makeEvaluation({
  n: 2,
  evaluatorId: fakeId('evr', 2),
  pass: 19,
  fail: 1,
  unknown: 0
})
const baseline = makeEvaluation({
  n: 3,
  evaluatorId: fakeId('evr', 1),
  pass: 38,
  fail: 2,
  unknown: 0
})

/** A failing run with titles (long, CJK), a baseline, failing rows with emoji and CJK. */
function failingReport(extra: Partial<RunReport> = {}): RunReport {
  return reportOf(judgedOf([first, second]), 'max-fail-runs: 3\nmax-pass-rate-drop: 5%', {
    baselines: new Map<string, Evaluation>([[first.runId, baseline]]),
    extra: {
      evaluatorTitles: new Map([
        [first.evaluatorId, LONG_TITLE],
        [second.evaluatorId, CJK_TITLE]
      ]),
      failingRows: new Map([
        [
          first.runId,
          [
            result(1, 'fail', EMOJI_REASON, '返金をお願いします。注文番号は12345です'),
            result(2, 'unknown', 'The judge timed out', 'Where is my parcel?')
          ]
        ],
        [second.runId, [result(3, 'fail', 'Wrong category', 'Cancel my plan')]]
      ]),
      ...extra
    }
  })
}

const passingReport = () =>
  reportOf(judgedOf([second]), 'max-fail-runs: 3\nmin-pass-rate: 90%', {
    extra: { evaluatorTitles: new Map([[second.evaluatorId, 'Tone']]) }
  })

const lines = (text: string) => text.replace(/\n$/, '').split('\n')

describe('buildTerminalReport', () => {
  it.each([60, 80, 120])(
    'keeps every line within %i columns, long titles, CJK and emoji included',
    width => {
      for (const report of [failingReport(), passingReport()]) {
        for (const color of [false, true]) {
          const text = buildTerminalReport(report, { width, color, commit: 'a'.repeat(40) })
          const widest = Math.max(...lines(text).map(line => stringWidth(line)))
          expect(widest).toBeLessThanOrEqual(width)
        }
      }
    }
  )

  it('uses the width it is given: a wide terminal gets wider tables', () => {
    const widest = (width: number) =>
      Math.max(
        ...lines(buildTerminalReport(failingReport(), { width, color: false })).map(line =>
          stringWidth(line)
        )
      )
    expect(widest(120)).toBeGreaterThan(80)
    expect(widest(80)).toBeGreaterThan(60)
  })

  it('leaves out cost, then latency, on a narrow terminal rather than break every word, and says so', () => {
    const at = (width: number) => buildTerminalReport(failingReport(), { width, color: false })
    expect(at(120)).toMatch(/^Evaluator .* Cost +Avg latency$/m)
    expect(at(120)).not.toContain('Left out for the width')
    expect(at(60).replace(/\n/g, ' ')).toContain(
      'Left out for the width: cost and avg latency (--format json has them).'
    )
    expect(at(80)).not.toContain('Left out for the width')
    expect(at(60)).not.toMatch(/^Evaluator .* (Cost|Avg)/m)
  })

  it('has no Markdown or HTML: no pipe-table rows, no **, no tags, no character references', () => {
    const text = buildTerminalReport(failingReport(), { width: 80, color: false })
    expect(text).not.toMatch(/^\s*\|.*\|\s*$/m)
    expect(text).not.toContain('**')
    expect(text).not.toMatch(/<\/?[a-z][^>]*>/i)
    expect(text).not.toMatch(/&#\d+;/)
    expect(text).not.toContain('```')
  })

  it('colours only when asked', () => {
    const plain = buildTerminalReport(failingReport(), { width: 80, color: false })
    const coloured = buildTerminalReport(failingReport(), { width: 80, color: true })
    expect(plain).not.toMatch(ANSI)
    expect(coloured).toMatch(ANSI)
    // the same text, the colours aside
    expect(coloured.replace(new RegExp(ANSI.source, 'g'), '')).toBe(plain)
  })

  it('leads with the verdict, the short commit and one sentence', () => {
    const text = buildTerminalReport(failingReport(), {
      width: 80,
      color: false,
      commit: '0123456789abcdef0123456789abcdef01234567'
    })
    const [head, sentence] = lines(text)
    expect(head).toBe('✗ Adaline evals: gate failed · commit 0123456')
    expect(sentence).toMatch(/^fail-runs 9 > max-fail-runs 3 \(and 1 more broken rule\)\.$/)
    const passed = lines(buildTerminalReport(passingReport(), { width: 80, color: false }))
    expect(passed.slice(0, 2)).toEqual([
      '✓ Adaline evals: gate passed',
      'Every rule holds over 1 evaluation.'
    ])
  })

  it('says in the headline that cancels did not land, which fails the run whatever the gate', () => {
    const failed = (n: number) =>
      [7, 8]
        .slice(0, n)
        .map(i => ({ runId: fakeId('run', i), promptId: fakeId('prm', 1), message: '500' }))
    const head = (n: number, color = false) =>
      lines(
        buildTerminalReport(
          { ...passingReport(), cancel: { cancelled: [], finished: [], failed: failed(n) } },
          { width: 80, color }
        )
      )[0]
    expect(head(1)).toBe('✗ Adaline evals: gate passed, but 1 cancel did not land')
    expect(head(2)).toBe('✗ Adaline evals: gate passed, but 2 cancels did not land')
    expect(head(0)).toBe('✓ Adaline evals: gate passed')
    // in the failure's colour, not the pass's
    expect(head(1, true)).toContain('\u001b[31m')
    expect(head(1, true)).not.toContain('\u001b[32m')
    const bothFailed = buildTerminalReport(
      { ...failingReport(), cancel: { cancelled: [], finished: [], failed: failed(1) } },
      { width: 80, color: false }
    )
    expect(lines(bothFailed)[0]).toBe('✗ Adaline evals: gate failed, and 1 cancel did not land')
  })

  it('draws the run bar in proportion, with the counts', () => {
    const text = buildTerminalReport(failingReport(), { width: 80, color: false })
    const bar = lines(text).find(line => line.startsWith('Runs  '))!
    expect(bar).toContain('49 pass · 9 fail · 2 unknown')
    const marks = (mark: string) => bar.split('').filter(char => char === mark).length
    expect(marks('█') + marks('▒') + marks('░')).toBe(40)
    expect(marks('▒')).toBe(Math.round((9 / 60) * 40))
  })

  it('shows the rules table on a pass, each rule with its figure, limit and result in words', () => {
    const text = buildTerminalReport(passingReport(), { width: 80, color: false })
    expect(text).toMatch(/^Rules\nRule +Figure +Limit +Result\n─+\n/m)
    expect(text).toMatch(/^max-fail-runs +1 +3 +✓ pass$/m)
    expect(text).toMatch(/^min-pass-rate +95% +90% +✓ pass$/m)
    const failed = buildTerminalReport(failingReport(), { width: 80, color: false })
    expect(failed).toMatch(/^max-fail-runs +9 +3 +✗ FAIL$/m)
    expect(failed).toMatch(/^max-pass-rate-drop +−20 pp +−5 pp +✗ FAIL$/m)
  })

  it('writes a figure the same in the verdict sentence, the rules table, the totals and the table', () => {
    // 8 of 9 pass (88.888…%) against a baseline of 10 of 10: 88.9% and −11.1 pp wherever shown
    const now = makeEvaluation({
      n: 1,
      evaluatorId: fakeId('evr', 1),
      pass: 8,
      fail: 1,
      unknown: 0
    })
    const before = makeEvaluation({
      n: 2,
      evaluatorId: fakeId('evr', 1),
      pass: 10,
      fail: 0,
      unknown: 0
    })
    const report = reportOf(judgedOf([now]), 'min-pass-rate: 90%\nmax-pass-rate-drop: 10%', {
      baselines: new Map([[now.runId, before]])
    })
    const text = buildTerminalReport(report, { width: 200, color: false })
    expect(lines(text)[1]).toBe('pass-rate 88.9% < min-pass-rate 90% (and 1 more broken rule).')
    expect(text).toMatch(/^min-pass-rate +88\.9% +90% +✗ FAIL$/m)
    expect(text).toMatch(/^max-pass-rate-drop +−11\.1 pp +−10 pp +✗ FAIL$/m)
    expect(text).toContain('pass rate 88.9%')
    expect(text).toMatch(/completed +88\.9% +−11\.1 pp /)
    expect(text).not.toMatch(/88\.89|11\.11/)
    const drop = reportOf(judgedOf([now]), 'max-pass-rate-drop: 10%', {
      baselines: new Map([[now.runId, before]])
    })
    expect(lines(buildTerminalReport(drop, { width: 200, color: false }))[1]).toBe(
      `pass rate −11.1 pp vs baseline, beyond max-pass-rate-drop −10 pp: ${now.runId} 88.9% vs baseline ${before.runId} 100%.`
    )
  })

  it('names evaluators by title, with the pass-rate change against the baseline in points', () => {
    const text = buildTerminalReport(failingReport(), { width: 120, color: false })
    expect(text).toContain('Helpfulness and tone judge')
    expect(text).toMatch(/completed +75% +−20 pp +8 \/ 2 /)
    // no baseline for the second: a dash, and a note
    expect(text).toMatch(/completed +95% +— +1 \/ 0 /)
    expect(text).toContain('Δ baseline: 1 judged evaluation without an earlier completed one')
    // without baselines, no Δ column
    expect(buildTerminalReport(passingReport(), { width: 120, color: false })).not.toContain('Δ')
  })

  it('shows failing rows of the evaluations that broke a rule first', () => {
    // only the second evaluation breaks max-fail-runs here
    const report = reportOf(judgedOf([first, second]), 'max-unknown-runs: 0', {
      extra: {
        failingRows: new Map([
          [first.runId, [result(1, 'fail', 'first reason', 'a')]],
          [second.runId, [result(3, 'fail', 'second reason', 'b')]]
        ])
      }
    })
    const text = buildTerminalReport(report, { width: 100, color: false })
    expect(text.indexOf('Failing rows: ')).toBeGreaterThan(0)
    // first broke max-unknown-runs (2 unknown); second has none
    expect(text.indexOf('first reason')).toBeLessThan(text.indexOf('second reason'))
    const blamingSecond = reportOf(
      judgedOf([first, second]),
      'max-fail-runs: 100\nmin-pass-rate: 0',
      {
        extra: {
          verdict: {
            gate: 'failed',
            broken: [{ rule: 'max-fail-runs', message: 'x' }],
            checks: [
              {
                rule: 'max-fail-runs',
                ok: false,
                figure: '9',
                limit: '0',
                message: 'x',
                runIds: [second.runId]
              }
            ],
            warnings: []
          },
          failingRows: report.failingRows
        }
      }
    )
    const blamed = buildTerminalReport(blamingSecond, { width: 100, color: false })
    expect(blamed.indexOf('second reason')).toBeLessThan(blamed.indexOf('first reason'))
  })

  it('neutralises hostile API text: escape sequences, carriage returns and newlines', () => {
    const hostile = 'ok\u001b[2J\u001b[31mRED\u001b]0;title\u0007\r\nfake line\u009b1A\u202eevil'
    const report = failingReport({
      evaluatorTitles: new Map([[first.evaluatorId, hostile]]),
      failingRows: new Map([[first.runId, [result(1, 'fail', hostile, hostile)]]])
    })
    for (const color of [false, true]) {
      const text = buildTerminalReport(report, { width: 80, color })
      const withoutColours = text.replace(new RegExp(ANSI.source, 'g'), '')
      expect(withoutColours).not.toMatch(CONTROL)
      expect(withoutColours).not.toContain('\u202e')
      expect(text).not.toContain('\u001b[2J')
      expect(text).not.toContain('\u001b[31mRED')
      expect(text).not.toMatch(/^fake line/m)
    }
    // escape sequences go whole; other controls become one space
    expect(terminalText(hostile)).toBe('okRED fake line evil')
  })

  it('leaves out what did not happen, and says what did: started, waited, cancelled, cancel failed', () => {
    const quiet = buildTerminalReport(passingReport(), { width: 80, color: false })
    expect(quiet).not.toMatch(/Started|Waited|Cancelled|could not be cancelled|Finished before/)

    const busy = buildTerminalReport(
      failingReport({
        started: [first.runId],
        wait: { items: [], waitedMs: 65_000, timedOut: [], progress: new Map() },
        dryRun: false,
        gathered: {
          ...failingReport().gathered,
          superseded: judgedOf([makeEvaluation({ n: 7 }), makeEvaluation({ n: 8 })])
        },
        cancel: {
          cancelled: [fakeId('run', 7)],
          finished: [],
          failed: [{ runId: fakeId('run', 8), promptId: fakeId('prm', 1), message: '403 no' }]
        }
      }),
      { width: 80, color: false }
    )
    expect(busy).toContain(`Started 1 evaluation for this commit: ${first.runId}.`)
    expect(busy).toContain('Waited 1.1 min for the judged evaluations to finish.')
    expect(busy).toContain(`Cancelled 1 of 2 superseded evaluations: ${fakeId('run', 7)}.`)
    expect(busy).toContain(
      'Could not cancel 1 superseded evaluation; it may still be running and billing:'
    )
    expect(busy).toContain(`• ${fakeId('run', 8)}: 403 no`)
    // the warning comes before the tables
    expect(busy.indexOf('1 superseded evaluation could not be cancelled')).toBeLessThan(
      busy.indexOf('Rules')
    )
  })

  it('groups the evaluations of several prompts under each prompt', () => {
    const report = reportOf([
      ...judgedOf([first], fakeId('prm', 1)),
      ...judgedOf([second], fakeId('prm', 2))
    ])
    const text = buildTerminalReport(report, { width: 100, color: false })
    expect(text.indexOf(`prompt ${fakeId('prm', 1)}`)).toBeLessThan(
      text.indexOf(`prompt ${fakeId('prm', 2)}`)
    )
    expect(text).toMatch(/^Evaluations \(scope: latest\)$/m)
  })

  it('says so when nothing matched, with no tables of nothing', () => {
    const text = buildTerminalReport(reportOf([]), { width: 80, color: false })
    expect(text).toContain('No evaluation matched the filters.')
    expect(text).not.toContain('Runs  ')
    expect(text).not.toContain('Failing rows')
  })
})

describe('fitColumns', () => {
  it('keeps the natural widths when they fit', () => {
    expect(
      fitColumns(
        [
          [10, 5, 5],
          [5, 5, 5]
        ],
        30
      )
    ).toEqual([10, 5, 5])
  })

  it('narrows to each floor in turn, the column with the most room first', () => {
    // headers wrap first (floor 1), then cells (floor 2)
    expect(
      fitColumns(
        [
          [20, 10, 10],
          [20, 6, 6],
          [8, 6, 6]
        ],
        32
      )
    ).toEqual([20, 6, 6])
    expect(
      fitColumns(
        [
          [20, 10, 10],
          [20, 6, 6],
          [8, 6, 6]
        ],
        24
      )
    ).toEqual([12, 6, 6])
  })

  it('goes below the last floor only when it must, and never below 1', () => {
    expect(
      fitColumns(
        [
          [20, 10],
          [15, 8]
        ],
        12
      ).reduce((a, b) => a + b)
    ).toBe(12)
    expect(fitColumns([[5, 5, 5]], 2)).toEqual([1, 1, 1])
  })
})

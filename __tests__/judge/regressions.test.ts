/** max-new-failures and significance: the policy keys, the verdict they give, and the checks they list. */
import { evaluation } from '../../__fixtures__/evaluations.js'
import type { Evaluation, Grade } from '../../src/adaline/schema.js'
import { totals } from '../../src/judge/metrics.js'
import type { RowResult } from '../../src/judge/pairing.js'
import { judge } from '../../src/judge/policy.js'
import { PolicyError, parsePolicy } from '../../src/judge/policy-yaml.js'
import { compareRows, type Comparison } from '../../src/judge/regressions.js'
import { mcnemarOneSided } from '../../src/judge/significance.js'

const NOW = 'run-now-000000000000000001'
const BASE = 'run-base-00000000000000001'

/** `rows` rows; those in `fails` fail, the rest pass. */
function side(rows: number, fails: number[]): RowResult[] {
  return Array.from({ length: rows }, (_, i) => ({
    rowId: `row-${String(i).padStart(5, '0')}`,
    grade: (fails.includes(i) ? 'fail' : 'pass') as Grade
  }))
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/** A judged evaluation and its baseline whose run counts agree with the rows, and their comparison. */
function pair(rows: number, baselineFails: number[], nowFails: number[], significance?: number) {
  const now = evaluation({
    runId: NOW,
    pass: rows - nowFails.length,
    fail: nowFails.length,
    unknown: 0
  })
  const base = evaluation({
    runId: BASE,
    pass: rows - baselineFails.length,
    fail: baselineFails.length,
    unknown: 0
  })
  const comparison = compareRows(
    BASE,
    side(rows, baselineFails),
    side(rows, nowFails),
    significance
  )
  return { now, base, comparison }
}

function verdictOf(
  policyText: string,
  { now, base, comparison }: { now: Evaluation; base: Evaluation; comparison?: Comparison }
) {
  return judge([now], totals([now]), parsePolicy(policyText), {
    baselines: new Map([[NOW, base]]),
    comparisons: comparison ? new Map([[NOW, comparison]]) : new Map()
  })
}

describe('the policy keys', () => {
  it('reads max-new-failures as a whole number and significance as a level or a percentage', () => {
    expect(parsePolicy('max-new-failures: 0\nsignificance: 5%')).toMatchObject({
      limits: { 'max-new-failures': 0 },
      significance: 0.05
    })
    expect(parsePolicy('significance: 0.01').significance).toBe(0.01)
  })

  it.each([
    ['max-new-failures: -1', 'max-new-failures must be a whole number of 0 or more'],
    ['max-new-failures: 2.5', 'max-new-failures must be a whole number of 0 or more'],
    ['significance: 0', 'significance must be a level above 0 and at most 1'],
    ['significance: 1.5', 'significance must be a level above 0 and at most 1'],
    ['significance: often', 'or a percentage such as "5%"']
  ])('refuses %p: %s', (text, message) => {
    expect(() => parsePolicy(text)).toThrow(PolicyError)
    expect(() => parsePolicy(text)).toThrow(message)
  })

  it('takes significance alone for a setting, not a rule: the gate is skipped', () => {
    expect(verdictOf('significance: 5%', pair(10, [], [1])).gate).toBe('skipped')
  })
})

describe('max-new-failures', () => {
  it('fails on one newly failing row at 0, and holds at its limit', () => {
    const one = pair(200, [3], [3, 7])
    expect(verdictOf('max-new-failures: 0', one)).toMatchObject({
      gate: 'failed',
      broken: [{ rule: 'max-new-failures', message: 'new failures 1 > max-new-failures 0' }]
    })
    expect(verdictOf('max-new-failures: 1', one).gate).toBe('passed')
  })

  it('counts newly failing rows, not the net change: a newly passing row does not offset one', () => {
    const swapped = pair(50, [4], [9])
    expect(verdictOf('max-new-failures: 0', swapped).gate).toBe('failed')
  })

  it('lists its figure, limit and the evaluations with new failures among the checks', () => {
    const verdict = verdictOf('max-new-failures: 2', pair(100, [], [1, 2, 3]))
    expect(verdict.checks.find(c => c.rule === 'max-new-failures')).toEqual({
      rule: 'max-new-failures',
      ok: false,
      figure: '3',
      limit: '2',
      message: 'new failures 3 > max-new-failures 2',
      runIds: [NOW]
    })
  })

  it('fails closed on an evaluation with a baseline that was not compared, saying why', () => {
    const { now, base } = pair(10, [], [])
    const comparison: Comparison = {
      compared: false,
      baselineRunId: BASE,
      reason: 'the rows of run-x could not be fetched: GET … answered 500'
    }
    const verdict = verdictOf('max-new-failures: 5', { now, base, comparison })
    expect(verdict.gate).toBe('failed')
    expect(verdict.broken[0]?.message).toBe(
      `max-new-failures cannot be judged: ${NOW} was not compared with its baseline row by row, the rows of run-x could not be fetched: GET … answered 500; a rule that needs the comparison fails closed`
    )
    // no comparison at all (the stage never ran) fails the same way
    expect(verdictOf('max-new-failures: 5', { now, base }).gate).toBe('failed')
  })

  it('does not apply to an evaluation without a baseline', () => {
    const { now } = pair(10, [], [1])
    const verdict = judge([now], totals([now]), parsePolicy('max-new-failures: 0'), {
      baselines: new Map(),
      comparisons: new Map()
    })
    expect(verdict.gate).toBe('passed')
    expect(verdict.checks[0]).toMatchObject({ rule: 'max-new-failures', figure: 'none compared' })
  })

  it('with significance: breaks on a significant drop, warns on the same count within noise', () => {
    // 12 of 12 changed rows got worse: p = 2^-12; 3 of 5: p = 0.5
    const real = pair(400, [], range(0, 12), 0.05)
    expect(verdictOf('max-new-failures: 2\nsignificance: 5%', real)).toMatchObject({
      gate: 'failed',
      broken: [
        {
          rule: 'max-new-failures',
          message: `new failures in significant drops 12 > max-new-failures 2 (p < significance 5%): ${NOW} p < 0.001`
        }
      ],
      warnings: []
    })
    const noise = pair(20, [10, 11], [0, 1, 2], 0.05)
    expect(noise.comparison.compared && noise.comparison.verdict.pValue).toBe(mcnemarOneSided(3, 2))
    const verdict = verdictOf('max-new-failures: 2\nsignificance: 5%', noise)
    expect(verdict.gate).toBe('passed')
    expect(verdict.warnings).toEqual([
      'new failures 3 > max-new-failures 2, but within noise at the 5% level: the gate holds'
    ])
    expect(verdict.checks[0]).toMatchObject({
      rule: 'max-new-failures',
      ok: true,
      figure: '3',
      limit: '2, where p < 5%',
      message: verdict.warnings[0],
      warning: verdict.warnings[0]
    })
  })
})

describe('max-pass-rate-drop with significance', () => {
  const policy = 'max-pass-rate-drop: 5%\nsignificance: 5%'

  it('breaks on a drop its rows show to be significant', () => {
    // 90% → 70% over 100 rows: 20 rows newly fail, none pass, p = 2^-20
    const verdict = verdictOf(policy, pair(100, range(0, 10), range(0, 30), 0.05))
    expect(verdict.gate).toBe('failed')
    expect(verdict.broken[0]?.message).toBe(
      `pass rate −20 pp vs baseline, beyond max-pass-rate-drop −5 pp, significant at the 5% level: ${NOW} 70% vs baseline ${BASE} 90%`
    )
  })

  it('passes the same drop in a small sample with a warning that it is within noise', () => {
    // 90% → 70% over 10 rows: 2 rows newly fail, p = 0.25
    const small = pair(10, [0], [0, 1, 2], 0.05)
    const verdict = verdictOf(policy, small)
    expect(verdict.gate).toBe('passed')
    expect(verdict.warnings).toEqual([
      `pass rate −20 pp vs baseline, beyond max-pass-rate-drop −5 pp but within noise at the 5% level: ${NOW} 70% vs baseline ${BASE} 90% (within noise, p = 0.25); not counted against the gate`
    ])
    expect(verdict.checks[0]).toMatchObject({ ok: true, limit: '−5 pp, where p < 5%' })
    // without significance the rule applies as written
    expect(verdictOf('max-pass-rate-drop: 5%', small).gate).toBe('failed')
  })

  it('counts a drop that was not compared row by row (fail closed), saying why', () => {
    const { now, base } = pair(10, [0], [0, 1, 2])
    const comparison: Comparison = {
      compared: false,
      baselineRunId: BASE,
      reason: `the run's limit of 200,000 row results fetched for comparisons was reached`
    }
    const verdict = verdictOf(policy, { now, base, comparison })
    expect(verdict.gate).toBe('failed')
    expect(verdict.broken[0]?.message).toContain(
      `(not compared row by row, the run's limit of 200,000 row results fetched for comparisons was reached); a drop not compared row by row counts (fail closed)`
    )
  })
})

describe('with significance, a significant regression beside one within noise', () => {
  const NOISY = 'run-now-000000000000000002'
  const NOISY_BASE = 'run-base-00000000000000002'
  /** NOW: 90% → 80% over 200 rows, 20 newly failing, significant; NOISY: 90% → 60%, 3 newly failing of 10 rows, p = 0.125 */
  function twoEvaluations(policyText: string) {
    const real = pair(200, range(0, 20), range(0, 40), 0.05)
    const noisy = {
      now: evaluation({ runId: NOISY, pass: 6, fail: 4, unknown: 0 }),
      base: evaluation({ runId: NOISY_BASE, pass: 9, fail: 1, unknown: 0 }),
      comparison: compareRows(NOISY_BASE, side(10, [0]), side(10, [0, 1, 2, 3]), 0.05)
    }
    expect(noisy.comparison.compared && noisy.comparison.verdict.kind).toBe('within noise')
    return judge([real.now, noisy.now], totals([real.now, noisy.now]), parsePolicy(policyText), {
      baselines: new Map([
        [NOW, real.base],
        [NOISY, noisy.base]
      ]),
      comparisons: new Map([
        [NOW, real.comparison],
        [NOISY, noisy.comparison]
      ])
    })
  }

  it('max-new-failures: the rules table figure and the evaluations it names are what broke the limit, as the verdict says', () => {
    const verdict = twoEvaluations('max-new-failures: 5\nsignificance: 5%')
    expect(verdict.broken[0]?.message).toMatch(/^new failures in significant drops 20 > /)
    expect(verdict.checks[0]).toMatchObject({
      rule: 'max-new-failures',
      ok: false,
      figure: '20',
      runIds: [NOW]
    })
  })

  it('max-pass-rate-drop: the figure is the worst drop that counts, not the larger one within noise', () => {
    const verdict = twoEvaluations('max-pass-rate-drop: 5%\nsignificance: 5%')
    expect(verdict.broken[0]?.message).toMatch(/^pass rate −10 pp vs baseline/)
    expect(verdict.checks[0]).toMatchObject({
      rule: 'max-pass-rate-drop',
      ok: false,
      figure: '−10 pp',
      runIds: [NOW]
    })
    // without significance both count, and the worst is the figure
    const asWritten = twoEvaluations('max-pass-rate-drop: 5%')
    expect(asWritten.checks[0]).toMatchObject({ figure: '−30 pp', runIds: [NOW, NOISY] })
  })
})

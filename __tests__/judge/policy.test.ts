import { evaluation } from '../../__fixtures__/evaluations.js'
import type { Evaluation } from '../../src/adaline/schema.js'
import { totals } from '../../src/judge/metrics.js'
import { judge } from '../../src/judge/policy.js'
import { PolicyError, parsePolicy } from '../../src/judge/policy-yaml.js'

function verdictFor(policyText: string, evaluations: Evaluation[]) {
  return judge(evaluations, totals(evaluations), parsePolicy(policyText))
}

describe('parsePolicy', () => {
  it('reads every rule and setting', () => {
    const policy = parsePolicy(`
max-fail-runs: 0
max-unknown-runs: 2
max-failed-rows: 3
max-tokens: 100000
max-fail-rate: 5%
min-pass-rate: 0.9
max-cost: 1.5
max-avg-latency: 2000
allow-status: [completed, failed]
on-empty: pass
scope: all
`)
    expect(policy).toEqual({
      limits: {
        'max-fail-runs': 0,
        'max-unknown-runs': 2,
        'max-failed-rows': 3,
        'max-tokens': 100000,
        'max-fail-rate': 0.05,
        'min-pass-rate': 0.9,
        'max-cost': 1.5,
        'max-avg-latency': 2000
      },
      allowStatus: ['completed', 'failed'],
      onEmpty: 'pass',
      scope: 'all'
    })
  })

  it('treats empty text as the empty policy with defaults', () => {
    expect(parsePolicy('')).toEqual({ limits: {}, onEmpty: 'fail', scope: 'latest' })
    expect(parsePolicy('  \n')).toEqual({ limits: {}, onEmpty: 'fail', scope: 'latest' })
  })

  it.each([
    ['max-fails: 1', 'unknown key "max-fails"'],
    ['max-fail-runs: -1', 'max-fail-runs must be a whole number'],
    ['max-fail-runs: 1.5', 'max-fail-runs must be a whole number'],
    ['max-tokens: lots', 'max-tokens must be a whole number'],
    ['max-cost: -0.1', 'max-cost must be a number of 0 or more'],
    ['max-fail-rate: 1.2', 'max-fail-rate must be a rate from 0 to 1'],
    ['min-pass-rate: 120%', 'min-pass-rate must be a rate'],
    ['allow-status: [done]', 'allow-status must be a list of'],
    ['on-empty: maybe', 'on-empty must be one of: fail, pass'],
    ['scope: newest', 'scope must be one of: latest, all'],
    ['- max-fail-runs: 0', 'must be a YAML mapping'],
    ['max-fail-runs: [0', 'is not valid YAML'],
    ['max-fail-runs: 0\nmax-fail-runs: 1', 'is not valid YAML']
  ])('rejects %j with a message naming the problem', (text, message) => {
    expect(() => parsePolicy(text)).toThrow(PolicyError)
    expect(() => parsePolicy(text)).toThrow(message)
  })

  it.each([
    // keys every object inherits are no rules: they once passed as limits, then crashed the gate
    ['constructor: 1', 'unknown key "constructor"'],
    ['toString: 1', 'unknown key "toString"'],
    ['hasOwnProperty: 1\nmax-fail-runs: 0', 'unknown key "hasOwnProperty"'],
    ['__proto__: 1', 'unknown key "__proto__"'],
    ['"__proto__": { max-fail-runs: 1 }', 'unknown key "__proto__"'],
    ['? [max-fail-runs]\n: 1', 'a key that is not text'],
    // tags the policy does not read are refused, not printed as warnings on stderr
    ['max-fail-runs: !!js/function "function () {}"', 'Unresolved tag'],
    ['max-fail-runs: !!float 3', 'Unresolved tag'],
    ['max-fail-runs: !!binary aGVsbG8=', 'max-fail-runs must be a whole number'],
    ['base: &b { max-fail-runs: 1 }\n<<: *b', 'unknown key "base"'],
    ['max-cost: 1e400', 'max-cost must be a number of 0 or more'],
    [
      'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]',
      'is not valid YAML: Excessive alias count'
    ]
  ])('refuses the odd YAML %j as an expected error', (text, message) => {
    const emitWarning = process.emitWarning
    const warnings: unknown[] = []
    process.emitWarning = ((warning: unknown) => warnings.push(warning)) as typeof emitWarning
    try {
      expect(() => parsePolicy(text)).toThrow(PolicyError)
      expect(() => parsePolicy(text)).toThrow(message)
      expect(warnings).toEqual([])
    } finally {
      process.emitWarning = emitWarning
    }
  })

  it('reads numbers as YAML 1.2 writes them, and -0 as 0', () => {
    const policy = parsePolicy(
      'max-fail-runs: -0\nmax-tokens: 0x10\nmax-failed-rows: 1e3\nmax-fail-rate: "5 %"\nmax-cost: -0.0\nmin-pass-rate: -0'
    )
    expect(policy.limits).toEqual({
      'max-fail-runs': 0,
      'max-tokens': 16,
      'max-failed-rows': 1000,
      'max-fail-rate': 0.05,
      'max-cost': 0,
      'min-pass-rate': 0
    })
    // a limit of -0 was written "-0" in the gate's message
    for (const limit of Object.values(policy.limits)) expect(Object.is(limit, -0)).toBe(false)
  })
})

describe('judge', () => {
  const base = [
    evaluation({
      pass: 8,
      fail: 1,
      unknown: 1,
      failedRows: 2,
      cost: 0.5,
      latency: 10_000,
      tokens: 4_000
    })
  ]

  it('skips the gate when the policy sets no rules', () => {
    expect(verdictFor('', base)).toMatchObject({ gate: 'skipped', broken: [] })
    expect(verdictFor('scope: all\non-empty: pass', base)).toMatchObject({
      gate: 'skipped',
      broken: []
    })
  })

  // Each rule passes at its limit and breaks just past it: limits are inclusive.
  it.each([
    ['max-fail-runs', 1, 0, 'fail-runs 1 > max-fail-runs 0'],
    ['max-unknown-runs', 1, 0, 'unknown-runs 1 > max-unknown-runs 0'],
    ['max-failed-rows', 2, 1, 'failed-rows 2 > max-failed-rows 1'],
    ['max-tokens', 4000, 3999, 'tokens 4,000 > max-tokens 3,999'],
    ['max-cost', 0.5, 0.49, 'cost $0.50 > max-cost $0.49'],
    ['max-avg-latency', 1000, 999, 'avg-latency 1.0 s > max-avg-latency 999 ms'],
    ['max-fail-rate', 0.1, 0.09, 'fail-rate 10% > max-fail-rate 9%'],
    ['min-pass-rate', 0.8, 0.81, 'pass-rate 80% < min-pass-rate 81%']
  ])('%s passes at %p and breaks at %p', (rule, atLimit, pastLimit, message) => {
    expect(verdictFor(`${rule}: ${atLimit}`, base)).toMatchObject({ gate: 'passed', broken: [] })
    expect(verdictFor(`${rule}: ${pastLimit}`, base)).toMatchObject({
      gate: 'failed',
      broken: [{ rule, message }]
    })
  })

  it('checks every rule it sets, held or broken, each with its figure and limit, then allow-status', () => {
    const verdict = verdictFor('max-fail-runs: 0\nmin-pass-rate: 50%\nmax-cost: 1', base)
    expect(verdict.checks.map(({ rule, ok }) => [rule, ok])).toEqual([
      ['max-fail-runs', false],
      ['min-pass-rate', true],
      ['max-cost', true],
      ['allow-status', true]
    ])
    const [failRuns, passRate] = verdict.checks
    expect(failRuns).toMatchObject({ figure: '1', limit: '0', message: verdict.broken[0]!.message })
    expect(passRate).toMatchObject({
      limit: '50%',
      message: expect.stringContaining('within min-pass-rate 50%')
    })
  })

  it('checks nothing when the gate is skipped, and on-empty alone for an empty judged set', () => {
    expect(verdictFor('', base).checks).toEqual([])
    expect(verdictFor('max-fail-runs: 0', []).checks).toMatchObject([
      { rule: 'on-empty', ok: false }
    ])
    expect(verdictFor('max-fail-runs: 0\non-empty: pass', []).checks).toMatchObject([
      { rule: 'on-empty', ok: true }
    ])
  })

  it('accepts percentages for rates', () => {
    expect(verdictFor('max-fail-rate: "10%"', base).gate).toBe('passed')
    expect(verdictFor('max-fail-rate: "9.9%"', base).gate).toBe('failed')
  })

  it('compares sums of costs without floating-point noise', () => {
    const costs = [
      evaluation({ cost: 0.1, evaluatorId: 'evaluator-1111111111111111' }),
      evaluation({ cost: 0.2, evaluatorId: 'evaluator-2222222222222222' })
    ]
    expect(verdictFor('max-cost: 0.3', costs).gate).toBe('passed')
  })

  it('shows a rate at full precision when rounding would make it look equal to its limit', () => {
    const many = [evaluation({ pass: 99_999, fail: 1, unknown: 0 })]
    const verdict = verdictFor('min-pass-rate: 1', many)
    expect(verdict.broken[0]?.message).toBe('pass-rate 99.999% < min-pass-rate 100%')
    // the rules table shows the same figure, with the same decimals
    expect(verdict.checks[0]).toMatchObject({ figure: '99.999%', limit: '100%' })
  })

  it('writes each figure as the totals do, in the broken rule and in its check alike', () => {
    // 8 of 9 runs pass: 88.9% wherever it is shown, never 88.89%
    const nine = [evaluation({ pass: 8, fail: 1, unknown: 0, cost: 1.23456, latency: 9 * 1234 })]
    const verdict = verdictFor(
      'min-pass-rate: 90%\nmax-fail-rate: 10%\nmax-cost: 1\nmax-avg-latency: 1000',
      nine
    )
    expect(verdict.broken.map(b => b.message)).toEqual([
      'cost $1.2346 > max-cost $1.00',
      'fail-rate 11.1% > max-fail-rate 10%',
      'pass-rate 88.9% < min-pass-rate 90%',
      'avg-latency 1.2 s > max-avg-latency 1.0 s'
    ])
    expect(verdict.checks.map(c => [c.rule, c.figure, c.limit])).toEqual([
      ['min-pass-rate', '88.9%', '90%'],
      ['max-fail-rate', '11.1%', '10%'],
      ['max-cost', '$1.2346', '$1.00'],
      ['max-avg-latency', '1.2 s', '1.0 s'],
      ['allow-status', '1 of 1', 'completed']
    ])
  })

  it('adds decimals to a cost or a latency only where it would read as equal to its limit', () => {
    const near = [evaluation({ cost: 1.00001, latency: 10 * 1000.4 })]
    const verdict = verdictFor('max-cost: 1\nmax-avg-latency: 1000', near)
    expect(verdict.broken.map(b => b.message)).toEqual([
      'cost $1.00001 > max-cost $1.00',
      'avg-latency 1.0004 s > max-avg-latency 1.0000 s'
    ])
  })

  it('reports every broken rule, one each', () => {
    const verdict = verdictFor('max-fail-runs: 0\nmax-unknown-runs: 0\nmax-cost: 0.1', base)
    expect(verdict.broken.map(b => b.rule)).toEqual([
      'max-fail-runs',
      'max-unknown-runs',
      'max-cost'
    ])
  })

  it('breaks when a judged evaluation is not completed, by default', () => {
    const running = [evaluation({ status: 'running', runId: 'run-running-0000000000001' })]
    expect(verdictFor('max-fail-runs: 5', running)).toMatchObject({
      gate: 'failed',
      broken: [
        {
          rule: 'allow-status',
          message:
            '1 judged evaluation not in allow-status [completed]: run-running-0000000000001 is still running (100%). To judge the newest finished evaluation instead, set status: completed; to wait for this one, set wait (e.g. wait: 30m)'
        }
      ]
    })
  })

  it('puts allow-status first among broken rules, since the other figures are of unfinished evaluations', () => {
    const running = [evaluation({ status: 'running', runId: 'run-running-0000000000001', fail: 2 })]
    const verdict = verdictFor('max-fail-runs: 0\nmin-pass-rate: 95%', running)
    expect(verdict.broken.map(b => b.rule)).toEqual([
      'allow-status',
      'max-fail-runs',
      'min-pass-rate'
    ])
    // the rules table keeps the policy's order, allow-status last
    expect(verdict.checks.map(c => c.rule)).toEqual([
      'max-fail-runs',
      'min-pass-rate',
      'allow-status'
    ])
  })

  it('counts the evaluations outside allow-status in the plural, and suggests nothing when allow-status is set', () => {
    const failed = ['a', 'b'].map(n =>
      evaluation({ status: 'failed', runId: `run-failed-00000000000${n}` })
    )
    expect(verdictFor('max-fail-runs: 5', failed).broken[0]?.message).toBe(
      '2 judged evaluations not in allow-status [completed]: run-failed-00000000000a is failed, run-failed-00000000000b is failed'
    )
    const running = [evaluation({ status: 'running', runId: 'run-running-0000000000001' })]
    expect(verdictFor('allow-status: [completed]', running).broken[0]?.message).toBe(
      '1 judged evaluation not in allow-status [completed]: run-running-0000000000001 is still running (100%)'
    )
  })

  it('lets allow-status admit other statuses, and counts as a rule by itself', () => {
    const failed = [evaluation({ status: 'failed' })]
    expect(verdictFor('allow-status: [completed, failed]', failed).gate).toBe('passed')
    expect(verdictFor('allow-status: [completed]', failed).gate).toBe('failed')
  })

  it('fails an empty judged set by default and passes it with on-empty: pass', () => {
    expect(verdictFor('max-fail-runs: 0', []).gate).toBe('failed')
    expect(verdictFor('max-fail-runs: 0', []).broken[0]?.rule).toBe('on-empty')
    expect(verdictFor('max-fail-runs: 0\non-empty: pass', [])).toMatchObject({
      gate: 'passed',
      broken: []
    })
  })

  it('fails closed on rate and latency rules when the judged evaluations have no runs', () => {
    const empty = [evaluation({ pass: 0, fail: 0, unknown: 0 })]
    const verdict = verdictFor(
      'min-pass-rate: 0.5\nmax-fail-rate: 0.5\nmax-avg-latency: 100\nmax-fail-runs: 0',
      empty
    )
    expect(verdict.broken.map(b => b.rule)).toEqual([
      'max-fail-rate',
      'min-pass-rate',
      'max-avg-latency'
    ])
  })

  describe('max-pass-rate-drop', () => {
    const now = evaluation({ runId: 'run-now-000000000000000001', pass: 8, fail: 2, unknown: 0 })
    const baseline = evaluation({
      runId: 'run-base-00000000000000001',
      pass: 9,
      fail: 1,
      unknown: 0
    })
    const baselines = new Map([[now.runId, baseline]])
    const verdict = (limit: string) =>
      judge([now], totals([now]), parsePolicy(`max-pass-rate-drop: ${limit}`), { baselines })

    it('passes a drop at its limit and breaks past it, naming both runs', () => {
      expect(verdict('0.1').gate).toBe('passed')
      expect(verdict('9%').broken).toEqual([
        {
          rule: 'max-pass-rate-drop',
          message:
            'pass rate −10 pp vs baseline, beyond max-pass-rate-drop −9 pp: run-now-000000000000000001 80% vs baseline run-base-00000000000000001 90%'
        }
      ])
    })

    it('states the drop in points, with the decimals that tell it from the limit', () => {
      expect(verdict('9.96%').broken[0]?.message).toMatch(
        /^pass rate −10 pp vs baseline, beyond max-pass-rate-drop −9\.96 pp:/
      )
      expect(verdict('9.99%').broken[0]?.message).toMatch(
        /^pass rate −10 pp vs baseline, beyond max-pass-rate-drop −9\.99 pp:/
      )
    })

    it('does not apply to an evaluation without a baseline', () => {
      expect(
        judge([now], totals([now]), parsePolicy('max-pass-rate-drop: 0'), { baselines: new Map() })
          .gate
      ).toBe('passed')
    })
  })

  it('says how long it waited for an evaluation that is still running', () => {
    const running = evaluation({ runId: 'run-slow-00000000000000001', status: 'running' })
    const verdict = judge([running], totals([running]), parsePolicy('max-fail-runs: 9'), {
      waitedMs: 30 * 60_000
    })
    expect(verdict.broken[0]?.message).toContain(
      'run-slow-00000000000000001 is still running (100%) after waiting 30.0 min'
    )
  })

  it("words the hint in the naming it is given: the command's flags", () => {
    const running = evaluation({ runId: 'run-slow-00000000000000001', status: 'running' })
    const naming = {
      nameOf: (input: string) => `--${input}`,
      withValue: (input: string, value: string) => `--${input} ${value}`,
      verb: 'pass'
    }
    const hint = (context: { waitedMs?: number }) =>
      judge([running], totals([running]), parsePolicy('max-fail-runs: 9'), {
        ...context,
        naming
      }).broken[0]?.message
    expect(hint({})).toMatch(
      /\. To judge the newest finished evaluation instead, pass --status completed; to wait for this one, pass --wait \(e\.g\. --wait 30m\)$/
    )
    expect(hint({ waitedMs: 60_000 })).toMatch(
      /\. To judge the newest finished evaluation instead, pass --status completed; to give it more time, pass a longer --wait$/
    )
  })

  it('fails a wait that ran out even when the policy sets no rules', () => {
    const running = evaluation({ runId: 'run-slow-00000000000000001', status: 'running' })
    const timedOut = { waitedMs: 60_000, waitTimedOut: true }
    const verdict = judge([running], totals([running]), parsePolicy(''), timedOut)
    expect(verdict).toMatchObject({
      gate: 'failed',
      broken: [
        {
          rule: 'allow-status',
          message:
            '1 judged evaluation not in allow-status [completed]: run-slow-00000000000000001 is still running (100%) after waiting 1.0 min. To judge the newest finished evaluation instead, set status: completed; to give it more time, set a longer wait'
        }
      ]
    })
    // allow-status still lets it through, and a wait that did not run out still only reports
    expect(
      judge([running], totals([running]), parsePolicy('allow-status: [running]'), timedOut).gate
    ).toBe('passed')
    expect(judge([running], totals([running]), parsePolicy(''), { waitedMs: 60_000 }).gate).toBe(
      'skipped'
    )
  })
})

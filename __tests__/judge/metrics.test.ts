import fc from 'fast-check'
import { evaluation } from '../../__fixtures__/evaluations.js'
import {
  DecimalSum,
  FiguresDisagree,
  TotalsError,
  checkFigures,
  totals
} from '../../src/judge/metrics.js'
import { judge } from '../../src/judge/policy.js'
import { parsePolicy } from '../../src/judge/policy-yaml.js'

function sum(values: number[]): number {
  const total = new DecimalSum()
  values.forEach(value => total.add(value))
  return total.value()
}

describe('totals', () => {
  it('adds cost and latency as decimals: no float noise, no digit rounded away', () => {
    const metrics = totals([
      evaluation({ cost: 0.1, latency: 1.2345678901234567 }),
      evaluation({ cost: 0.2, latency: 0 })
    ])
    expect(metrics.totalCost).toBe(0.3)
    // 15 significant digits (the old rounding) would give 1.23456789012346
    expect(metrics.totalLatency).toBe(1.2345678901234567)
  })
})

it('gives the average latency without float noise, so a limit equal to it holds', () => {
  const metrics = totals(
    [0.35, 0.35, 0.35].map(latency => evaluation({ latency, pass: 1, fail: 0, unknown: 0 }))
  )
  expect(metrics.avgLatency).toBe(0.35)
})

describe('DecimalSum', () => {
  it.each([
    [[], 0],
    [[0.1, 0.2], 0.3],
    [[1e-7, 2e-7], 3e-7],
    [[123456789.123, 0.877], 123456790],
    [[0.1, -0.1], 0],
    // the exact 9007199254740993 is not a double; the nearest is 9007199254740992
    [[9007199254740991, 2], 9007199254740992]
  ])('adds %j to %p', (values, total) => {
    expect(sum(values)).toBe(total)
  })

  it('gives the double nearest the exact sum of integers, in any order', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1_000_000 })), values => {
        expect(sum(values)).toBe(values.reduce((a, b) => a + b, 0))
        expect(sum([...values].reverse())).toBe(sum(values))
      })
    )
  })

  it('equals the sum of cents counted as integers', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000_000 })), cents => {
        const total = cents.reduce((a, b) => a + b, 0)
        expect(sum(cents.map(c => c / 100))).toBe(Number((total / 100).toFixed(2)))
      })
    )
  })
})

describe('totals that cannot be exact', () => {
  const MAX = Number.MAX_SAFE_INTEGER

  function refusal(evaluations: ReturnType<typeof evaluation>[]): TotalsError {
    try {
      totals(evaluations)
    } catch (error) {
      if (error instanceof TotalsError) return error
      throw error
    }
    throw new Error('no TotalsError was thrown')
  }

  it('refuses finite costs whose sum overflows, naming the figure, rather than a RangeError', () => {
    const error = refusal([evaluation({ cost: 1.7e308 }), evaluation({ cost: 1.7e308 })])
    expect(error.figure).toBe('metrics.totalCost')
    expect(error.message).toMatch(
      /^The figures Adaline answered cannot be added up exactly: the total of metrics\.totalCost over the judged evaluations is beyond the largest number \(1\.8e308\)\. There is no verdict/
    )
  })

  it('refuses latencies whose sum overflows', () => {
    expect(refusal([evaluation({ latency: 1e308 }), evaluation({ latency: 1e308 })]).figure).toBe(
      'metrics.totalLatency'
    )
  })

  it.each([
    ['metrics.failRuns', { fail: MAX }, { fail: 1 }],
    ['metrics.totalTokenCount', { tokens: MAX }, { tokens: 2 }],
    ['progress.failedRows', { failedRows: MAX - 1 }, { failedRows: 5 }],
    // each count is exact, but their sum, the runs a rate divides by, is not
    [
      'runs (passRuns + failRuns + unknownRuns)',
      { pass: MAX, fail: 0, unknown: 0 },
      { pass: 0, fail: 9, unknown: 0 }
    ]
  ])('refuses counts whose total passes 2^53 (%s)', (figure, a, b) => {
    const error = refusal([evaluation(a), evaluation(b)])
    expect(error.figure).toBe(figure)
    expect(error.message).toContain('passes 9,007,199,254,740,991, beyond which counts are rounded')
  })

  it('keeps a total of exactly 2^53 - 1', () => {
    const metrics = totals([
      evaluation({ pass: 0, fail: MAX - 1, unknown: 0 }),
      evaluation({ pass: 0, fail: 1, unknown: 0 })
    ])
    expect(metrics.failRuns).toBe(MAX)
  })

  it('never lets the gate pass on a rounded count: judged, it is refused instead', () => {
    // 2^53 + 1 rounds to 2^53, which would meet max-fail-runs: 9007199254740992
    const evaluations = [
      evaluation({ pass: 0, fail: 2 ** 52, unknown: 0 }),
      evaluation({ pass: 0, fail: 2 ** 52 + 1, unknown: 0 })
    ]
    expect(() =>
      judge(evaluations, totals(evaluations), parsePolicy('max-fail-runs: 9007199254740992'))
    ).toThrow(TotalsError)
  })

  it('refuses totals built elsewhere that are not exact, when judging', () => {
    const evaluations = [evaluation()]
    const metrics = { ...totals(evaluations), totalCost: Infinity }
    expect(() => judge(evaluations, metrics, parsePolicy('max-cost: 1'))).toThrow(TotalsError)
    const rounded = { ...totals(evaluations), failRuns: 2 ** 53 }
    expect(() => judge(evaluations, rounded, parsePolicy('max-fail-runs: 1'))).toThrow(TotalsError)
  })

  it('gives every count total exactly, or refuses it, for any counts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat({ max: 1000 }), fc.integer({ min: 0, max: MAX })), {
          maxLength: 6
        }),
        counts => {
          const exact = counts.reduce((sum, n) => sum + BigInt(n), 0n)
          const evaluations = counts.map(fail => evaluation({ pass: 0, fail, unknown: 0 }))
          try {
            expect(BigInt(totals(evaluations).failRuns)).toBe(exact)
          } catch (error) {
            expect(error).toBeInstanceOf(TotalsError)
            expect(exact > BigInt(MAX)).toBe(true)
          }
        }
      )
    )
  })
})

describe('figures that contradict each other', () => {
  const completed = evaluation({ runId: 'run-contradicts-itself-01', pass: 8, fail: 1, unknown: 1 })
  const running = evaluation({
    runId: 'run-contradicts-itself-02',
    status: 'running',
    pass: 3,
    fail: 1,
    unknown: 0
  })
  running.progress = { totalRows: 10, completedRows: 4, failedRows: 0, percent: 40 }

  it('lets figures that agree through, a running evaluation part way included', () => {
    expect(() => checkFigures([completed, running])).not.toThrow()
  })

  it.each([
    [
      'more runs than rows completed',
      { metrics: { ...completed.metrics, passRuns: 50 } },
      '52 graded runs'
    ],
    [
      'fewer runs than rows, said completed (1 of 100 rows graded would pass any rate rule)',
      { progress: { ...completed.progress, totalRows: 100, completedRows: 100 } },
      '10 graded runs (pass, fail and unknown), but its progress counts 100 completed and 0 failed of 100 rows'
    ],
    [
      'rows completed past the total',
      { progress: { ...completed.progress, completedRows: 11, totalRows: 10 } },
      '11 completed'
    ],
    [
      'rows failed past the total',
      { progress: { ...completed.progress, failedRows: 11 } },
      '11 failed of 10 rows'
    ]
  ])('refuses %s, naming the evaluation, as an expected error', (_, change, said) => {
    const odd = { ...completed, ...change }
    const error = (() => {
      try {
        checkFigures([running, odd])
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(FiguresDisagree)
    // the faces print a TotalsError's message alone, as an expected error
    expect(error).toBeInstanceOf(TotalsError)
    const message = (error as FiguresDisagree).message
    expect(message).toContain('evaluation run-contradicts-itself-01 contradict each other')
    expect(message).toContain(said)
    expect((error as FiguresDisagree).describe(input => `--${input}`)).toContain(
      '(--created-after, --evaluator-id)'
    )
  })

  it.each([
    ['among the completed ones, with no grade', { completedRows: 10, failedRows: 2 }, 8],
    ['among the completed ones, graded unknown', { completedRows: 10, failedRows: 2 }, 10],
    ['apart from the completed ones, with no grade', { completedRows: 8, failedRows: 2 }, 8],
    ['apart from the completed ones, graded unknown', { completedRows: 8, failedRows: 2 }, 10]
  ])(
    'lets a completed evaluation through whichever way its failed rows are counted: %s',
    (_, rows, runs) => {
      const odd = evaluation({
        runId: 'run-failed-rows-counted-1',
        pass: runs - 2,
        fail: 1,
        unknown: 1
      })
      odd.progress = { totalRows: 10, percent: 100, ...rows }
      expect(() => checkFigures([odd])).not.toThrow()
    }
  )

  it('refuses more runs than rows completed while still running', () => {
    const ahead = { ...running, metrics: { ...running.metrics, passRuns: 9 } }
    expect(() => checkFigures([ahead])).toThrow(FiguresDisagree)
  })
})

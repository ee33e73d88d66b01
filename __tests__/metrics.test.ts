import fc from 'fast-check'
import { evaluation } from '../__fixtures__/evaluations.js'
import { DecimalSum, totals } from '../src/metrics.js'

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

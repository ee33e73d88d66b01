/** McNemar's exact one-sided test against exact and published values, and the verdict a reviewer reads. */
import fc from 'fast-check'
import {
  DEFAULT_SIGNIFICANCE,
  formatPValue,
  MAX_DISCORDANT_PAIRS,
  mcnemarOneSided,
  regressionVerdict,
  verdictText
} from '../../src/judge/significance.js'

/** The exact P(X ≥ b), X ~ Binomial(b + c, ½), as a double: Σ_{k ≥ b} C(n, k) / 2ⁿ in BigInt. */
function exactUpperTail(b: number, c: number): number {
  const n = BigInt(b + c)
  let term = 1n // C(n, 0)
  let sum = 0n
  for (let k = 0n; k <= n; k++) {
    if (k >= BigInt(b)) sum += term
    term = (term * (n - k)) / (k + 1n)
  }
  // n ≤ 240 here: Number() rounds the sum to 1 part in 2^53, and 2ⁿ divides exactly
  return Number(sum) / 2 ** Number(n)
}

const relativeError = (value: number, exact: number) => Math.abs(value - exact) / exact

describe('mcnemarOneSided', () => {
  // Exact rationals Σ_{k≥b} C(b+c, k) / 2^(b+c), computed with big integers (fractions) and, for
  // (100, 80) and (2000, 1900), to 22 digits (notes/research-libs.md §5, recomputed for this test);
  // the literals are the nearest doubles.
  it.each([
    [0, 0, 1],
    [1, 0, 1 / 2],
    [5, 0, 1 / 32],
    [5, 5, 319 / 512],
    [10, 2, 79 / 4096],
    [30, 10, 305311533 / 274877906944],
    [100, 80, 0.07826573478907554], // 0.07826573478907555009668…
    [2000, 1900, 0.05644682612967444], // 0.0564468261296744446805…
    [7, 1, 9 / 256]
  ])('(b = %i, c = %i) gives the exact P(X ≥ b) = %p (relative error < 1e-12)', (b, c, p) => {
    expect(relativeError(mcnemarOneSided(b, c), p)).toBeLessThan(1e-12)
  })

  it('matches the published exact McNemar test of Cavo et al. (2012): b = 16, c = 6', () => {
    // Fagerland, Lydersen & Laake, Statistical Analysis of Contingency Tables (2017), ch. 8:
    // the paired 2×2 table [[59, 6], [16, 80]] has the exact conditional two-sided P = 0.052479,
    // twice the one-sided 13757/524288 = 0.0262393951416015625.
    const p = mcnemarOneSided(16, 6)
    expect(relativeError(p, 13757 / 524288)).toBeLessThan(1e-12)
    expect((2 * p).toFixed(6)).toBe('0.052479')
  })

  it('is 1 when no row became worse, whatever became better', () => {
    expect(mcnemarOneSided(0, 0)).toBe(1)
    expect(mcnemarOneSided(0, 37)).toBe(1)
  })

  it('gives a finite, tiny p for a large sample: 50,000 rows newly failing against 49,000', () => {
    const p = mcnemarOneSided(50_000, 49_000)
    expect(Number.isFinite(p)).toBe(true)
    expect(p).toBeGreaterThan(0)
    expect(p).toBeLessThan(0.001)
    // 0.0007490413114874868254 to 22 digits (a 40-digit sum of the binomial tail with mpmath)
    expect(relativeError(p, 0.0007490413114874868)).toBeLessThan(1e-12)
  })

  it('keeps a far-tail p tiny instead of rounding it to 0 (what 1 − CDF would print)', () => {
    // 1,000 rows newly failing and none passing: exactly 2^-1000 ≈ 9.3e-302, a double
    expect(relativeError(mcnemarOneSided(1000, 0), 2 ** -1000)).toBeLessThan(1e-12)
  })

  it('stays accurate at the largest sample it accepts', () => {
    // 10,000,000 discordant rows, 1 standard deviation from even: 0.02277669698484187568816 to
    // 22 digits (mpmath, 40 digits); the library's error has grown to about 3e-10 here
    const b = 5_003_162
    const c = MAX_DISCORDANT_PAIRS - b
    expect(relativeError(mcnemarOneSided(b, c), 0.022776696984841877)).toBeLessThan(1e-9)
  })

  it.each([
    [-1, 0, /b \(newly failing rows\) must be a whole number ≥ 0, got -1/],
    [0, -1, /c \(newly passing rows\) must be a whole number ≥ 0, got -1/],
    [1.5, 0, /got 1.5/],
    [0, NaN, /got NaN/],
    [Infinity, 0, /got Infinity/],
    [2 ** 53, 0, /got 9007199254740992/],
    [MAX_DISCORDANT_PAIRS, 1, /10000001 discordant rows is more than the 10000000/]
  ])('refuses b = %p, c = %p with a RangeError that says why', (b, c, message) => {
    expect(() => mcnemarOneSided(b, c)).toThrow(RangeError)
    expect(() => mcnemarOneSided(b, c)).toThrow(message)
  })

  it('equals the exact rational for any small sample (BigInt oracle)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 120 }), fc.nat({ max: 120 }), (b, c) => {
        expect(relativeError(mcnemarOneSided(b, c), exactUpperTail(b, c))).toBeLessThan(1e-12)
      })
    )
  })

  it('is a probability, and more newly failing rows (the same newly passing) never raise it', () => {
    const countArb = fc.nat({ max: 5000 })
    fc.assert(
      fc.property(countArb, countArb, countArb, (b, more, c) => {
        const p = mcnemarOneSided(b, c)
        const pMore = mcnemarOneSided(b + more, c)
        expect(p).toBeGreaterThanOrEqual(0)
        expect(p).toBeLessThanOrEqual(1)
        expect(pMore).toBeLessThanOrEqual(p)
      })
    )
  })
})

const compared = (newlyFailing: number, newlyPassing: number, bothPass = 50, bothFail = 10) => ({
  bothPass,
  bothFail,
  newlyFailing,
  newlyPassing
})

describe('regressionVerdict', () => {
  it('calls a drop beyond chance a regression and shows its p', () => {
    const verdict = regressionVerdict(compared(10, 2), 0.05)
    expect(verdict).toEqual({
      kind: 'regression',
      pValue: mcnemarOneSided(10, 2),
      significance: 0.05
    })
    expect(verdictText(verdict)).toBe('regression, p = 0.019')
  })

  it('calls the same share of rows flipping in a small sample within noise', () => {
    // 6 of 8 changed rows got worse: p = 37/256; 60 of 80: p ≈ 4.1e-6
    expect(verdictText(regressionVerdict(compared(6, 2)))).toBe('within noise, p = 0.14')
    expect(verdictText(regressionVerdict(compared(60, 20)))).toBe('regression, p < 0.001')
  })

  it('needs p strictly below the significance: p equal to it is within noise', () => {
    // (5, 0): p = 1/32 exactly
    expect(regressionVerdict(compared(5, 0), 1 / 32).kind).toBe('within noise')
    expect(regressionVerdict(compared(5, 0), 0.0313).kind).toBe('regression')
  })

  it('uses the conventional 5% when the policy sets no significance', () => {
    expect(DEFAULT_SIGNIFICANCE).toBe(0.05)
    expect(regressionVerdict(compared(10, 2)).significance).toBe(0.05)
    expect(regressionVerdict(compared(9, 3)).kind).toBe('within noise') // p = 0.073
  })

  it('calls more rows newly passing an improvement, without a p for a drop that did not happen', () => {
    const verdict = regressionVerdict(compared(2, 30), 0.05)
    expect(verdict.kind).toBe('improvement')
    expect(verdictText(verdict)).toBe('improvement')
  })

  it('tells no change from changes that cancel out and from no evidence at all', () => {
    expect(verdictText(regressionVerdict(compared(0, 0)))).toBe('no change')
    expect(verdictText(regressionVerdict(compared(4, 4)))).toBe('no net change')
    expect(verdictText(regressionVerdict(compared(0, 0, 0, 0)))).toBe('nothing compared')
  })

  it.each([-0.01, 1.5, NaN])('refuses significance %p with a RangeError', significance => {
    expect(() => regressionVerdict(compared(1, 0), significance)).toThrow(
      /significance must be between 0 and 1/
    )
  })
})

describe('formatPValue', () => {
  it.each([
    [1, 'p = 1'],
    [0.623046875, 'p = 0.62'],
    [0.41, 'p = 0.41'],
    [0.0262393951416015625, 'p = 0.026'],
    [0.003, 'p = 0.003'],
    [0.001, 'p = 0.001'],
    [0.0009999, 'p < 0.001'],
    [2 ** -1000, 'p < 0.001'],
    [0, 'p < 0.001']
  ])('writes %p as %s', (p, text) => {
    expect(formatPValue(p)).toBe(text)
  })

  it('cuts toward zero so a p just under 5% never reads as 0.05', () => {
    expect(formatPValue(0.0496)).toBe('p = 0.049')
    expect(formatPValue(0.996)).toBe('p = 0.99')
  })

  it.each([-0.1, 1.01, NaN])('refuses %p, which is no probability', p => {
    expect(() => formatPValue(p)).toThrow(RangeError)
  })

  it('never shows 0 and stays on the same side as p of every two-digit level', () => {
    const levelArb = fc
      .tuple(fc.integer({ min: 10, max: 99 }), fc.integer({ min: 2, max: 4 }))
      .map(([digits, places]) => Number((digits * 10 ** -places).toPrecision(2)))
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), levelArb, (p, level) => {
        const text = formatPValue(p)
        if (p < 0.001) {
          expect(text).toBe('p < 0.001')
          return
        }
        const shown = Number(text.replace('p = ', ''))
        expect(shown).toBeGreaterThan(0)
        expect(shown).toBeLessThanOrEqual(p)
        expect(relativeError(shown, p)).toBeLessThan(0.1) // two significant digits
        expect(shown < level).toBe(p < level)
      })
    )
  })
})

/** Whether a drop in paired row results is beyond chance: McNemar's exact test and its verdict in words. Pure. */
import binomialCdf from '@stdlib/stats-base-dists-binomial-cdf'
import type { RowComparison } from './pairing.js'

/**
 * The most discordant pairs (b + c) the test accepts. The library's error grows with n: checked
 * against a 40-digit computation it is within 2e-13 at n = 10⁵, 1.5e-11 at 10⁶ and 3.1e-10 at 10⁷,
 * but off by 4% at 10⁹ and negative beyond, so a larger n is refused rather than answered wrongly.
 * (Ten million discordant rows would take 50,000 result pages a side; no run fetches that many.)
 */
export const MAX_DISCORDANT_PAIRS = 10_000_000

/**
 * McNemar's exact one-sided p-value for a drop: P(X ≥ b) for X ~ Binomial(b + c, ½), the chance
 * that at least b of the b + c rows that changed would change for the worse if changes were coin
 * flips. `b` rows newly fail, `c` newly pass; (0, 0) → 1.
 */
export function mcnemarOneSided(b: number, c: number): number {
  requireCount('b (newly failing rows)', b)
  requireCount('c (newly passing rows)', c)
  if (b + c > MAX_DISCORDANT_PAIRS)
    throw new RangeError(
      `McNemar's test: b + c = ${b + c} discordant rows is more than the ${MAX_DISCORDANT_PAIRS} its binomial CDF was checked for`
    )
  // at p = ½ the distribution is symmetric, so P(X ≥ b) = P(X ≤ c): no 1 − CDF cancellation,
  // and a tiny p stays tiny instead of becoming 0
  return binomialCdf(c, b + c, 0.5)
}

function requireCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`McNemar's test: ${name} must be a whole number ≥ 0, got ${value}`)
}

/** The conventional level, used for the words when the policy sets no `significance`. */
export const DEFAULT_SIGNIFICANCE = 0.05

export type VerdictKind =
  | 'regression' // more rows newly fail than newly pass, and p < significance
  | 'within noise' // more rows newly fail than newly pass, but p ≥ significance
  | 'improvement' // more rows newly pass than newly fail
  | 'no net change' // as many rows newly fail as newly pass, at least one each
  | 'no change' // no row changed grade
  | 'nothing compared' // no row had a known grade on both sides: no evidence either way

export interface RegressionVerdict {
  kind: VerdictKind
  /** McNemar's one-sided p-value for a drop (1 when nothing changed). */
  pValue: number
  significance: number
}

/** What a reviewer reads about one comparison: whether the drop is beyond chance at `significance`. */
export function regressionVerdict(
  comparison: Pick<RowComparison, 'bothPass' | 'bothFail' | 'newlyFailing' | 'newlyPassing'>,
  significance = DEFAULT_SIGNIFICANCE
): RegressionVerdict {
  if (!(significance >= 0 && significance <= 1))
    throw new RangeError(`significance must be between 0 and 1, got ${significance}`)
  const { bothPass, bothFail, newlyFailing: b, newlyPassing: c } = comparison
  const pValue = mcnemarOneSided(b, c)
  const kind: VerdictKind =
    b > c
      ? pValue < significance
        ? 'regression'
        : 'within noise'
      : c > b
        ? 'improvement'
        : b > 0
          ? 'no net change'
          : bothPass + bothFail > 0
            ? 'no change'
            : 'nothing compared'
  return { kind, pValue, significance }
}

/** "regression, p = 0.003", "within noise, p = 0.41", "improvement": the p only where a drop is judged. */
export function verdictText({ kind, pValue }: RegressionVerdict): string {
  return kind === 'regression' || kind === 'within noise'
    ? `${kind}, ${formatPValue(pValue)}`
    : kind
}

/** Below this a p-value is written as "p < 0.001": smaller differences mean nothing to a reviewer. */
const SMALLEST_SHOWN = 0.001

/**
 * "p = 0.041", "p = 0.41", "p < 0.001": two significant digits, never "p = 0" for a tiny p.
 * Cut toward zero, not rounded, so the text stays on the same side of any two-digit level as
 * the value: p = 0.0496 is "p = 0.049", never a "regression, p = 0.05" at a 5% level.
 */
export function formatPValue(p: number): string {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`a p-value is between 0 and 1, got ${p}`)
  if (p < SMALLEST_SHOWN) return `p < ${SMALLEST_SHOWN}`
  let shown = Number(p.toPrecision(2))
  if (shown > p) {
    // toPrecision rounded up: step down one unit in p's second digit (0.0496 → 0.050 → 0.049)
    const unit = 10 ** (Math.floor(Math.log10(p)) - 1)
    shown = Number((shown - unit).toPrecision(2))
  }
  return `p = ${shown}`
}

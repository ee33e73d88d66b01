/** Pairing a judged evaluation's rows with its baseline's: the counts McNemar's test and the report read. */
import fc from 'fast-check'
import { GRADES, type Grade, type Result } from '../../src/adaline/schema.js'
import {
  pairedRows,
  pairRows,
  rowResultFrom,
  type RowComparison,
  type RowResult
} from '../../src/judge/pairing.js'

const row = (rowId: string, grade: Grade, extra: Partial<RowResult> = {}): RowResult => ({
  rowId,
  grade,
  ...extra
})

/** The counts alone, for comparing two comparisons. */
const counts = ({ newlyFailingRows: _, ...rest }: RowComparison) => rest

describe('pairRows', () => {
  it('counts each pair by its baseline grade and its grade now', () => {
    const baseline = [
      row('r-pass-pass', 'pass'),
      row('r-fail-fail', 'fail'),
      row('r-pass-fail', 'pass'),
      row('r-fail-pass', 'fail'),
      row('r-unknown-pass', 'unknown'),
      row('r-fail-unknown', 'fail'),
      row('r-gone', 'pass')
    ]
    const judged = [
      row('r-new', 'fail'),
      row('r-fail-unknown', 'unknown'),
      row('r-unknown-pass', 'pass'),
      row('r-fail-pass', 'pass'),
      row('r-pass-fail', 'fail'),
      row('r-fail-fail', 'fail'),
      row('r-pass-pass', 'pass')
    ]
    expect(counts(pairRows(baseline, judged))).toEqual({
      bothPass: 1,
      bothFail: 1,
      newlyFailing: 1,
      newlyPassing: 1,
      unknown: 2,
      onlyBaseline: 1,
      onlyJudged: 1,
      duplicates: { baseline: 0, judged: 0 }
    })
  })

  it('lists the newly failing rows by rowId with both sides’ grade, score and reason and the input values', () => {
    const baseline = [
      row('row-b', 'pass', { score: 0.9, reason: 'cites the source', values: { q: 'old b' } }),
      row('row-a', 'pass', { score: 1, values: { q: 'a' } }),
      row('row-c', 'pass')
    ]
    const judged = [
      row('row-c', 'fail', { reason: 'no answer' }),
      row('row-b', 'fail', { score: 0.2, reason: 'invents a source', values: { q: 'b' } }),
      row('row-a', 'fail', { score: null, reason: null })
    ]
    expect(pairRows(baseline, judged).newlyFailingRows).toEqual([
      {
        rowId: 'row-a',
        baseline: { grade: 'pass', score: 1, reason: null },
        judged: { grade: 'fail', score: null, reason: null },
        values: { q: 'a' }
      },
      {
        rowId: 'row-b',
        baseline: { grade: 'pass', score: 0.9, reason: 'cites the source' },
        judged: { grade: 'fail', score: 0.2, reason: 'invents a source' },
        values: { q: 'b' }
      },
      {
        rowId: 'row-c',
        baseline: { grade: 'pass', score: null, reason: null },
        judged: { grade: 'fail', score: null, reason: 'no answer' }
      }
    ])
  })

  it('orders newly failing rows by code unit, not by the locale (upper case before lower)', () => {
    const ids = ['b', 'B', 'a', 'A', 'ä', '10', '9']
    const { newlyFailingRows } = pairRows(
      ids.map(id => row(id, 'pass')),
      ids.map(id => row(id, 'fail'))
    )
    expect(newlyFailingRows.map(r => r.rowId)).toEqual(['10', '9', 'A', 'B', 'a', 'b', 'ä'])
  })

  it('keeps the first result of a rowId repeated on one side and counts the repeats', () => {
    const comparison = pairRows(
      [row('r1', 'pass', { reason: 'first' }), row('r1', 'pass', { reason: 'again' })],
      [row('r1', 'fail'), row('r1', 'fail'), row('r1', 'fail')]
    )
    expect(counts(comparison)).toEqual({
      bothPass: 0,
      bothFail: 0,
      newlyFailing: 1,
      newlyPassing: 0,
      unknown: 0,
      onlyBaseline: 0,
      onlyJudged: 0,
      duplicates: { baseline: 1, judged: 2 }
    })
    expect(comparison.newlyFailingRows[0]?.baseline.reason).toBe('first')
  })

  it('counts a row whose repeats disagree on the grade as unknown, never as a change', () => {
    const baseline = [row('r1', 'pass'), row('r2', 'fail'), row('r2', 'pass')]
    const judged = [row('r1', 'fail'), row('r1', 'pass'), row('r2', 'pass')]
    expect(counts(pairRows(baseline, judged))).toMatchObject({
      newlyFailing: 0,
      newlyPassing: 0,
      unknown: 2,
      duplicates: { baseline: 1, judged: 1 }
    })
  })

  it('shows the baseline’s input values when the judged side has none', () => {
    const [newlyFailing] = pairRows(
      [row('r1', 'pass', { values: { q: 'from baseline' } })],
      [row('r1', 'fail')]
    ).newlyFailingRows
    expect(newlyFailing?.values).toEqual({ q: 'from baseline' })
  })

  it('compares nothing when the sides share no row', () => {
    const comparison = pairRows([row('a', 'pass')], [row('b', 'fail'), row('c', 'fail')])
    expect(pairedRows(comparison)).toBe(0)
    expect(comparison).toMatchObject({ onlyBaseline: 1, onlyJudged: 2, newlyFailing: 0 })
  })
})

describe('rowResultFrom', () => {
  it('takes an API result’s grade, score, reason and row values', () => {
    const result: Result = {
      id: 'result-1',
      rowId: 'row-1',
      grade: 'fail',
      score: 0.25,
      reason: 'off topic',
      cost: 0.001,
      row: { values: { question: 'why?' } }
    }
    expect(rowResultFrom(result)).toEqual({
      rowId: 'row-1',
      grade: 'fail',
      score: 0.25,
      reason: 'off topic',
      values: { question: 'why?' }
    })
    expect(rowResultFrom({ id: 'result-2', rowId: 'row-2', grade: 'pass' })).toEqual({
      rowId: 'row-2',
      grade: 'pass',
      score: undefined,
      reason: undefined
    })
  })
})

// A small pool of rowIds, so that the two sides share rows and repeat them often.
const rowArb = fc.record({
  rowId: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `row-${i}`)),
  grade: fc.constantFrom(...GRADES)
})
const sideArb = fc.array(rowArb, { maxLength: 30 })

/** Each rowId's grade as the test reads the rule: the first, or unknown if a repeat disagrees. */
function gradesById(side: RowResult[]): Map<string, Grade> {
  const grades = new Map<string, Grade>()
  for (const { rowId, grade } of side) {
    const first = grades.get(rowId)
    grades.set(rowId, first === undefined || first === grade ? grade : 'unknown')
  }
  return grades
}

describe('pairRows properties', () => {
  it('swapping the sides swaps newly failing with newly passing and baseline-only with judged-only', () => {
    fc.assert(
      fc.property(sideArb, sideArb, (baseline, judged) => {
        const forward = pairRows(baseline, judged)
        const backward = pairRows(judged, baseline)
        expect(backward).toMatchObject({
          bothPass: forward.bothPass,
          bothFail: forward.bothFail,
          unknown: forward.unknown,
          newlyFailing: forward.newlyPassing,
          newlyPassing: forward.newlyFailing,
          onlyBaseline: forward.onlyJudged,
          onlyJudged: forward.onlyBaseline,
          duplicates: { baseline: forward.duplicates.judged, judged: forward.duplicates.baseline }
        })
      })
    )
  })

  it('counts as discordant only rows present on both sides with a known, different grade', () => {
    fc.assert(
      fc.property(sideArb, sideArb, (baseline, judged) => {
        const before = gradesById(baseline)
        const after = gradesById(judged)
        const changed = (from: Grade, to: Grade) =>
          [...before].filter(([id, grade]) => grade === from && after.get(id) === to).length
        const comparison = pairRows(baseline, judged)
        expect(comparison.newlyFailing).toBe(changed('pass', 'fail'))
        expect(comparison.newlyPassing).toBe(changed('fail', 'pass'))
      })
    )
  })

  it('leaves the discordant counts unchanged by rows only one side has or rows graded unknown', () => {
    const extraArb = fc.array(
      fc.record({
        rowId: fc.stringMatching(/^extra-[a-z]{1,4}$/),
        grade: fc.constantFrom(...GRADES)
      }),
      { maxLength: 10 }
    )
    fc.assert(
      fc.property(
        sideArb,
        sideArb,
        extraArb,
        fc.boolean(),
        (baseline, judged, extra, onBaseline) => {
          const plain = pairRows(baseline, judged)
          const unknownBoth = extra.map(r => ({ ...r, grade: 'unknown' as const }))
          const widened = onBaseline
            ? pairRows([...baseline, ...extra], [...judged, ...unknownBoth])
            : pairRows([...baseline, ...unknownBoth], [...judged, ...extra])
          const unpaired = onBaseline
            ? pairRows([...baseline, ...extra], judged)
            : pairRows(baseline, [...judged, ...extra])
          for (const comparison of [widened, unpaired]) {
            expect(comparison.newlyFailing).toBe(plain.newlyFailing)
            expect(comparison.newlyPassing).toBe(plain.newlyPassing)
            expect(comparison.newlyFailingRows).toEqual(plain.newlyFailingRows)
          }
        }
      )
    )
  })

  it('adds up: every distinct rowId is paired once or on one side only, repeats counted apart', () => {
    fc.assert(
      fc.property(sideArb, sideArb, (baseline, judged) => {
        const before = new Set(baseline.map(r => r.rowId))
        const after = new Set(judged.map(r => r.rowId))
        const shared = [...before].filter(id => after.has(id)).length
        const comparison = pairRows(baseline, judged)
        expect(pairedRows(comparison)).toBe(shared)
        expect(comparison.onlyBaseline).toBe(before.size - shared)
        expect(comparison.onlyJudged).toBe(after.size - shared)
        expect(comparison.duplicates).toEqual({
          baseline: baseline.length - before.size,
          judged: judged.length - after.size
        })
      })
    )
  })

  it('lists exactly the newly failing rows, each once, in rowId order', () => {
    fc.assert(
      fc.property(sideArb, sideArb, (baseline, judged) => {
        const { newlyFailing, newlyFailingRows } = pairRows(baseline, judged)
        expect(newlyFailingRows).toHaveLength(newlyFailing)
        const ids = newlyFailingRows.map(r => r.rowId)
        expect(ids).toEqual([...new Set(ids)].sort())
        for (const r of newlyFailingRows) {
          expect(r.baseline.grade).toBe('pass')
          expect(r.judged.grade).toBe('fail')
        }
      })
    )
  })
})

import fc from 'fast-check'
import { EVALUATION_STATUSES } from '../../src/adaline/schema.js'
import {
  DATASET,
  EVALUATOR,
  OTHER_EVALUATOR,
  OTHER_PROMPT,
  PROMPT,
  listed
} from '../../__fixtures__/evaluations.js'
import {
  BaselineFinder,
  BaselineIndex,
  judgedSet,
  type Listed
} from '../../src/judge/judged-set.js'

describe('judgedSet', () => {
  it('keeps the newest evaluation per prompt, evaluator and dataset under scope latest', () => {
    const old = listed({ evaluatorId: EVALUATOR, submittedAt: 1 })
    const newest = listed({ evaluatorId: EVALUATOR, submittedAt: 3 })
    const middle = listed({ evaluatorId: EVALUATOR, submittedAt: 2 })
    const otherEvaluator = listed({ evaluatorId: OTHER_EVALUATOR, submittedAt: 1 })
    const otherDataset = listed({ datasetId: 'dataset-zzzzzzzzzzzzzzzzzzz', submittedAt: 1 })
    const otherPrompt = listed({ submittedAt: 1 }, OTHER_PROMPT)
    const result = judgedSet(
      [old, newest, middle, otherEvaluator, otherDataset, otherPrompt],
      'latest'
    )
    expect(result.map(item => item.evaluation.runId).sort()).toEqual(
      [newest, otherEvaluator, otherDataset, otherPrompt].map(item => item.evaluation.runId).sort()
    )
  })

  it('keeps every evaluation once under scope all, newest first', () => {
    const a = listed({ submittedAt: 1 })
    const b = listed({ submittedAt: 2 })
    expect(judgedSet([a, b, a], 'all').map(item => item.evaluation.runId)).toEqual([
      b.evaluation.runId,
      a.evaluation.runId
    ])
  })

  it('chooses the same latest evaluation whatever the listing order, even on a tie', () => {
    const a = listed({ runId: 'run-aaaaaaaaaaaaaaaaaaaaa', submittedAt: 5 })
    const b = listed({ runId: 'run-bbbbbbbbbbbbbbbbbbbbb', submittedAt: 5 })
    expect(judgedSet([a, b], 'latest')[0]?.evaluation.runId).toBe(
      judgedSet([b, a], 'latest')[0]?.evaluation.runId
    )
  })

  it('is empty for no evaluations', () => {
    expect(judgedSet([], 'latest')).toEqual([])
  })
})

describe('BaselineIndex', () => {
  it('gives the newest completed evaluation of the same group submitted before the judged one', () => {
    const index = new BaselineIndex(3)
    const older = listed({ submittedAt: 10 })
    const newer = listed({ submittedAt: 20 })
    const failed = listed({ submittedAt: 25, status: 'failed' })
    const judged = listed({ submittedAt: 30 })
    for (const item of [older, newer, failed, judged]) index.add(item)
    expect(index.baselineFor(judged)).toBe(newer)
    expect(index.baselineFor(newer)).toBe(older)
    expect(index.baselineFor(older)).toBeUndefined()
  })

  it('never takes another evaluator, dataset or prompt as baseline', () => {
    const index = new BaselineIndex(2)
    index.add(listed({ submittedAt: 1, evaluatorId: OTHER_EVALUATOR }))
    index.add(listed({ submittedAt: 1, datasetId: 'dataset-zzzzzzzzzzzzzzzzzzz' }))
    index.add(listed({ submittedAt: 1 }, OTHER_PROMPT))
    expect(index.baselineFor(listed({ submittedAt: 5 }))).toBeUndefined()
  })

  it('keeps only as many per group as it was asked to', () => {
    const index = new BaselineIndex(2)
    const items = [1, 2, 3, 4].map(t => listed({ submittedAt: t }))
    items.forEach(item => index.add(item))
    // 1 and 2 were dropped: an evaluation submitted at 3 finds no baseline kept
    expect(index.baselineFor(items[2]!)).toBeUndefined()
    expect(index.baselineFor(listed({ submittedAt: 9 }))).toBe(items[3])
  })
})

describe('BaselineFinder', () => {
  it('takes, for each judged evaluation, the first completed one of its group submitted before it', () => {
    const judgedLate = listed({ submittedAt: 50, status: 'running' })
    const judgedEarly = listed({ submittedAt: 20, status: 'queued' })
    const finder = new BaselineFinder([judgedLate, judgedEarly])
    // newest first, as the baseline listing reads them
    const c40 = listed({ submittedAt: 40 })
    const otherEvaluator = listed({ submittedAt: 15, evaluatorId: OTHER_EVALUATOR })
    const c10 = listed({ submittedAt: 10 })
    const c5 = listed({ submittedAt: 5 })
    finder.add(c40)
    expect(finder.done).toBe(false)
    finder.add(otherEvaluator)
    finder.add(c10)
    expect(finder.done).toBe(true)
    finder.add(c5)
    expect(finder.found).toEqual(
      new Map([
        [judgedLate.evaluation.runId, c40],
        [judgedEarly.evaluation.runId, c10]
      ])
    )
  })

  it('takes no evaluation that is not completed, nor one submitted at the same time', () => {
    const judged = listed({ submittedAt: 30, status: 'running' })
    const finder = new BaselineFinder([judged])
    finder.add(listed({ submittedAt: 20, status: 'failed' }))
    finder.add(listed({ submittedAt: 30 }))
    expect(finder.done).toBe(false)
    expect(finder.found.size).toBe(0)
  })
})

/**
 * The fast baseline choice against the simplest one that is plainly right: the code it replaced,
 * which re-sorted a group on every evaluation added and scanned every waiting evaluation per
 * candidate. Few run IDs, groups and times, so duplicates, ties and shared groups are common.
 */
describe('the baseline choice, for any data, is the simple one', () => {
  const groupOf = ({ promptId, evaluation }: Listed) =>
    JSON.stringify([promptId, evaluation.evaluatorId, evaluation.datasetId ?? null])
  const newerFirst = (a: Listed, b: Listed) =>
    b.evaluation.timeline.submittedAt - a.evaluation.timeline.submittedAt ||
    (a.evaluation.runId < b.evaluation.runId ? -1 : a.evaluation.runId > b.evaluation.runId ? 1 : 0)

  class SimpleIndex {
    private readonly groups = new Map<string, Listed[]>()
    constructor(private readonly keep: number) {}
    add(item: Listed): void {
      if (item.evaluation.status !== 'completed') return
      const group = this.groups.get(groupOf(item)) ?? []
      if (group.some(other => other.evaluation.runId === item.evaluation.runId)) return
      group.push(item)
      group.sort(newerFirst)
      if (group.length > this.keep) group.length = this.keep
      this.groups.set(groupOf(item), group)
    }
    baselineFor(item: Listed): Listed | undefined {
      return this.groups
        .get(groupOf(item))
        ?.find(
          other => other.evaluation.timeline.submittedAt < item.evaluation.timeline.submittedAt
        )
    }
  }

  class SimpleFinder {
    private readonly waiting: Listed[]
    readonly found = new Map<string, Listed>()
    constructor(judged: readonly Listed[]) {
      this.waiting = [...judged]
    }
    get done(): boolean {
      return this.waiting.length === 0
    }
    add(candidate: Listed): void {
      if (candidate.evaluation.status !== 'completed') return
      for (let i = this.waiting.length - 1; i >= 0; i -= 1) {
        const item = this.waiting[i]!
        if (
          groupOf(item) !== groupOf(candidate) ||
          candidate.evaluation.timeline.submittedAt >= item.evaluation.timeline.submittedAt
        )
          continue
        this.found.set(item.evaluation.runId, candidate)
        this.waiting.splice(i, 1)
      }
    }
  }

  const itemArb: fc.Arbitrary<Listed> = fc
    .record({
      promptId: fc.constantFrom(PROMPT, OTHER_PROMPT),
      runId: fc.integer({ min: 0, max: 11 }).map(n => `run-${String(n).padStart(20, '0')}`),
      evaluatorId: fc.constantFrom(EVALUATOR, OTHER_EVALUATOR),
      datasetId: fc.constantFrom(DATASET, 'dataset-zzzzzzzzzzzzzzzzzzz', undefined),
      status: fc.constantFrom(...EVALUATION_STATUSES, 'completed', 'completed'),
      submittedAt: fc.integer({ min: 0, max: 15 })
    })
    .map(({ promptId, ...fields }) => {
      const item = listed(fields, promptId)
      if (fields.datasetId === undefined) delete item.evaluation.datasetId
      return item
    })

  it('BaselineIndex gives the same baseline, whatever is added and asked in any order', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(1, 2, 3, Infinity),
        fc.array(fc.record({ ask: fc.boolean(), item: itemArb }), { maxLength: 80 }),
        (keep, steps) => {
          const fast = new BaselineIndex(keep)
          const simple = new SimpleIndex(keep)
          for (const { ask, item } of steps) {
            if (ask) expect(fast.baselineFor(item)).toBe(simple.baselineFor(item))
            else {
              fast.add(item)
              simple.add(item)
            }
          }
          for (const { item } of steps)
            expect(fast.baselineFor(item)).toBe(simple.baselineFor(item))
        }
      ),
      { numRuns: 500 }
    )
  })

  it('BaselineFinder finds the same baselines, in the same order, whatever the candidates', () => {
    fc.assert(
      fc.property(
        fc.array(itemArb, { maxLength: 40 }),
        fc.array(itemArb, { maxLength: 40 }),
        (judged, candidates) => {
          const fast = new BaselineFinder(judged)
          const simple = new SimpleFinder(judged)
          expect(fast.done).toBe(simple.done)
          for (const candidate of candidates) {
            fast.add(candidate)
            simple.add(candidate)
            expect(fast.done).toBe(simple.done)
            // the same candidate objects, not look-alikes
            const chosen = (found: Map<string, Listed>) =>
              [...found].map(([runId, baseline]) => [runId, candidates.indexOf(baseline)])
            expect(chosen(fast.found)).toEqual(chosen(simple.found))
          }
        }
      ),
      { numRuns: 500 }
    )
  })
})

import {
  DATASET,
  EVALUATOR,
  OTHER_EVALUATOR,
  OTHER_PROMPT,
  PROMPT,
  listed
} from '../__fixtures__/evaluations.js'
import { isSuperseded, judgedSet, type SupersedeRule } from '../src/select.js'

const CUTOFF = 1_700_000_500_000
const rule: SupersedeRule = { cutoff: CUTOFF, promptIds: [PROMPT], keep: new Set() }

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

describe('isSuperseded', () => {
  it('chooses queued and running evaluations submitted before the cutoff', () => {
    expect(isSuperseded(listed({ status: 'queued', submittedAt: CUTOFF - 1 }), rule)).toBe(true)
    expect(isSuperseded(listed({ status: 'running', submittedAt: CUTOFF - 1 }), rule)).toBe(true)
  })

  it('never chooses an evaluation submitted at or after the cutoff', () => {
    expect(isSuperseded(listed({ status: 'running', submittedAt: CUTOFF }), rule)).toBe(false)
    expect(isSuperseded(listed({ status: 'running', submittedAt: CUTOFF + 1 }), rule)).toBe(false)
  })

  it.each(['completed', 'failed', 'cancelled', 'cancelling'] as const)(
    'never chooses a %s evaluation',
    status => {
      expect(isSuperseded(listed({ status, submittedAt: 1 }), rule)).toBe(false)
    }
  )

  it('never chooses a kept run', () => {
    const item = listed({ status: 'running', submittedAt: 1 })
    expect(isSuperseded(item, { ...rule, keep: new Set([item.evaluation.runId]) })).toBe(false)
  })

  it('never chooses out of scope: another prompt, evaluator or dataset', () => {
    expect(isSuperseded(listed({ status: 'running', submittedAt: 1 }, OTHER_PROMPT), rule)).toBe(
      false
    )
    const scoped = { ...rule, evaluatorId: EVALUATOR, datasetId: DATASET }
    expect(
      isSuperseded(
        listed({ status: 'running', submittedAt: 1, evaluatorId: OTHER_EVALUATOR }),
        scoped
      )
    ).toBe(false)
    expect(
      isSuperseded(
        listed({ status: 'running', submittedAt: 1, datasetId: 'dataset-zzzzzzzzzzzzzzzzzzz' }),
        scoped
      )
    ).toBe(false)
    expect(isSuperseded(listed({ status: 'running', submittedAt: 1 }), scoped)).toBe(true)
  })
})

import {
  DATASET,
  EVALUATOR,
  OTHER_EVALUATOR,
  OTHER_PROMPT,
  PROMPT,
  listed
} from '../../__fixtures__/evaluations.js'
import { isSuperseded, supersedeRule, type SupersedeRule } from '../../src/judge/supersede.js'

const CUTOFF = 1_700_000_500_000
const rule: SupersedeRule = { cutoff: CUTOFF, promptIds: [PROMPT], keep: new Set() }

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
      expect(isSuperseded(listed({ status, submittedAt: CUTOFF - 1 }), rule)).toBe(false)
    }
  )

  it.each([
    ['0', 0],
    ['a time in seconds', Math.floor(CUTOFF / 1000)],
    ['a time before 2020', Date.UTC(2019, 11, 31)]
  ])(
    'never chooses one whose submittedAt is %s: a broken date proves nothing',
    (_, submittedAt) => {
      expect(isSuperseded(listed({ status: 'running', submittedAt }), rule)).toBe(false)
    }
  )

  it('never chooses a kept run', () => {
    const item = listed({ status: 'running', submittedAt: CUTOFF - 1 })
    expect(isSuperseded(item, { ...rule, keep: new Set([item.evaluation.runId]) })).toBe(false)
  })

  it('never chooses out of scope: another prompt, evaluator or dataset', () => {
    expect(
      isSuperseded(listed({ status: 'running', submittedAt: CUTOFF - 1 }, OTHER_PROMPT), rule)
    ).toBe(false)
    const scoped = { ...rule, evaluatorId: EVALUATOR, datasetId: DATASET }
    expect(
      isSuperseded(
        listed({ status: 'running', submittedAt: CUTOFF - 1, evaluatorId: OTHER_EVALUATOR }),
        scoped
      )
    ).toBe(false)
    expect(
      isSuperseded(
        listed({
          status: 'running',
          submittedAt: CUTOFF - 1,
          datasetId: 'dataset-zzzzzzzzzzzzzzzzzzz'
        }),
        scoped
      )
    ).toBe(false)
    expect(isSuperseded(listed({ status: 'running', submittedAt: CUTOFF - 1 }), scoped)).toBe(true)
  })
})

describe('supersedeRule', () => {
  const scope = {
    promptIds: [PROMPT],
    evaluatorId: EVALUATOR,
    datasetId: DATASET,
    keepRunIds: new Set(['run-kept-aaaaaaaaaaaaaaaa'])
  }

  it('makes no rule when the decision supersedes nothing', () => {
    expect(supersedeRule({ act: false, reason: 'cancel-superseded is never' }, scope)).toBe(
      undefined
    )
  })

  it("takes the decision's cutoff and the settings' prompts, evaluator, dataset and kept runs", () => {
    expect(supersedeRule({ act: true, cutoff: CUTOFF, reason: 'a push' }, scope)).toEqual({
      cutoff: CUTOFF,
      promptIds: [PROMPT],
      evaluatorId: EVALUATOR,
      datasetId: DATASET,
      keep: new Set(['run-kept-aaaaaaaaaaaaaaaa'])
    })
  })
})

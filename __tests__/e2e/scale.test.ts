/**
 * End to end at scale (issue 11, class 6): the bundled dist/index.js judging every evaluation of a
 * long listing against its own baseline. How fast, and how soon a signal is heard, is the
 * benchmark's business (rows 7 and 8); this proves that what it decides stays right.
 */
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { runAction } from '../../test-support/run-action.js'

const PROMPT = fakeId('prm', 1)
const EVALUATORS = [fakeId('evl', 1), fakeId('evl', 2)]
/** ten pages of 200 */
const COUNT = 2_000
const T0 = 1_760_000_000_000

let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

/**
 * Two evaluators taking turns, one evaluation a minute: evaluation n's baseline is n - 2, and
 * every 7th of an evaluator's own passes half its runs where the one before passed all of them.
 */
function interleaved(): ReturnType<typeof makeEvaluation>[] {
  return Array.from({ length: COUNT }, (_, i) => {
    const n = i + 1
    const dropped = Math.ceil(n / 2) % 7 === 0
    return makeEvaluation({
      n,
      evaluatorId: EVALUATORS[n % 2],
      status: 'completed',
      submittedAt: T0 + n * 60_000,
      pass: dropped ? 5 : 10,
      fail: dropped ? 5 : 0,
      unknown: 0
    })
  })
}

function inputs(policy: string): Record<string, string> {
  return { 'api-key': api.apiKey, 'prompt-id': PROMPT, 'base-url': api.url, policy }
}

describe('scope: all over a long listing', () => {
  it('compares every judged evaluation with the evaluation before it of its own evaluator', async () => {
    api.addPrompt(PROMPT, interleaved())
    const run = await runAction(inputs('scope: all\nmax-pass-rate-drop: 0.2\n'))
    // per evaluator 1,000 evaluations, the 7th, 14th, … 994th dropped: 142 each; the first of
    // an evaluator has no baseline, and none of the 142 is a first
    const drops = 2 * Math.floor(COUNT / 2 / 7)
    // the newest drop is named: evaluation 1,988 (the 994th of evaluator 0), against 1,986
    expect(run.errors).toEqual([
      `pass rate −50 pp vs baseline, beyond max-pass-rate-drop −20 pp: ${fakeId('run', 1_988)} 50% vs baseline ${fakeId('run', 1_986)} 100% (and ${drops - 1} more)`
    ])
    expect(run.outputs.gate).toBe('failed')
    expect(run.outputs['evaluation-count']).toBe(String(COUNT))
  })
})

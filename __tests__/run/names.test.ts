/**
 * The evaluators' titles, over real HTTP against the fake API: one listing per prompt of the
 * judged evaluations, read until every evaluator shown is found; a listing that fails is a warning.
 */
import type { Listed } from '../../src/judge/judged-set.js'
import { readSettings } from '../../src/inputs/settings.js'
import { ABORT_TRANSPORT } from '../../src/run/abort.js'
import { createContext, type Log } from '../../src/run/context.js'
import { namesStage } from '../../src/run/names.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'

const PROMPT = fakeId('prm', 1)
const PROMPT_2 = fakeId('prm', 2)
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

/** A run's context on the fake, with the log kept. */
async function context() {
  const settings = await readSettings(
    name => ({ 'api-key': api.apiKey, 'prompt-id': PROMPT, 'base-url': api.url })[name] ?? '',
    { now: Date.now(), mask: () => undefined }
  )
  const lines: string[] = []
  const log: Log = {
    info: message => void lines.push(message),
    warning: message => void lines.push(`warning: ${message}`),
    group: (_, work) => work()
  }
  return { context: createContext(settings, log, ABORT_TRANSPORT), lines }
}

function judged(promptId: string): Listed[] {
  return api.evaluations(promptId).map(evaluation => ({ promptId, evaluation }))
}

const evaluatorRequests = (promptId?: string) =>
  api.requests.filter(
    r => r.path.endsWith('/evaluators') && (promptId === undefined || r.path.includes(promptId))
  )

describe('namesStage', () => {
  it("gives each judged evaluator its title, listing each prompt's evaluators once", async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, evaluatorId: fakeId('evr', 1) }),
      makeEvaluation({ n: 2, evaluatorId: fakeId('evr', 2) }),
      makeEvaluation({ n: 3, evaluatorId: fakeId('evr', 1) })
    ])
    api.addPrompt(PROMPT_2, [makeEvaluation({ n: 4, evaluatorId: fakeId('evr', 4) })])
    api.setEvaluators(PROMPT, [
      { id: fakeId('evr', 1), title: 'Grounded in the retrieved context' },
      { id: fakeId('evr', 2), title: 'Answers in valid JSON' }
    ])
    api.setEvaluators(PROMPT_2, [{ id: fakeId('evr', 4), title: 'Tone matches brand guide' }])
    const { context: run, lines } = await context()
    const titles = await namesStage(run, [...judged(PROMPT), ...judged(PROMPT_2)])
    expect(titles).toEqual(
      new Map([
        [fakeId('evr', 1), 'Grounded in the retrieved context'],
        [fakeId('evr', 2), 'Answers in valid JSON'],
        [fakeId('evr', 4), 'Tone matches brand guide']
      ])
    )
    expect(evaluatorRequests(PROMPT)).toHaveLength(1)
    expect(evaluatorRequests(PROMPT_2)).toHaveLength(1)
    expect(evaluatorRequests()[0]!.query.get('limit')).toBe('200')
    expect(lines).toEqual([
      'Evaluator names: 3 of 3 evaluators named from 2 pages of evaluators (2 prompts)'
    ])
  })

  it('follows the cursor only until every evaluator shown is found', async () => {
    // 450 evaluators: the judged one is on the second page of 200, so the third is never asked for
    const evaluators = Array.from({ length: 450 }, (_, i) => ({
      id: fakeId('evr', i + 1),
      title: `Evaluator number ${i + 1}`
    }))
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, evaluatorId: fakeId('evr', 300) })])
    api.setEvaluators(PROMPT, evaluators)
    const { context: run } = await context()
    const titles = await namesStage(run, judged(PROMPT))
    expect(titles).toEqual(new Map([[fakeId('evr', 300), 'Evaluator number 300']]))
    const asked = evaluatorRequests()
    expect(asked).toHaveLength(2)
    expect(asked[0]!.query.get('cursor')).toBeNull()
    expect(asked[1]!.query.get('cursor')).not.toBeNull()
  })

  it('keeps the IDs and warns when a listing fails, naming the others', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, evaluatorId: fakeId('evr', 1) })])
    api.addPrompt(PROMPT_2, [makeEvaluation({ n: 2, evaluatorId: fakeId('evr', 2) })])
    api.inject({ path: new RegExp(`${PROMPT}/evaluators$`), status: 403, times: Infinity })
    const { context: run, lines } = await context()
    const titles = await namesStage(run, [...judged(PROMPT), ...judged(PROMPT_2)])
    expect([...titles.keys()]).toEqual([fakeId('evr', 2)])
    expect(lines[0]).toMatch(
      new RegExp(
        `^warning: Could not list the evaluators of prompt ${PROMPT}; the report names its evaluations by evaluator ID: GET /prompts/${PROMPT}/evaluators answered 403`
      )
    )
    expect(lines[1]).toBe(
      'Evaluator names: 1 of 2 evaluators named from 1 page of evaluators (2 prompts, 1 failed)'
    )
  })

  it('asks nothing when nothing is judged', async () => {
    const { context: run, lines } = await context()
    expect(await namesStage(run, [])).toEqual(new Map())
    expect(api.requests).toEqual([])
    expect(lines).toEqual([])
  })
})

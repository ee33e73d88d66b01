/**
 * The evaluators' titles, over real HTTP against the fake API: one listing per prompt of the
 * judged evaluations, read until every evaluator shown is found; a listing that fails is a warning.
 */
import type { Listed } from '../../src/judge/judged-set.js'
import { MAX_EVALUATOR_PAGES, cleanTitle, namesStage } from '../../src/run/names.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { stageContext } from '../../test-support/stage-context.js'

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
function context() {
  return stageContext(api, { 'prompt-id': PROMPT })
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

  describe('a hostile listing costs names, never the run', () => {
    const EVR = fakeId('evr', 1)
    const pagination = (hasMore = false, nextCursor: string | null = null) => ({
      hasMore,
      nextCursor
    })
    const evaluator = (id: string, title: unknown, promptId: string = PROMPT) => ({
      id,
      promptId,
      title
    })

    /** The prompt's evaluators listing answers these bodies in turn (the last one again and again). */
    function serve(...bodies: unknown[]) {
      let served = 0
      api.inject({
        path: new RegExp(`${PROMPT}/evaluators$`),
        body: () => bodies[Math.min(served++, bodies.length - 1)],
        times: Infinity
      })
    }

    async function names(evaluatorIds: string[], deadlineMs?: number) {
      api.addPrompt(
        PROMPT,
        evaluatorIds.map((evaluatorId, i) => makeEvaluation({ n: i + 1, evaluatorId }))
      )
      const { context: run, lines } = await context()
      const titles = await namesStage(run, judged(PROMPT), deadlineMs)
      return { titles, lines }
    }

    it('cleans titles of escape sequences, OSC 8 links, controls and bidi overrides', async () => {
      const ids = [1, 2, 3, 4].map(n => fakeId('evr', n))
      serve({
        evaluators: [
          evaluator(ids[0]!, '\u001b[2J\u001b[31mRed\u001b[0m and\r\nnew\tlines\u0007'),
          evaluator(ids[1]!, '\u001b]8;;https://evil.example\u0007Click\u001b]8;;\u0007 me'),
          evaluator(ids[2]!, 'Safe \u202eTXT.exe\u202c \u2066x\u2069\u0085end'),
          evaluator(ids[3]!, '<img src=x onerror=alert(1)> **bold** [a](javascript:x) | @team')
        ],
        pagination: pagination()
      })
      const { titles } = await names(ids)
      expect(titles.get(ids[0]!)).toBe('Red and new lines')
      expect(titles.get(ids[1]!)).toBe('Click me')
      expect(titles.get(ids[2]!)).toBe('Safe TXT.exe x end')
      // Markdown and HTML are each report's to escape; the name keeps what the team wrote
      expect(titles.get(ids[3]!)).toBe(
        '<img src=x onerror=alert(1)> **bold** [a](javascript:x) | @team'
      )
    })

    it('keeps the ID for an empty or blank title, cuts a 10 kB one, and still names the rest', async () => {
      const ids = [1, 2, 3, 4, 5].map(n => fakeId('evr', n))
      serve({
        evaluators: [
          evaluator(ids[0]!, ''),
          evaluator(ids[1]!, ' \u001b[0m\u200e '),
          evaluator(ids[2]!, 'é'.repeat(10_000)),
          { id: ids[3], promptId: PROMPT },
          evaluator(ids[4]!, 'Answers in valid JSON'),
          { title: 'no id at all' }
        ],
        pagination: pagination()
      })
      const { titles, lines } = await names(ids)
      expect(titles.has(ids[0]!)).toBe(false)
      expect(titles.has(ids[1]!)).toBe(false)
      expect(titles.get(ids[2]!)).toBe(`${'é'.repeat(199)}…`)
      expect(titles.has(ids[3]!)).toBe(false)
      expect(titles.get(ids[4]!)).toBe('Answers in valid JSON')
      expect(lines.filter(line => line.startsWith('warning'))).toEqual([])
    })

    it('takes the first title of an ID listed twice, and none from another prompt', async () => {
      const other = fakeId('evr', 2)
      serve(
        {
          evaluators: [evaluator(EVR, 'First title'), evaluator(other, 'Not ours', PROMPT_2)],
          pagination: pagination(true, 'c1')
        },
        {
          evaluators: [evaluator(EVR, 'Second title'), evaluator(other, 'Ours after all')],
          pagination: pagination()
        }
      )
      const { titles } = await names([EVR, other])
      expect(titles).toEqual(
        new Map([
          [EVR, 'First title'],
          [other, 'Ours after all']
        ])
      )
    })

    it('a cursor that repeats is a warning with the IDs kept, after two requests', async () => {
      serve({
        evaluators: [evaluator(fakeId('evr', 9), 'Someone else')],
        pagination: pagination(true, 'same')
      })
      const { titles, lines } = await names([EVR])
      expect(titles).toEqual(new Map())
      expect(evaluatorRequests()).toHaveLength(2)
      expect(lines[0]).toMatch(
        /^warning: Could not list the evaluators of prompt .*: GET \/prompts\/.*\/evaluators repeated a cursor on page 2/
      )
    })

    it(`stops after ${MAX_EVALUATOR_PAGES} pages of a listing that never ends, with a warning`, async () => {
      let n = 0
      api.inject({
        path: new RegExp(`${PROMPT}/evaluators$`),
        body: () => ({
          evaluators: [evaluator(fakeId('evr', 1000 + ++n), `Other ${n}`)],
          pagination: pagination(true, `cursor-${n}`)
        }),
        times: Infinity
      })
      const { titles, lines } = await names([EVR])
      expect(titles).toEqual(new Map())
      expect(evaluatorRequests()).toHaveLength(MAX_EVALUATOR_PAGES)
      expect(lines[0]).toBe(
        `warning: Stopped listing the evaluators of prompt ${PROMPT} after ${MAX_EVALUATOR_PAGES} pages (2,000 evaluators); the report names the others by evaluator ID.`
      )
    })

    it.each([
      ['404', { status: 404 }, /was not found when listing its evaluators/],
      ['403', { status: 403 }, /answered 403/],
      ['500 every time', { status: 500 }, /500/],
      ['429 every time', { status: 429, headers: { 'retry-after': '1' } }, /./],
      ['a hang', { hang: true }, /./],
      ['a body that is not JSON', { status: 200, body: '<html>' }, /./],
      ['a page that is not a listing', { status: 200, body: { evaluators: 'x' } }, /evaluators/]
    ])(
      '%s is a warning with the IDs kept, within the stage deadline',
      async (_, fault, says) => {
        api.inject({ path: new RegExp(`${PROMPT}/evaluators$`), times: Infinity, ...fault })
        const started = Date.now()
        const { titles, lines } = await names([EVR], 3_000)
        expect(Date.now() - started).toBeLessThan(6_000)
        expect(titles).toEqual(new Map())
        // retries are logged first; then one warning
        const warnings = lines.filter(line => line.startsWith('warning: '))
        expect(warnings).toHaveLength(1)
        expect(warnings[0]).toMatch(/^warning: Could not list the evaluators of prompt /)
        expect(warnings[0]).toMatch(says)
        expect(warnings[0]).not.toMatch(/\n\s+at /)
        expect(evaluatorRequests().length).toBeGreaterThan(0)
      },
      15_000
    )
  })
})

describe('cleanTitle', () => {
  it('keeps wide characters and emoji whole when it cuts', () => {
    const title = '評価'.repeat(150)
    const cut = cleanTitle(title)!
    expect(Array.from(cut)).toHaveLength(200)
    expect(cut.endsWith('評…')).toBe(true)
    expect(cleanTitle('😀'.repeat(300))).toBe(`${'😀'.repeat(199)}…`)
  })
})

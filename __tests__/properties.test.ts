/** Properties that must hold for any data, checked with fast-check. */
import fc from 'fast-check'
import { EVALUATION_STATUSES, IN_FLIGHT, type Evaluation } from '../src/adaline/schema.js'
import { InputError, parseCreatedAfter, readSettings } from '../src/inputs.js'
import { totals } from '../src/metrics.js'
import { judge } from '../src/policy.js'
import { PolicyError, parsePolicy } from '../src/policy-yaml.js'
import { escapeMarkdown, plainDecimal } from '../src/report/format.js'
import { isSuperseded, judgedSet, type Listed, type SupersedeRule } from '../src/select.js'

const PROMPTS = [
  'prompt-aaaaaaaaaaaaaaaaaaaa',
  'prompt-bbbbbbbbbbbbbbbbbbbb',
  'prompt-cccccccccccccccccccc'
]
const EVALUATORS = ['evaluator-aaaaaaaaaaaaaaaa', 'evaluator-bbbbbbbbbbbbbbbb']
const DATASETS = ['dataset-aaaaaaaaaaaaaaaaaaa', 'dataset-bbbbbbbbbbbbbbbbbbb', undefined]

const count = fc.nat({ max: 1000 })
const evaluationArb: fc.Arbitrary<Evaluation> = fc.record({
  runId: fc.stringMatching(/^run-[a-z0-9]{16,20}$/),
  evaluatorId: fc.constantFrom(...EVALUATORS),
  status: fc.constantFrom(...EVALUATION_STATUSES),
  progress: fc.record({
    totalRows: count,
    completedRows: count,
    failedRows: count,
    percent: fc.integer({ min: 0, max: 100 })
  }),
  metrics: fc.record({
    passRuns: count,
    failRuns: count,
    unknownRuns: count,
    totalCost: fc.double({ min: 0, max: 100, noNaN: true }),
    totalLatency: fc.double({ min: 0, max: 1e7, noNaN: true }),
    totalTokenCount: count
  }),
  timeline: fc.record({
    submittedAt: fc.integer({ min: 0, max: 2_000 }),
    startedAt: fc.constant(null),
    finishedAt: fc.constant(null)
  }),
  datasetId: fc.constantFrom(...DATASETS)
})
const listedArb: fc.Arbitrary<Listed> = fc
  .tuple(fc.constantFrom(...PROMPTS), evaluationArb)
  .map(([promptId, evaluation]) => ({ promptId, evaluation, raw: evaluation }))
const listingArb = fc.uniqueArray(listedArb, {
  selector: item => item.evaluation.runId,
  maxLength: 60
})

const ruleArb = (items: Listed[]): fc.Arbitrary<SupersedeRule> =>
  fc.record({
    cutoff: fc.integer({ min: 0, max: 2_000 }),
    promptIds: fc.subarray(PROMPTS, { minLength: 1 }),
    evaluatorId: fc.option(fc.constantFrom(...EVALUATORS), { nil: undefined }),
    datasetId: fc.option(
      fc.constantFrom('dataset-aaaaaaaaaaaaaaaaaaa', 'dataset-bbbbbbbbbbbbbbbbbbb'),
      { nil: undefined }
    ),
    keep: fc.subarray(items.map(item => item.evaluation.runId)).map(ids => new Set(ids))
  })

describe('the superseded choice, for any data', () => {
  it('never chooses one submitted at or after the cutoff, finished, out of scope, or kept', () => {
    fc.assert(
      fc.property(
        listingArb.chain(items => fc.tuple(fc.constant(items), ruleArb(items))),
        ([items, rule]) => {
          for (const item of items.filter(candidate => isSuperseded(candidate, rule))) {
            const { evaluation } = item
            expect(evaluation.timeline.submittedAt).toBeLessThan(rule.cutoff)
            expect(IN_FLIGHT).toContain(evaluation.status)
            expect(rule.promptIds).toContain(item.promptId)
            if (rule.evaluatorId) expect(evaluation.evaluatorId).toBe(rule.evaluatorId)
            if (rule.datasetId) expect(evaluation.datasetId).toBe(rule.datasetId)
            expect(rule.keep.has(evaluation.runId)).toBe(false)
          }
        }
      )
    )
  })
})

describe('the judged set, for any listing', () => {
  const groupOf = (item: Listed) =>
    `${item.promptId}|${item.evaluation.evaluatorId}|${item.evaluation.datasetId ?? ''}`

  it('under scope latest holds exactly the newest of each group, whatever the order', () => {
    fc.assert(
      fc.property(
        listingArb.chain(items =>
          fc.tuple(fc.constant(items), fc.shuffledSubarray(items, { minLength: items.length }))
        ),
        ([items, shuffled]) => {
          const result = judgedSet(items, 'latest')
          expect(new Set(result.map(groupOf)).size).toBe(result.length)
          expect(new Set(result.map(groupOf))).toEqual(new Set(items.map(groupOf)))
          for (const chosen of result) {
            expect(items).toContain(chosen)
            const newest = Math.max(
              ...items
                .filter(item => groupOf(item) === groupOf(chosen))
                .map(item => item.evaluation.timeline.submittedAt)
            )
            expect(chosen.evaluation.timeline.submittedAt).toBe(newest)
          }
          expect(judgedSet(shuffled, 'latest').map(item => item.evaluation.runId)).toEqual(
            result.map(item => item.evaluation.runId)
          )
        }
      )
    )
  })

  it('under scope all holds every evaluation once, newest first', () => {
    fc.assert(
      fc.property(listingArb, items => {
        const result = judgedSet([...items, ...items], 'all')
        expect(result.map(item => item.evaluation.runId).sort()).toEqual(
          items.map(item => item.evaluation.runId).sort()
        )
        const times = result.map(item => item.evaluation.timeline.submittedAt)
        expect(times).toEqual([...times].sort((a, b) => b - a))
      })
    )
  })
})

describe('the policy, for any figures', () => {
  it('breaks a max- rule exactly when the figure exceeds the limit', () => {
    fc.assert(
      fc.property(
        fc.array(evaluationArb, { minLength: 1, maxLength: 10 }),
        count,
        count,
        fc.double({ min: 0, max: 1000, noNaN: true }),
        (evaluations, maxFail, maxUnknown, maxCost) => {
          const completed = evaluations.map(e => ({ ...e, status: 'completed' as const }))
          const metrics = totals(completed)
          const policy = parsePolicy(
            `max-fail-runs: ${maxFail}\nmax-unknown-runs: ${maxUnknown}\nmax-cost: ${maxCost}`
          )
          const broken = judge(completed, metrics, policy).broken.map(b => b.rule)
          expect(broken.includes('max-fail-runs')).toBe(metrics.failRuns > maxFail)
          expect(broken.includes('max-unknown-runs')).toBe(metrics.unknownRuns > maxUnknown)
          expect(broken.includes('max-cost')).toBe(metrics.totalCost > maxCost)
        }
      )
    )
  })

  it('either parses any text or rejects it with a PolicyError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string({
            unit: fc.constantFrom('m', 'a', 'x', '-', ':', ' ', '\n', '0', '5', '%', '[', ']', ',')
          })
        ),
        text => {
          try {
            parsePolicy(text)
          } catch (error) {
            expect(error).toBeInstanceOf(PolicyError)
          }
        }
      )
    )
  })
})

describe('the inputs, for any text', () => {
  const KEY = 'adl_live_0123456789abcdef0123456789abcdef'
  /** a valid value of each input, so that a bad value in any one of them is reached */
  const VALID: Record<string, string> = {
    'prompt-id': 'prompt-aaaaaaaaaaaaaaaaaaaa',
    'evaluator-id': '',
    'dataset-id': '',
    status: '',
    'created-after': '',
    policy: '',
    'cancel-superseded': '',
    'keep-run-ids': '',
    'dry-run': '',
    'fail-on-gate': '',
    'base-url': '',
    start: '',
    wait: '',
    'cancel-on-abort': '',
    comment: ''
  }
  const NAMES = Object.keys(VALID)
  /** the key, or part of it, pasted where it does not belong */
  const misplacedKey = fc.oneof(
    fc.constant(KEY),
    fc.constant(`x${KEY}`),
    fc.constant(`completed, ${KEY.slice(0, 30)}`),
    fc.integer({ min: 0, max: KEY.length - 8 }).map(start => KEY.slice(start, start + 12))
  )
  const anyText = fc.oneof(fc.string(), fc.string({ unit: 'grapheme', maxLength: 100 }))

  it('either reads them or ends with an InputError that names an input and quotes no part of the key', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          Object.fromEntries(
            NAMES.map(name => [
              name,
              fc.oneof(
                { weight: 6, arbitrary: fc.constant(VALID[name]!) },
                { weight: 2, arbitrary: anyText },
                { weight: 1, arbitrary: misplacedKey }
              )
            ])
          )
        ),
        async inputs => {
          try {
            await readSettings(name => (name === 'api-key' ? KEY : (inputs[name] ?? '')), {
              now: 0,
              mask: () => undefined
            })
          } catch (error) {
            expect(error).toBeInstanceOf(InputError)
            expect(NAMES).toContain((error as InputError).input)
            const message = (error as Error).message
            for (let i = 0; i + 8 <= KEY.length; i += 1) {
              expect(message).not.toContain(KEY.slice(i, i + 8))
            }
          }
        }
      ),
      { numRuns: 300 }
    )
  })

  it('reads a duration as that long before now', () => {
    const units = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 10_000 }),
        fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])),
        (n, unit) => {
          const now = 1_800_000_000_000
          expect(parseCreatedAfter(`${n}${unit}`, now)).toBe(Math.max(0, now - n * units[unit]))
        }
      )
    )
  })
})

describe('report text, for any value', () => {
  it('writes every finite number as a plain decimal that reads back the same', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), value => {
        const text = plainDecimal(value)
        expect(text).toMatch(/^-?\d+(\.\d+)?$/)
        expect(Number(text)).toBe(value === 0 ? 0 : value)
      })
    )
  })

  it('escapes any text to one inert line of bounded length', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme' }),
        fc.integer({ min: 2, max: 200 }),
        (text, max) => {
          const escaped = escapeMarkdown(text, max)
          expect(escaped).not.toMatch(/[\n\r]/)
          expect(escaped).not.toMatch(
            /[\\`*[\]|!~$<>"]|&(?!#\d+;)|(?<![a-z0-9])_|_(?![a-z0-9])|:\/\/|@/i
          )
        }
      )
    )
  })
})

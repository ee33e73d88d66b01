/** Properties that must hold for any data, checked with fast-check. */
import fc from 'fast-check'
import { EVALUATION_STATUSES, IN_FLIGHT, type Evaluation } from '../src/adaline/schema.js'
import { CLOCK_SKEW_MS, decideSupersede, type GitHubEvent } from '../src/github/event.js'
import { COMPARE_STATUSES, readCompare } from '../src/github/lookups.js'
import { InputError, parseCreatedAfter, readSettings } from '../src/inputs/settings.js'
import { totals } from '../src/judge/metrics.js'
import { judge } from '../src/judge/policy.js'
import { PolicyError, parsePolicy } from '../src/judge/policy-yaml.js'
import { Secrets } from '../src/secrets/redact.js'
import { escapeMarkdown, plainDecimal } from '../src/format.js'
import { judgedSet, type Listed } from '../src/judge/judged-set.js'
import { isSuperseded, type SupersedeRule } from '../src/judge/supersede.js'
import { base64Blob, givesAway, percentAll } from '../test-support/key-forms.js'

const PROMPTS = [
  'prompt-aaaaaaaaaaaaaaaaaaaa',
  'prompt-bbbbbbbbbbbbbbbbbbbb',
  'prompt-cccccccccccccccccccc'
]
const EVALUATORS = ['evaluator-aaaaaaaaaaaaaaaa', 'evaluator-bbbbbbbbbbbbbbbb']
const DATASETS = ['dataset-aaaaaaaaaaaaaaaaaaa', 'dataset-bbbbbbbbbbbbbbbbbbb', undefined]

const count = fc.nat({ max: 1000 })
const T0 = 1_700_000_000_000
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
    // times a run is believed at (supersede.ts refuses those that read as seconds)
    submittedAt: fc.integer({ min: 0, max: 2_000 }).map(ms => T0 + ms),
    startedAt: fc.constant(null),
    finishedAt: fc.constant(null)
  }),
  datasetId: fc.constantFrom(...DATASETS)
})
const listedArb: fc.Arbitrary<Listed> = fc
  .tuple(fc.constantFrom(...PROMPTS), evaluationArb)
  .map(([promptId, evaluation]) => ({ promptId, evaluation }))
const listingArb = fc.uniqueArray(listedArb, {
  selector: item => item.evaluation.runId,
  maxLength: 60
})

const ruleArb = (items: Listed[]): fc.Arbitrary<SupersedeRule> =>
  fc.record({
    cutoff: fc.integer({ min: 0, max: 2_000 }).map(ms => T0 + ms),
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

describe('the force-push question, for any compare answer', () => {
  const SYNCHRONIZE: GitHubEvent = {
    name: 'pull_request',
    payload: {
      action: 'synchronize',
      before: 'a'.repeat(40),
      after: 'b'.repeat(40),
      pull_request: { updated_at: '2026-11-20T12:00:00Z' },
      repository: { name: 'repo', owner: { login: 'org' } }
    }
  }
  const NOW = Date.parse('2026-11-20T13:00:00Z')
  const countArb = fc.oneof(
    fc.nat({ max: 3 }),
    fc.double(),
    fc.string(),
    fc.constant(null),
    fc.constant(undefined)
  )
  const compareArb = fc.oneof(
    fc.anything(),
    fc.string(),
    fc.record(
      {
        status: fc.oneof(
          fc.constantFrom(...COMPARE_STATUSES, 'forced', 'Diverged', ''),
          fc.string()
        ),
        ahead_by: countArb,
        behind_by: countArb,
        commits: fc.anything()
      },
      { requiredKeys: [] }
    )
  )
  /** what GitHub documents, written out apart from the schema */
  function clearForcePush(body: unknown): boolean {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return false
    const { status, ahead_by: ahead, behind_by: behind } = body as Record<string, unknown>
    const counts = [ahead, behind].every(n => Number.isSafeInteger(n) && (n as number) >= 0)
    if (!counts) return false
    if (status === 'diverged') return (ahead as number) > 0 && (behind as number) > 0
    if (status === 'behind') return ahead === 0 && (behind as number) > 0
    return false
  }

  it('is a force-push only for a valid answer whose status is diverged or behind', () => {
    fc.assert(
      fc.property(compareArb, body => {
        const decision = decideSupersede(
          'force-push',
          SYNCHRONIZE,
          { compare: readCompare(body), headCommitDates: { value: [] } },
          NOW
        )
        expect(decision.act).toBe(clearForcePush(body))
      }),
      { numRuns: 2_000 }
    )
  })
})

describe('the cutoff, for any event times', () => {
  const timeArb = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.integer({ min: -8.64e15, max: 8.64e15 }).map(ms => new Date(ms).toISOString()),
    fc
      .integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 })
      .map(ms => new Date(ms).toISOString()),
    fc.double(),
    fc.integer({ min: 1_700_000_000, max: 1_900_000_000 }),
    fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
    fc.string(),
    fc.anything()
  )
  const nowArb = fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 })

  it('is never later than the run clock plus the skew, and an unbelievable one cancels nothing', () => {
    fc.assert(
      fc.property(timeArb, timeArb, nowArb, fc.boolean(), (timestamp, pushedAt, now, forced) => {
        const event: GitHubEvent = {
          name: 'push',
          payload: {
            forced,
            head_commit: { timestamp },
            repository: { pushed_at: pushedAt }
          }
        }
        const decision = decideSupersede('new-commit', event, {}, now)
        if (!decision.act) return
        expect(decision.cutoff).toBeLessThanOrEqual(now + CLOCK_SKEW_MS)
        expect(Number.isFinite(decision.cutoff)).toBe(true)
        // only what the fields say: the earliest of the times given
        const times = [
          typeof timestamp === 'string' ? Date.parse(timestamp) : undefined,
          typeof pushedAt === 'number'
            ? pushedAt * 1000
            : typeof pushedAt === 'string'
              ? Date.parse(pushedAt)
              : undefined
        ].filter((t): t is number => t !== undefined && !Number.isNaN(t))
        expect(decision.cutoff).toBe(Math.min(...times))
      }),
      { numRuns: 2_000 }
    )
  })

  it('cancels nothing when a synchronize dates the commit after the run clock plus the skew', () => {
    // what ISO 8601 writes with a 4-digit year, as GitHub does: the years 0000 to 9999
    const msArb = fc.oneof(
      fc.integer({
        min: Date.parse('0000-01-01T00:00:00Z'),
        max: Date.parse('9999-12-31T23:59:59Z')
      }),
      fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 })
    )
    fc.assert(
      fc.property(
        fc.array(fc.oneof(msArb, fc.double(), fc.integer({ min: -8.64e15, max: 8.64e15 })), {
          maxLength: 3
        }),
        msArb,
        nowArb,
        (commitTimes, updatedAt, now) => {
          const event: GitHubEvent = {
            name: 'pull_request',
            payload: {
              action: 'synchronize',
              pull_request: { updated_at: new Date(updatedAt).toISOString() }
            }
          }
          const dates = commitTimes.map(time => ({ field: 'the head commit date', time }))
          const decision = decideSupersede(
            'new-commit',
            event,
            { headCommitDates: { value: dates } },
            now
          )
          const all = [...commitTimes, updatedAt]
          const readable = all.every(t => Number.isFinite(t) && Math.abs(t) <= 8.64e15)
          if (!readable || Math.min(...all) > now + CLOCK_SKEW_MS) {
            expect(decision.act).toBe(false)
          } else {
            expect(decision).toMatchObject({ act: true, cutoff: Math.min(...all) })
          }
        }
      ),
      { numRuns: 2_000 }
    )
  })
})

describe('the key, in any form, for any key and any text around it', () => {
  // what an API key is made of (the api-key input refuses anything else): 20 or more characters
  // of a bearer token, RFC 6750's b64token, most often letters, digits, - and _
  const keyArb = fc.oneof(
    fc.stringMatching(/^[A-Za-z0-9_-]{20,64}$/),
    fc.stringMatching(/^[A-Za-z0-9\-._~+/]{20,62}={0,2}$/)
  )
  const textArb = fc.string({ maxLength: 40 })
  const bytesArb = fc.uint8Array({ maxLength: 7 }).map(bytes => Buffer.from(bytes))
  /** the key transformed as an echo might: each form gives it away */
  const formArb = (key: string): fc.Arbitrary<string> =>
    fc.oneof(
      fc.constant(key),
      fc.constant(key.toLowerCase()),
      fc.constant(key.toUpperCase()),
      fc
        .tuple(bytesArb, bytesArb, fc.constantFrom('base64' as const, 'base64url' as const))
        .map(([before, after, alphabet]) => base64Blob(key, before, after, alphabet)),
      fc.constantFrom(percentAll(key, 'upper'), percentAll(key, 'lower'), encodeURIComponent(key)),
      fc.constant(Buffer.from(key).toString('hex')),
      // split across two fields of a JSON error body
      fc
        .integer({ min: 8, max: key.length - 8 })
        .map(at => JSON.stringify({ error: { code: key.slice(0, at), message: key.slice(at) } }))
    )

  it('leaves no run of 8 of its characters, decoded any way, after redact()', () => {
    fc.assert(
      fc.property(
        keyArb.chain(key => fc.tuple(fc.constant(key), formArb(key), textArb, textArb)),
        ([key, form, before, after]) => {
          const secrets = new Secrets()
          secrets.add(key)
          const text = `${before}${form}${after}`
          expect(givesAway(text, key)).toBe(true)
          expect(givesAway(secrets.redact(text), key)).toBe(false)
        }
      ),
      { numRuns: 1_000 }
    )
  })
})

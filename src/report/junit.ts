/**
 * The JUnit XML report for GitLab's test widget, Jenkins' `junit` step and GitHub test reporters:
 * a `policy` suite with one testcase per rule, then one suite per judged evaluation with one
 * testcase per dataset row. Pure; built with fast-xml-parser's XMLBuilder, valid against Jenkins'
 * junit-10.xsd and its older junit-4.xsd for any input text.
 */
import { XMLBuilder } from 'fast-xml-parser'
import type { Grade } from '../adaline/schema.js'
import { formatCount, plural } from '../format.js'

/** One rule the policy sets, judged. */
export interface RuleResult {
  /** the rule's name as the policy spells it, e.g. `min-pass-rate`: the testcase name */
  rule: string
  /** whether the rule holds */
  ok: boolean
  /** the figure against the limit, whether it holds or not, e.g. "pass-rate 82.5% < min-pass-rate 85%" */
  message: string
}

/** One dataset row's result in an evaluation (Adaline's results endpoint). */
export interface RowResult {
  rowId: string
  grade: Grade
  score?: number | null
  /** the judge's reason, in full */
  reason?: string | null
  /** milliseconds */
  latencyMs?: number | null
}

/** One judged evaluation. */
export interface JUnitEvaluation {
  /** the suite name: prompt and evaluator, the evaluator's title where known */
  name: string
  /** run ID, prompt, evaluator, dataset, status, the metrics…, in the order shown; none: no `<properties>` */
  properties: readonly (readonly [name: string, value: string])[]
  /** the row results, already capped by the caller; undefined when the rows were not fetched */
  rows: readonly RowResult[] | undefined
  /** rows past the caller's cap, not in `rows`: one skipped testcase says how many (with `rows` only) */
  rowsLeftOut: number
  /** the evaluation's run counts: the one testcase that stands for the rows when they were not fetched */
  runs: { pass: number; fail: number; unknown: number }
}

export interface JUnitInput {
  /** the `<testsuites>` name, e.g. "adaline-evals" */
  name: string
  /** the whole run, in seconds, when known */
  time?: number
  /** every rule the policy sets, in policy order */
  rules: readonly RuleResult[]
  evaluations: readonly JUnitEvaluation[]
}

/** The suite that holds one testcase per rule. */
export const POLICY_SUITE = 'policy'
/** Longest `message` attribute, in characters; the full text is the element's text. */
export const MESSAGE_MAX = 200
/** The testcase standing for an evaluation whose rows were not fetched. */
export const RUNS_TESTCASE = 'all runs (rows not fetched)'

type Attributes = Record<`@${string}`, string>
interface TestCase extends Attributes {
  failure?: Attributes & { '#text': string }
  error?: Attributes & { '#text': string }
  skipped?: string
  'system-out'?: string
}
interface Counts {
  tests: number
  failures: number
  errors: number
  skipped: number
}

/** The JUnit XML document, UTF-8, for the judged policy and evaluations. */
export function buildJUnit(input: JUnitInput): string {
  const policy = suite(POLICY_SUITE, [], input.rules.map(ruleCase), undefined)
  const evaluations = input.evaluations.map(evaluationSuite)
  const suites = [policy, ...evaluations]
  const total = suites.reduce(
    (sum, { counts }) => ({
      tests: sum.tests + counts.tests,
      failures: sum.failures + counts.failures,
      errors: sum.errors + counts.errors
    }),
    { tests: 0, failures: 0, errors: 0 }
  )
  // junit-10.xsd allows only these five on <testsuites>: no `skipped`, which some builders add
  const root: Attributes = {
    '@name': input.name,
    '@tests': count(total.tests),
    '@failures': count(total.failures),
    '@errors': count(total.errors)
  }
  if (input.time !== undefined && Number.isFinite(input.time)) root['@time'] = seconds(input.time)
  return builder.build({
    '?xml': { '@version': '1.0', '@encoding': 'UTF-8' },
    testsuites: { ...root, testsuite: suites.map(({ element }) => element) }
  })
}

function ruleCase({ rule, ok, message }: RuleResult): TestCase {
  const testcase: TestCase = { '@name': rule, '@classname': POLICY_SUITE }
  // a rule that holds says by how much in its output, which Jenkins shows on the test's page
  if (ok) testcase['system-out'] = message
  else testcase.failure = { '@message': oneLine(message), '@type': 'policy', '#text': message }
  return testcase
}

function evaluationSuite(evaluation: JUnitEvaluation): Built {
  const { name, properties, rows, rowsLeftOut, runs } = evaluation
  if (rows === undefined) return suite(name, properties, [runsCase(name, runs)], undefined)
  const cases = rows.map(row => rowCase(name, row))
  if (rowsLeftOut > 0) {
    // skipped, not passed: those rows were not judged here (both schemas allow a text-only <skipped>)
    cases.push({
      '@name': `${plural(rowsLeftOut, 'more row')} left out`,
      '@classname': name,
      skipped: `This report lists ${plural(rows.length, 'row result')} of this evaluation and leaves out ${formatCount(rowsLeftOut)} more; Adaline has them all.`
    })
  }
  const latencies = rows.map(row => row.latencyMs).filter(isTime)
  const time = latencies.reduce((sum, ms) => sum + ms, 0) / 1000
  return suite(name, properties, cases, latencies.length > 0 && isTime(time) ? time : undefined)
}

function rowCase(suiteName: string, row: RowResult): TestCase {
  const testcase: TestCase = { '@name': row.rowId, '@classname': suiteName }
  if (isTime(row.latencyMs)) testcase['@time'] = seconds(row.latencyMs / 1000)
  const reason = row.reason ?? ''
  if (row.grade === 'fail') {
    const message = row.score == null ? 'no score' : `score ${decimal(row.score)}`
    testcase.failure = { '@message': message, '@type': 'fail', '#text': reason || message }
  } else if (row.grade === 'unknown') {
    const message = oneLine(reason) || 'no grade and no reason given'
    testcase.error = { '@message': message, '@type': 'unknown', '#text': reason || message }
  }
  return testcase
}

/** Rows not fetched: one testcase that fails when any run failed, errs when any is unknown. */
function runsCase(suiteName: string, runs: JUnitEvaluation['runs']): TestCase {
  const all = runs.pass + runs.fail + runs.unknown
  const summary = `${formatCount(runs.pass)} of ${plural(all, 'run')} passed, ${formatCount(runs.fail)} failed, ${formatCount(runs.unknown)} unknown; the row results were not fetched.`
  const testcase: TestCase = { '@name': RUNS_TESTCASE, '@classname': suiteName }
  if (runs.fail > 0) {
    testcase.failure = { '@message': summary, '@type': 'fail', '#text': summary }
  } else if (runs.unknown > 0) {
    testcase.error = { '@message': summary, '@type': 'unknown', '#text': summary }
  } else {
    testcase['system-out'] = summary
  }
  return testcase
}

interface Built {
  element: Record<string, unknown>
  counts: Counts
}

/** A suite with its counts taken from its testcases, so the two always agree. */
function suite(
  name: string,
  properties: JUnitEvaluation['properties'],
  cases: TestCase[],
  time: number | undefined
): Built {
  const counts: Counts = {
    tests: cases.length,
    failures: cases.filter(c => c.failure !== undefined).length,
    errors: cases.filter(c => c.error !== undefined).length,
    skipped: cases.filter(c => c.skipped !== undefined).length
  }
  const element: Record<string, unknown> = {
    '@name': name,
    '@tests': count(counts.tests),
    '@failures': count(counts.failures),
    '@errors': count(counts.errors),
    '@skipped': count(counts.skipped)
  }
  if (time !== undefined) element['@time'] = seconds(time)
  // junit-4.xsd wants <properties> first and refuses it empty
  if (properties.length > 0) {
    element.properties = {
      property: properties.map(([n, value]) => ({ '@name': n, '@value': value }))
    }
  }
  if (cases.length > 0) element.testcase = cases
  return { element, counts }
}

/**
 * XML 1.0 cannot hold C0 controls (but TAB, LF, CR), U+FFFE/U+FFFF or lone surrogates, not even
 * as `&#x1;`: they become U+FFFD.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/**
 * The one escape for this format (the library escapes `< > & " '` after it). Line ends become LF,
 * as a conforming parser reads them, so that every reader (some npm ones do not) sees the same text.
 */
function xmlText(_name: string, value: unknown): unknown {
  return typeof value === 'string'
    ? value.replace(NOT_XML_CHAR, '\uFFFD').replace(/\r\n?/g, '\n')
    : value
}

/** Parsers turn TAB, LF and CR in an attribute into spaces anyway; write what they will read. */
function xmlAttribute(name: string, value: unknown): unknown {
  const text = xmlText(name, value)
  return typeof text === 'string' ? text.replace(/[\t\n\r]/g, ' ') : text
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  format: true,
  suppressEmptyNode: true,
  // by default an attribute whose value is the string "true" is written bare: not XML
  suppressBooleanAttributes: false,
  tagValueProcessor: xmlText,
  attributeValueProcessor: xmlAttribute
})

/** A message attribute: one line, at most MESSAGE_MAX characters (whole code points). */
function oneLine(text: string): string {
  const chars = Array.from(text.replace(/\s+/g, ' ').trim())
  return chars.length > MESSAGE_MAX
    ? `${chars.slice(0, MESSAGE_MAX - 1).join('')}…`
    : chars.join('')
}

function isTime(ms: number | null | undefined): ms is number {
  return typeof ms === 'number' && Number.isFinite(ms)
}

const COUNT = new Intl.NumberFormat('en-US', { useGrouping: false, maximumFractionDigits: 0 })
function count(value: number): string {
  return COUNT.format(value)
}

// junit-10.xsd: `time` has at most 3 decimals, no exponent and no sign (toFixed gives 1e+21 past 10^21)
const SECONDS = new Intl.NumberFormat('en-US', {
  useGrouping: false,
  minimumFractionDigits: 3,
  maximumFractionDigits: 3
})
function seconds(value: number): string {
  return SECONDS.format(Math.max(0, value))
}

// a score as a plain decimal: no exponent, no float noise past 15 significant digits
const DECIMAL = new Intl.NumberFormat('en-US', {
  useGrouping: false,
  maximumSignificantDigits: 15,
  signDisplay: 'negative'
})
function decimal(value: number): string {
  return DECIMAL.format(value)
}

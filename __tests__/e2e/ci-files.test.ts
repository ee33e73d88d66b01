/**
 * End to end: the report files other CIs read, written by dist/index.js (as the runner runs it)
 * and by dist/cli/index.js (as a shell runs it) on the same fake data: valid JUnit, a JSON report
 * valid against its schema, OpenMetrics text, the same verdict and numbers in each and in the
 * step's outputs; the row results fetched only for junit-file; an unwritable file named; no key.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import { RUNS_TESTCASE } from '../../src/report/junit.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import {
  expectCountsAgree,
  junit10Problems,
  readBack,
  schemaErrors
} from '../../test-support/junit-check.js'
import { givesAway, transformedForms } from '../../test-support/key-forms.js'
import { grammarProblems } from '../../test-support/metrics-check.js'
import { runAction, runCommand } from '../../test-support/run-action.js'
import { apiFieldsOf } from '../../test-support/run-reports.js'

const PROMPT = fakeId('prm', 1)
const PROMPT_2 = fakeId('prm', 2)
const HOUR = 3_600_000
const POLICY = 'max-fail-runs: 2\nmax-pass-rate-drop: 0.5'
const FILES = {
  junit: 'reports/junit.xml',
  report: 'out/adaline-report.json',
  metrics: 'adaline.metrics.txt'
}

const ajv = new Ajv2020({ allErrors: true, strict: true })
addFormats.default(ajv)
const validateReport = ajv.compile(
  JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8'))
)

let api: FakeAdaline
const dirs: string[] = []

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A working directory of its own for one run. */
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'adaline-evals-files-'))
  dirs.push(dir)
  return dir
}

/** Two prompts; the newest evaluation of each group judged, the one before it its baseline. */
function seed(): void {
  const now = Date.now()
  api.addPrompt(PROMPT, [
    makeEvaluation({ n: 1, submittedAt: now - 3 * HOUR, pass: 230, fail: 10, unknown: 0 }),
    makeEvaluation({ n: 2, submittedAt: now - HOUR, pass: 200, fail: 30, unknown: 10 }),
    makeEvaluation({
      n: 3,
      submittedAt: now - HOUR,
      evaluatorId: fakeId('evl', 2),
      pass: 12,
      fail: 0,
      unknown: 0
    })
  ])
  api.addPrompt(PROMPT_2, [
    makeEvaluation({ n: 4, submittedAt: now - 2 * HOUR, pass: 9, fail: 1, unknown: 0 })
  ])
}

const inputs = (extra: Record<string, string> = {}) => ({
  'api-key': api.apiKey,
  'base-url': api.url,
  'prompt-id': `${PROMPT},${PROMPT_2}`,
  policy: POLICY,
  ...extra
})

const FLAGS = [
  ['--junit', FILES.junit],
  ['--report-file', FILES.report],
  ['--metrics-file', FILES.metrics]
].flat()

function commandArgs(): string[] {
  return ['--base-url', api.url, '--prompt-id', `${PROMPT},${PROMPT_2}`, '--policy', POLICY]
}

/** The requests that fetched every row result (the failing rows ask for one grade). */
function allRowPages() {
  return api.requests.filter(r => r.path.endsWith('/results') && !r.query.has('grade'))
}

function read(dir: string) {
  return {
    junit: readFileSync(join(dir, FILES.junit), 'utf8'),
    report: readFileSync(join(dir, FILES.report), 'utf8'),
    metrics: readFileSync(join(dir, FILES.metrics), 'utf8')
  }
}

describe('report files', () => {
  it('writes the same verdict and numbers from the action and the command, agreeing with the outputs', async () => {
    seed()
    const actionDir = workdir()
    const action = await runAction(
      inputs({
        'junit-file': FILES.junit,
        'report-file': FILES.report,
        'metrics-file': FILES.metrics,
        'fail-on-gate': 'false'
      }),
      { cwd: actionDir }
    )
    expect(action.exitCode).toBe(0)
    expect(action.outputs.gate).toBe('failed')
    const fromAction = read(actionDir)

    const commandDir = workdir()
    const command = await runCommand(
      [...commandArgs(), ...FLAGS, '--format', 'json', '--fail-on-gate', 'false'],
      { env: { ADALINE_API_KEY: api.apiKey }, cwd: commandDir }
    )
    expect(command.exitCode).toBe(0)
    const fromCommand = read(commandDir)
    // --format json prints what report-file holds
    expect(command.stdout).toBe(fromCommand.report)

    // JUnit: valid for Jenkins and GitLab, counts that agree with the testcases and the outputs
    expect(await schemaErrors([fromAction.junit])).toEqual(new Map())
    expect(junit10Problems(fromAction.junit)).toEqual([])
    const junit = await readBack(fromAction.junit)
    expectCountsAgree(junit)
    const [policy, ...suites] = junit.testsuite ?? []
    const rows = suites.flatMap(suite => suite.testcase ?? [])
    expect({
      gate: (policy?.failures ?? 0) > 0 ? 'failed' : 'passed',
      'evaluation-count': String(suites.length),
      'pass-runs': String(rows.filter(t => !t.failure && !t.error).length),
      'fail-runs': String(rows.filter(t => t.failure).length),
      'unknown-runs': String(rows.filter(t => t.error).length)
    }).toEqual({
      gate: action.outputs.gate,
      'evaluation-count': action.outputs['evaluation-count'],
      'pass-runs': action.outputs['pass-runs'],
      'fail-runs': action.outputs['fail-runs'],
      'unknown-runs': action.outputs['unknown-runs']
    })

    // the JSON report: valid against its schema, the outputs' numbers
    const report = JSON.parse(fromAction.report)
    expect(validateReport(report) ? '' : ajv.errorsText(validateReport.errors)).toBe('')
    expect({
      gate: report.gate,
      'listed-count': String(report.listedCount),
      'evaluation-count': String(report.metrics.evaluations),
      'pass-runs': String(report.metrics.passRuns),
      'fail-runs': String(report.metrics.failRuns),
      'unknown-runs': String(report.metrics.unknownRuns),
      'pass-rate': String(report.metrics.passRate),
      'total-cost': String(report.metrics.totalCost),
      'total-tokens': String(report.metrics.totalTokens),
      evaluations: JSON.stringify(apiFieldsOf(report.evaluations))
    }).toEqual({
      gate: action.outputs.gate,
      'listed-count': action.outputs['listed-count'],
      'evaluation-count': action.outputs['evaluation-count'],
      'pass-runs': action.outputs['pass-runs'],
      'fail-runs': action.outputs['fail-runs'],
      'unknown-runs': action.outputs['unknown-runs'],
      'pass-rate': action.outputs['pass-rate'],
      'total-cost': action.outputs['total-cost'],
      'total-tokens': action.outputs['total-tokens'],
      evaluations: action.outputs.evaluations
    })
    expect(report.evaluations.some((e: { baseline: unknown }) => e.baseline !== null)).toBe(true)

    // the metrics: OpenMetrics that a Prometheus parser reads, the outputs' totals
    expect(grammarProblems(fromAction.metrics)).toEqual([])
    const families = new Map(
      parsePrometheusTextFormat(fromAction.metrics).map(f => [f.name, f.metrics])
    )
    const total = (name: string) => families.get(name)?.find(s => !s.labels)?.value
    expect({
      'pass-runs': total('adaline_runs_passed'),
      'fail-runs': total('adaline_runs_failed'),
      'unknown-runs': total('adaline_runs_unknown'),
      'total-tokens': total('adaline_tokens')
    }).toEqual({
      'pass-runs': action.outputs['pass-runs'],
      'fail-runs': action.outputs['fail-runs'],
      'unknown-runs': action.outputs['unknown-runs'],
      'total-tokens': action.outputs['total-tokens']
    })
    expect(families.get('adaline_pass_ratio')?.filter(s => s.labels)).toHaveLength(3)

    // the action's and the command's files are the same, but for when each ran and how each names
    // its setting in the supersede decision's reason
    expect(fromAction.report).toContain('"reason": "cancel-superseded is never"')
    expect(fromCommand.report).toContain('"reason": "--cancel-superseded is never"')
    const timeless = (text: string) =>
      text
        .replace(/^(<testsuites [^>]*?) time="[\d.]+"/m, '$1')
        .replace(/"(startedAt|finishedAt)": "[^"]+"/g, '"$1": "…"')
        .replace(/"durationMs": \d+/, '"durationMs": 0')
        .replace('"reason": "--cancel-superseded', '"reason": "cancel-superseded')
    expect(timeless(fromCommand.junit)).toBe(timeless(fromAction.junit))
    expect(timeless(fromCommand.report)).toBe(timeless(fromAction.report))
    expect(fromCommand.metrics).toBe(fromAction.metrics)
  })

  it('fetches the result pages only when junit-file is set, and the log says how many', async () => {
    seed()
    const without = await runAction(
      inputs({ 'report-file': FILES.report, 'metrics-file': FILES.metrics }),
      { cwd: workdir() }
    )
    expect(without.exitCode).toBe(1)
    expect(allRowPages()).toEqual([])
    expect(without.stdout).not.toContain('Row results for the JUnit report')

    api.clearRequests()
    const withJunit = await runAction(inputs({ 'junit-file': FILES.junit }), { cwd: workdir() })
    expect(withJunit.exitCode).toBe(1)
    const pages = allRowPages()
    // 240 + 12 + 10 rows: two pages for the first evaluation, one each for the others
    expect(pages).toHaveLength(4)
    expect(withJunit.stdout).toContain(
      'Row results for the JUnit report: 262 rows of 3 evaluations in 4 requests.'
    )

    api.clearRequests()
    const command = await runCommand([...commandArgs(), '--junit', FILES.junit], {
      env: { ADALINE_API_KEY: api.apiKey },
      cwd: workdir()
    })
    expect(command.exitCode).toBe(1)
    expect(allRowPages()).toHaveLength(4)
    expect(command.stderr).toContain('in 4 requests.')
  })

  it('stands an evaluation whose rows could not be fetched on its run counts, with a warning', async () => {
    seed()
    api.inject({ path: `${fakeId('run', 2)}/results`, status: 403, times: Infinity })
    const dir = workdir()
    const run = await runAction(inputs({ 'junit-file': FILES.junit }), { cwd: dir })
    // rows never decide the verdict: the gate is the same as without them
    expect(run.outputs.gate).toBe('failed')
    expect(run.errors).toEqual(['fail-runs 31 > max-fail-runs 2'])
    expect(run.stdout).toMatch(
      new RegExp(`::warning::Could not fetch the row results of ${fakeId('run', 2)}: .*403`)
    )
    const junit = await readBack(readFileSync(join(dir, FILES.junit), 'utf8'))
    const suite = junit.testsuite?.find(s =>
      s.properties?.some(p => p.name === 'runId' && p.value === fakeId('run', 2))
    )
    expect(suite?.testcase?.map(t => [t.name, Boolean(t.failure)])).toEqual([[RUNS_TESTCASE, true]])
  })

  it('ends with one error naming the input of a file it cannot write, after the outputs and summary', async () => {
    seed()
    const dir = workdir()
    writeFileSync(join(dir, 'taken'), 'a file, not a folder')
    mkdirSync(join(dir, 'folder'))
    for (const [input, path, problem] of [
      ['junit-file', 'taken/junit.xml', 'a part of its path is a file, not a folder'],
      ['report-file', 'folder', 'it is a folder']
    ] as const) {
      const run = await runAction(inputs({ policy: '', [input]: path }), { cwd: dir })
      expect(run.exitCode).toBe(1)
      expect(run.errors).toEqual([
        `Input ${input}: cannot write "${path}": ${problem} (${input === 'junit-file' ? 'ENOTDIR' : 'EISDIR'}). Give a file path the job can write, relative to the working directory.`
      ])
      expect(run.outputs.gate).toBe('skipped')
      expect(run.summary).not.toBe('')
      expect(run.stdout).not.toMatch(/Unexpected error|\n\s+at /)
    }
  })

  it('keeps transformed echoes of the key out of every file, from the action and the command', async () => {
    const forms = transformedForms(api.apiKey)
    const echoes = Object.values(forms).join(' | ')
    const failed = makeEvaluation({ n: 1, pass: 1, fail: 2, unknown: 1 })
    api.addPrompt(PROMPT, [{ ...failed, note: echoes } as typeof failed])
    api.setResults(PROMPT, failed.runId, [
      { id: 'res_1', rowId: 'row_1', grade: 'pass', reason: forms['lower case']! },
      { id: 'res_2', rowId: `row_${api.apiKey}`, grade: 'fail', reason: `the key was ${echoes}` },
      { id: 'res_3', rowId: 'row_3', grade: 'fail', reason: forms['base64 in a blob, aligned']! },
      {
        id: 'res_4',
        rowId: 'row_4',
        grade: 'unknown',
        reason: api.apiKey,
        row: { values: { [api.apiKey]: echoes } }
      }
    ])
    const actionDir = workdir()
    const action = await runAction(
      {
        'api-key': api.apiKey,
        'base-url': api.url,
        'prompt-id': PROMPT,
        'junit-file': FILES.junit,
        'report-file': FILES.report,
        'metrics-file': FILES.metrics
      },
      { cwd: actionDir }
    )
    expect(action.exitCode).toBe(0)
    const commandDir = workdir()
    const command = await runCommand(
      ['--base-url', api.url, '--prompt-id', PROMPT, ...FLAGS, '--format', 'json'],
      { env: { ADALINE_API_KEY: api.apiKey }, cwd: commandDir }
    )
    expect(command.exitCode).toBe(0)
    for (const files of [read(actionDir), read(commandDir)]) {
      expect(files.junit).toContain('the key was')
      for (const text of Object.values(files)) expect(givesAway(text, api.apiKey)).toBe(false)
      expect(await schemaErrors([files.junit])).toEqual(new Map())
      expect(validateReport(JSON.parse(files.report))).toBe(true)
    }
  })
})

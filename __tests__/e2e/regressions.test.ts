/**
 * End to end: row-paired regressions, run by dist/index.js as the runner runs it against the fake
 * API, whose evaluations of one dataset share row IDs: a real regression fails the gate under
 * significance, the same drop in a small sample passes with a warning, max-new-failures: 0 fails
 * on one newly failing row, a pinned baseline is used, and a bad pin is refused.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { decodeCommandText, runAction, runCommand } from '../../test-support/run-action.js'
import { mcnemarOneSided } from '../../src/judge/significance.js'

const PROMPT = fakeId('prm', 1)
const DAY = 24 * 3_600_000

let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

const inputs = (extra: Record<string, string> = {}) => ({
  'api-key': api.apiKey,
  'base-url': api.url,
  'prompt-id': PROMPT,
  ...extra
})

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)

/** The requests that fetched every row result of an evaluation (failing rows ask for one grade). */
function allRowPages(runId?: string) {
  return api.requests.filter(
    r =>
      r.path.endsWith('/results') &&
      !r.query.has('grade') &&
      (runId === undefined || r.path.includes(runId))
  )
}

/** The `::warning::` lines' messages. */
function warnings(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter(line => line.startsWith('::warning'))
    .map(line => decodeCommandText(line.slice(line.indexOf('::', 2) + 2)))
}

describe('regressions against the baseline, row by row', () => {
  it('fails the gate on a real regression under significance, and says how many requests it took', async () => {
    // 400 rows: 40 pass in the baseline and fail now, none the other way (90% vs 100%)
    const pair = api.addPairedEvaluations(PROMPT, { rows: 400, nowFails: range(0, 40) })
    const run = await runAction(
      inputs({ policy: 'max-pass-rate-drop: 5%\nsignificance: 5%', 'junit-file': '' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.outputs.gate).toBe('failed')
    expect(run.errors[0]).toBe(
      `pass rate −10 pp vs baseline, beyond max-pass-rate-drop −5 pp, significant at the 5% level: ${pair.judged.runId} 90% vs baseline ${pair.baseline.runId} 100%`
    )
    expect(run.outputs['new-failures']).toBe('40')
    expect(run.outputs['new-passes']).toBe('0')
    expect(Number(run.outputs['p-value'])).toBe(mcnemarOneSided(40, 0))
    // two pages of 200 a side, each fetched once
    expect(allRowPages(pair.judged.runId)).toHaveLength(2)
    expect(allRowPages(pair.baseline.runId)).toHaveLength(2)
    expect(run.stdout).toContain(
      'Compared 1 evaluation with their baselines row by row: 800 row results, 4 requests for the comparison.'
    )
  })

  it('passes the same drop in a small sample with a "within noise" warning', async () => {
    // 10 rows: 1 newly fails (90% vs 100%), p = 0.5
    const pair = api.addPairedEvaluations(PROMPT, { rows: 10, nowFails: [4] })
    const run = await runAction(inputs({ policy: 'max-pass-rate-drop: 5%\nsignificance: 5%' }))
    expect(run.exitCode).toBe(0)
    expect(run.outputs.gate).toBe('passed')
    expect(run.errors).toEqual([])
    expect(warnings(run.stdout)).toContainEqual(
      `pass rate −10 pp vs baseline, beyond max-pass-rate-drop −5 pp but within noise at the 5% level: ${pair.judged.runId} 90% vs baseline ${pair.baseline.runId} 100% (within noise, p = 0.5); not counted against the gate`
    )
    expect(run.outputs['p-value']).toBe('0.5')
  })

  it('fails max-new-failures: 0 on one newly failing row, even with another newly passing', async () => {
    api.addPairedEvaluations(PROMPT, { rows: 200, baselineFails: [3, 50], nowFails: [3, 7] })
    const run = await runAction(inputs({ policy: 'max-new-failures: 0' }))
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toBe('new failures 1 > max-new-failures 0')
    expect(run.outputs['new-failures']).toBe('1')
    expect(run.outputs['new-passes']).toBe('1')
    expect(run.outputs['p-value']).toBe('0.75')
  })

  it('fetches no row results when the policy does not read the comparison, and leaves the outputs empty', async () => {
    api.addPairedEvaluations(PROMPT, { rows: 200, nowFails: [7] })
    const run = await runAction(inputs({ policy: 'max-pass-rate-drop: 5%' }))
    expect(run.exitCode).toBe(0)
    expect(allRowPages()).toHaveLength(0)
    expect(run.outputs['new-failures']).toBe('')
    expect(run.outputs['p-value']).toBe('')
  })

  it('fails closed when the rows cannot be fetched: not compared, and the message says why', async () => {
    const pair = api.addPairedEvaluations(PROMPT, { rows: 20, nowFails: [7] })
    api.inject({
      path: `/v2/prompts/${PROMPT}/evaluations/${pair.baseline.runId}/results`,
      status: 403,
      times: Infinity
    })
    const run = await runAction(inputs({ policy: 'max-new-failures: 3' }))
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toMatch(
      new RegExp(
        `^max-new-failures cannot be judged: ${pair.judged.runId} was not compared with its baseline row by row, the rows of ${pair.baseline.runId} could not be fetched: .+; a rule that needs the comparison fails closed$`
      )
    )
    expect(run.outputs['new-failures']).toBe('')
  })
})

describe('the report files', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true })
  addFormats.default(ajv)
  const validate = ajv.compile(
    JSON.parse(readFileSync(new URL('../../schema/report.schema.json', import.meta.url), 'utf8'))
  )

  it('carry the comparison: JSON (valid against the schema), JUnit properties, OpenMetrics; rows fetched once for all', async () => {
    const pair = api.addPairedEvaluations(PROMPT, {
      rows: 400,
      baselineFails: [399],
      nowFails: range(0, 40)
    })
    const dir = mkdtempSync(join(tmpdir(), 'adaline-evals-regress-'))
    try {
      const run = await runAction(
        inputs({
          policy: 'max-new-failures: 0',
          'junit-file': 'junit.xml',
          'report-file': 'report.json',
          'metrics-file': 'metrics.txt'
        }),
        { cwd: dir }
      )
      expect(run.exitCode).toBe(1)
      const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))
      expect(validate(report)).toBe(true)
      expect(report.evaluations[0].comparison).toMatchObject({
        baselineRunId: pair.baseline.runId,
        pinned: false,
        compared: true,
        verdict: 'regression',
        pValue: mcnemarOneSided(40, 1),
        counts: { newlyFailing: 40, newlyPassing: 1, bothPass: 359, bothFail: 0 }
      })
      expect(report.evaluations[0].comparison.newlyFailingRows).toHaveLength(40)
      expect(report.rules).toContainEqual(
        expect.objectContaining({ rule: 'max-new-failures', ok: false, figure: '40', limit: '0' })
      )
      const junit = readFileSync(join(dir, 'junit.xml'), 'utf8')
      expect(junit).toContain('<property name="newFailures" value="40"/>')
      expect(junit).toContain('<property name="newPasses" value="1"/>')
      const metrics = readFileSync(join(dir, 'metrics.txt'), 'utf8')
      expect(metrics).toContain('\nadaline_new_failures 40\n')
      // the JUnit report's rows are those the comparison fetched: two pages a side, once
      expect(allRowPages(pair.judged.runId)).toHaveLength(2)
      expect(allRowPages(pair.baseline.runId)).toHaveLength(2)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('baseline-run-id', () => {
  /** A judged evaluation, the automatic baseline just before it (same grades), and an older pin. */
  function seedPinned() {
    const pair = api.addPairedEvaluations(PROMPT, {
      rows: 50,
      nowFails: [1, 2],
      baselineRunId: fakeId('run_pinned', 1),
      baselineSubmittedAt: Date.now() - 3 * DAY,
      submittedAt: Date.now() - DAY
    })
    const automatic = makeEvaluation({
      runId: fakeId('run_automatic', 1),
      submittedAt: Date.now() - 2 * DAY,
      pass: 48,
      fail: 2,
      unknown: 0
    })
    api.addEvaluations(PROMPT, [automatic])
    api.setRowGrades(PROMPT, automatic.runId, pair.judgedGrades)
    return { pair, automatic }
  }

  it('compares with the pinned baseline instead of the automatic one', async () => {
    const { pair } = seedPinned()
    const policy = 'max-new-failures: 0'
    const automatic = await runAction(inputs({ policy }))
    expect(automatic.exitCode).toBe(0)
    expect(automatic.outputs['new-failures']).toBe('0')

    api.clearRequests()
    const pinned = await runAction(inputs({ policy, 'baseline-run-id': pair.baseline.runId }))
    expect(pinned.exitCode).toBe(1)
    expect(pinned.outputs['new-failures']).toBe('2')
    expect(pinned.errors[0]).toBe('new failures 2 > max-new-failures 0')
    expect(pinned.stdout).toContain(`Pinned 1 baseline (baseline-run-id): ${pair.baseline.runId}.`)
    expect(allRowPages(pair.baseline.runId)).toHaveLength(1)
  })

  it('refuses a malformed pin before any request', async () => {
    api.addPairedEvaluations(PROMPT, { rows: 10 })
    const run = await runAction(
      inputs({ policy: 'max-new-failures: 0', 'baseline-run-id': 'main' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      'Input baseline-run-id has "main", which is not an Adaline ID: IDs are 20 to 80 characters without spaces or slashes'
    ])
    expect(api.requests).toEqual([])
  })

  it('refuses a pin that is not completed, or of another evaluator, naming the input', async () => {
    const pair = api.addPairedEvaluations(PROMPT, { rows: 10 })
    const running = makeEvaluation({ runId: fakeId('run_running', 1), status: 'running' })
    const other = makeEvaluation({
      runId: fakeId('run_other', 1),
      evaluatorId: fakeId('evl', 9),
      submittedAt: pair.baseline.timeline.submittedAt
    })
    api.addEvaluations(PROMPT, [running, other])

    const notDone = await runAction(inputs({ 'baseline-run-id': running.runId }))
    expect(notDone.exitCode).toBe(1)
    expect(notDone.errors).toEqual([
      `Input baseline-run-id has ${running.runId}, which is running, not completed: pin a completed evaluation (its rows are all graded)`
    ])
    // refused before anything is listed
    expect(api.requests.filter(r => r.path.endsWith('/evaluations'))).toEqual([])

    // the other evaluator's run is not judged: evaluator-id filters it out, so it is refused
    // before anything is listed
    api.clearRequests()
    const elsewhere = await runAction(
      inputs({ 'baseline-run-id': other.runId, 'evaluator-id': fakeId('evl', 1) })
    )
    expect(elsewhere.exitCode).toBe(1)
    expect(elsewhere.errors[0]).toBe(
      `Input baseline-run-id has ${other.runId}, of evaluator ${fakeId('evl', 9)}, but evaluator-id is ${fakeId('evl', 1)}: pin a completed evaluation of the evaluator judged`
    )
    expect(api.requests.filter(r => r.path.endsWith('/evaluations'))).toEqual([])
  })

  it('is --baseline-run-id on the command: a pinned baseline used, a malformed one refused before any request', async () => {
    const { pair } = seedPinned()
    const args = ['--base-url', api.url, '--prompt-id', PROMPT, '--policy', 'max-new-failures: 0']
    const env = { ADALINE_API_KEY: api.apiKey }
    const pinned = await runCommand([...args, '--baseline-run-id', pair.baseline.runId], { env })
    expect(pinned.exitCode).toBe(1)
    expect(pinned.stdout + pinned.stderr).toContain('new failures 2 > max-new-failures 0')

    api.clearRequests()
    const bad = await runCommand([...args, '--baseline-run-id', 'main'], { env })
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toContain(
      'adaline-evals: --baseline-run-id has "main", which is not an Adaline ID'
    )
    expect(api.requests).toEqual([])

    const unknown = fakeId('run', 999)
    const elsewhere = await runCommand([...args, '--baseline-run-id', unknown], { env })
    expect(elsewhere.exitCode).toBe(2)
    expect(elsewhere.stderr).toContain(
      `adaline-evals: --baseline-run-id has ${unknown}, which is no evaluation of the prompt in --prompt-id:`
    )
  })
})

/**
 * End to end: the bundled dist/index.js, run as the runner runs it, against the fake Adaline API
 * (and a fake GitHub API) over real HTTP on loopback.
 */
import {
  FakeAdaline,
  fakeId,
  makeEvaluation,
  sampleWorkspace
} from '../../test-support/fake-adaline.js'
import type { Evaluation } from '../../src/adaline/schema.js'
import { FakeGitHub } from '../../test-support/fake-github.js'
import { PUSH_TIME, pushEvent } from '../../test-support/events.js'
import { runAction, runCommand, type ActionRun } from '../../test-support/run-action.js'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'

const PROMPT = fakeId('prm', 1)
const PROMPT_2 = fakeId('prm', 2)
const EVALUATOR = fakeId('evr', 1)
const EVALUATOR_2 = fakeId('evr', 2)
const DATASET = fakeId('dst', 1)
const HOUR = 3_600_000

let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
})

afterEach(async () => {
  await api.close()
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return { 'api-key': api.apiKey, 'prompt-id': PROMPT, 'base-url': api.url, ...extra }
}

function listRequests() {
  return api.requests.filter(r => r.method === 'GET' && r.path.endsWith('/evaluations'))
}

function cancelRequests() {
  return api.requests.filter(r => r.method === 'POST')
}

/** Neither the key nor a piece of it appears anywhere the action wrote, but in the mask command. */
function expectNoKey(run: ActionRun, key = api.apiKey) {
  const stdout = run.stdout.replace(`::add-mask::${key}`, '')
  for (const text of [stdout, run.stderr, run.summary, JSON.stringify(run.outputs)]) {
    expect(text).not.toContain(key)
  }
}

describe('listing', () => {
  it('reads every page with every filter sent on each, 200 at a time', async () => {
    const since = PUSH_TIME - 24 * HOUR
    api.addPrompt(
      PROMPT,
      Array.from({ length: 450 }, (_, i) =>
        makeEvaluation({
          n: i + 1,
          evaluatorId: EVALUATOR,
          datasetId: DATASET,
          status: 'completed',
          submittedAt: since + i * 1000
        })
      )
    )
    const run = await runAction(
      inputs({
        'evaluator-id': EVALUATOR,
        'dataset-id': DATASET,
        status: 'completed',
        'created-after': String(since),
        policy: 'scope: all'
      })
    )
    expect(run.exitCode).toBe(0)
    // the oldest judged evaluation's baseline would be older than created-after: one more listing
    // looks for it, and finds none
    const [baselineSearch, ...more] = listRequests().filter(r => r.query.has('createdBefore'))
    expect(more).toEqual([])
    expect(Object.fromEntries(baselineSearch!.query)).toEqual({
      limit: '200',
      status: 'completed',
      evaluatorId: EVALUATOR,
      datasetId: DATASET,
      createdBefore: String(since),
      sort: 'createdAt:desc'
    })
    const pages = listRequests().filter(r => r !== baselineSearch)
    expect(pages).toHaveLength(3)
    for (const page of pages) {
      expect(Object.fromEntries(page.query)).toMatchObject({
        limit: '200',
        status: 'completed',
        evaluatorId: EVALUATOR,
        datasetId: DATASET,
        createdAfter: String(since)
      })
    }
    expect(pages.map(p => p.query.has('cursor'))).toEqual([false, true, true])
    expect(run.outputs['listed-count']).toBe('450')
    expect(run.outputs['evaluation-count']).toBe('450')
    expect(run.outputs.gate).toBe('skipped')
    expect(run.stdout).toContain('page 3, 50 evaluations, 450 so far')
  })

  it('lists each of several statuses and counts them apart', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, status: 'completed' }),
      makeEvaluation({ n: 2, status: 'failed' }),
      makeEvaluation({ n: 3, status: 'running' })
    ])
    const run = await runAction(inputs({ status: 'completed,failed' }))
    expect(run.exitCode).toBe(0)
    expect(listRequests().map(r => r.query.get('status'))).toEqual(['completed', 'failed'])
    expect(run.outputs['listed-count']).toBe('2')
    expect(run.summary).toContain('2 evaluations matched the filters: completed 1 · failed 1')
  })

  it('lists several prompts', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, pass: 5, fail: 0, unknown: 0 })])
    api.addPrompt(PROMPT_2, [makeEvaluation({ n: 2, pass: 3, fail: 1, unknown: 0 })])
    const run = await runAction(inputs({ 'prompt-id': `${PROMPT}\n${PROMPT_2}` }))
    expect(run.exitCode).toBe(0)
    expect(run.outputs['evaluation-count']).toBe('2')
    expect(run.outputs['pass-runs']).toBe('8')
    expect(run.outputs['fail-runs']).toBe('1')
  })

  it('fails naming prompt-id when the prompt does not exist', async () => {
    const run = await runAction(inputs())
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      expect.stringContaining(`GET /prompts/${PROMPT}/evaluations answered 404`)
    ])
    expect(run.errors[0]).toContain('check prompt-id and')
  })

  it('the command names --prompt-id, not the input, when the prompt does not exist', async () => {
    const run = await runCommand(['--prompt-id', PROMPT, '--base-url', api.url, '--quiet'], {
      env: { ADALINE_API_KEY: api.apiKey }
    })
    expect(run.exitCode).toBe(3)
    expect(run.stderr).toContain(`GET /prompts/${PROMPT}/evaluations answered 404`)
    expect(run.stderr).toContain("check --prompt-id and that the key's workspace owns it")
  })

  it('fails naming the endpoint and saying what to do on a bad key, without printing it', async () => {
    api.addPrompt(PROMPT, [])
    const wrongKey = 'adl_live_wrongwrongwrongwrongwrongwrong'
    const run = await runAction(inputs({ 'api-key': wrongKey }))
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      expect.stringMatching(/answered 401 UNAUTHORIZED.*The key in api-key is missing or wrong/)
    ])
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /)
    expectNoKey(run, wrongKey)
  })

  it('the command names ADALINE_API_KEY on a bad key, and --base-url where the API is not', async () => {
    api.addPrompt(PROMPT, [])
    const wrongKey = 'adl_live_wrongwrongwrongwrongwrongwrong'
    const bad = await runCommand(['--prompt-id', PROMPT, '--base-url', api.url, '--quiet'], {
      env: { ADALINE_API_KEY: wrongKey }
    })
    expect(bad.exitCode).toBe(3)
    expect(bad.stderr).toMatch(
      /answered 401 UNAUTHORIZED.*The key in ADALINE_API_KEY is missing or wrong/
    )
    expect(bad.stderr).not.toContain('api-key')
    expect(bad.stderr).not.toContain(wrongKey)
    // TLS to a server that speaks plain HTTP: no API there
    const elsewhere = await runCommand(
      ['--prompt-id', PROMPT, '--base-url', api.url.replace(/^http:/, 'https:'), '--quiet'],
      { env: { ADALINE_API_KEY: api.apiKey } }
    )
    expect(elsewhere.exitCode).toBe(3)
    expect(elsewhere.stderr).toContain('Check --base-url')
    expect(elsewhere.stderr).not.toMatch(/(^|[^-])base-url/m)
  })
})

describe('judging', () => {
  function seed() {
    api.addPrompt(PROMPT, [
      makeEvaluation({
        n: 1,
        evaluatorId: EVALUATOR,
        submittedAt: PUSH_TIME - 3 * HOUR,
        pass: 10,
        fail: 0,
        unknown: 0
      }),
      makeEvaluation({
        n: 2,
        evaluatorId: EVALUATOR,
        submittedAt: PUSH_TIME - 2 * HOUR,
        pass: 7,
        fail: 2,
        unknown: 1
      }),
      makeEvaluation({
        n: 3,
        evaluatorId: EVALUATOR_2,
        submittedAt: PUSH_TIME - 1 * HOUR,
        pass: 5,
        fail: 0,
        unknown: 0
      })
    ])
  }

  it('judges the newest evaluation per evaluator under scope latest', async () => {
    seed()
    const run = await runAction(inputs({ policy: 'max-fail-runs: 5' }))
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({
      gate: 'passed',
      'listed-count': '3',
      'evaluation-count': '2',
      'pass-runs': '12',
      'fail-runs': '2',
      'unknown-runs': '1'
    })
    expect(JSON.parse(run.outputs.evaluations!).map((e: { runId: string }) => e.runId)).toEqual([
      fakeId('run', 3),
      fakeId('run', 2)
    ])
  })

  it('judges every listed evaluation under scope all', async () => {
    seed()
    const run = await runAction(inputs({ policy: 'scope: all\nmax-fail-runs: 5' }))
    expect(run.outputs).toMatchObject({
      gate: 'passed',
      'evaluation-count': '3',
      'pass-runs': '22'
    })
  })

  it('fails the step with one annotation per broken rule', async () => {
    seed()
    const run = await runAction(
      inputs({ policy: 'max-fail-runs: 0\nmax-unknown-runs: 0\nmin-pass-rate: 0.5' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.outputs.gate).toBe('failed')
    expect(run.errors).toEqual([
      'fail-runs 2 > max-fail-runs 0',
      'unknown-runs 1 > max-unknown-runs 0'
    ])
    expect(run.stdout).toContain(
      '::error title=adaline-evals%3A max-fail-runs::fail-runs 2 > max-fail-runs 0'
    )
    expect(run.summary).toContain(
      [
        '| max-fail-runs | 2 | 0 | ❌ |',
        '| max-unknown-runs | 1 | 0 | ❌ |',
        '| min-pass-rate | 80% | 50% | ✅ |'
      ].join('\n')
    )
  })

  it('reports a failed gate without failing the step when fail-on-gate is false: its broken rules are warnings', async () => {
    seed()
    const run = await runAction(inputs({ policy: 'max-fail-runs: 0', 'fail-on-gate': 'false' }))
    expect(run.exitCode).toBe(0)
    expect(run.outputs.gate).toBe('failed')
    expect(run.errors).toEqual([])
    expect(run.stdout).toContain(
      '::warning title=adaline-evals%3A max-fail-runs::fail-runs 2 > max-fail-runs 0'
    )
    expect(run.stdout).toContain('::warning::The gate failed, but fail-on-gate is false')
  })

  it('fails on an empty selection by default, and passes it with on-empty: pass', async () => {
    api.addPrompt(PROMPT, [])
    const failing = await runAction(inputs({ policy: 'max-fail-runs: 0' }))
    expect(failing.exitCode).toBe(1)
    expect(failing.outputs).toMatchObject({
      gate: 'failed',
      'listed-count': '0',
      'evaluation-count': '0',
      'pass-rate': '',
      evaluations: '[]'
    })
    expect(failing.errors[0]).toContain('no evaluations to judge')
    const passing = await runAction(inputs({ policy: 'max-fail-runs: 0\non-empty: pass' }))
    expect(passing.exitCode).toBe(0)
    expect(passing.outputs.gate).toBe('passed')
  })

  it('writes numbers as plain decimals at full precision', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({
        n: 1,
        evaluatorId: EVALUATOR,
        cost: 0.1,
        pass: 1,
        fail: 2,
        unknown: 0,
        metrics: { totalLatency: 1234.5, totalTokenCount: 1_234_567 }
      }),
      makeEvaluation({
        n: 2,
        evaluatorId: EVALUATOR_2,
        cost: 0.2000001,
        pass: 0,
        fail: 0,
        unknown: 0,
        metrics: { totalLatency: 0, totalTokenCount: 0 }
      })
    ])
    const run = await runAction(inputs())
    expect(run.outputs).toMatchObject({
      'total-cost': '0.3000001',
      'total-latency': '1234.5',
      'total-tokens': '1234567',
      'pass-rate': '0.3333333333333333'
    })
  })
})

describe('superseded evaluations', () => {
  const before = PUSH_TIME - HOUR
  const after = PUSH_TIME + 60_000
  function seed() {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, status: 'running', submittedAt: before }),
      makeEvaluation({ n: 2, status: 'queued', submittedAt: before + 1 }),
      makeEvaluation({ n: 3, status: 'running', submittedAt: after }),
      makeEvaluation({ n: 4, status: 'completed', submittedAt: before - 1 }),
      makeEvaluation({ n: 5, status: 'running', submittedAt: before + 2 })
    ])
  }

  it('cancels in-flight evaluations submitted before a force-push, except kept ones, and judges none of them', async () => {
    seed()
    const run = await runAction(
      inputs({
        'cancel-superseded': 'force-push',
        'keep-run-ids': fakeId('run', 5),
        policy: 'scope: all\nallow-status: [completed, running]'
      }),
      { event: pushEvent() }
    )
    expect(run.exitCode).toBe(0)
    const cancelled = JSON.parse(run.outputs.cancelled!)
    expect(cancelled.sort()).toEqual([fakeId('run', 1), fakeId('run', 2)])
    expect(
      cancelRequests()
        .map(r => r.path)
        .sort()
    ).toEqual(
      cancelled.map((id: string) => `/v2/prompts/${PROMPT}/evaluations/${id}/cancel`).sort()
    )
    expect(
      api
        .evaluations(PROMPT)
        .filter(e => e.status === 'cancelling')
        .map(e => e.runId)
        .sort()
    ).toEqual(cancelled)
    const judged = JSON.parse(run.outputs.evaluations!).map((e: { runId: string }) => e.runId)
    expect(judged.sort()).toEqual([fakeId('run', 3), fakeId('run', 4), fakeId('run', 5)])
    expect(run.summary).toContain('Cancelled 2 of 2 superseded evaluations')
  })

  it('lists a cancel answered “completed” as finished, not cancelled, and cancels none the listing is unsure of', async () => {
    seed()
    // run 1's cancel is answered with the evaluation completed: it was not cancelled
    api.inject({
      method: 'POST',
      path: `${fakeId('run', 1)}/cancel`,
      body: makeEvaluation({ n: 1, status: 'completed', submittedAt: before })
    })
    // the listing's first page says run 2 is queued; its second says it completed
    const page = (evaluations: Evaluation[], nextCursor?: string) => ({
      evaluations,
      pagination: { hasMore: nextCursor !== undefined, nextCursor }
    })
    const [one, two, three, four, five] = api.evaluations(PROMPT)
    api.inject({ method: 'GET', path: /\/evaluations$/, body: page([one!, two!, three!], 'p2') })
    api.inject({
      method: 'GET',
      path: /\/evaluations$/,
      body: page([{ ...two!, status: 'completed' }, four!, five!])
    })
    const run = await runAction(
      inputs({
        'cancel-superseded': 'new-commit',
        policy: 'scope: all\nallow-status: [completed, running, queued]'
      }),
      { event: pushEvent(false) }
    )
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.outputs.cancelled!)).toEqual([fakeId('run', 5)])
    expect(JSON.parse(run.outputs['cancel-failed']!)).toEqual([])
    expect(
      cancelRequests()
        .map(r => r.path)
        .sort()
    ).toEqual([1, 5].map(n => `/v2/prompts/${PROMPT}/evaluations/${fakeId('run', n)}/cancel`))
    expect(run.stdout).toContain(
      `::warning::Not cancelling ${fakeId('run', 2)}: it was listed both in flight and finished in this run's listings`
    )
    expect(run.stdout).toMatch(
      new RegExp(
        `::warning::Superseded evaluation ${fakeId('run', 1)} had already completed when its cancel arrived`
      )
    )
  })

  it('cancels nothing on a push that was not forced under force-push', async () => {
    seed()
    const run = await runAction(inputs({ 'cancel-superseded': 'force-push' }), {
      event: pushEvent(false)
    })
    expect(run.exitCode).toBe(0)
    expect(cancelRequests()).toHaveLength(0)
    expect(run.outputs.cancelled).toBe('[]')
    expect(run.summary).toContain('Nothing cancelled: the push was not a force-push')
  })

  it('cancels on a plain push under new-commit', async () => {
    seed()
    const run = await runAction(inputs({ 'cancel-superseded': 'new-commit' }), {
      event: pushEvent(false)
    })
    expect(JSON.parse(run.outputs.cancelled!).sort()).toEqual([
      fakeId('run', 1),
      fakeId('run', 2),
      fakeId('run', 5)
    ])
  })

  it('lists in-flight evaluations apart when the status filter would hide them', async () => {
    seed()
    const run = await runAction(
      inputs({ 'cancel-superseded': 'new-commit', status: 'completed' }),
      { event: pushEvent(false) }
    )
    expect(listRequests().map(r => r.query.get('status'))).toEqual([
      'completed',
      'queued',
      'running'
    ])
    expect(
      listRequests()
        .slice(1)
        .every(r => r.query.get('createdBefore') !== null)
    ).toBe(true)
    expect(JSON.parse(run.outputs.cancelled!)).toHaveLength(3)
    expect(run.outputs['listed-count']).toBe('1')
  })

  it('reports what would be cancelled with dry-run, and cancels nothing', async () => {
    seed()
    const run = await runAction(inputs({ 'cancel-superseded': 'force-push', 'dry-run': 'true' }), {
      event: pushEvent()
    })
    expect(run.exitCode).toBe(0)
    expect(cancelRequests()).toHaveLength(0)
    expect(JSON.parse(run.outputs.cancelled!)).toHaveLength(3)
    expect(run.stdout).toContain(`dry-run: would cancel ${fakeId('run', 1)}`)
    expect(run.summary).toContain('Would cancel (dry-run) 3 of 3')
  })

  it('cancels none of the superseded evaluations of the first page when a later page fails', async () => {
    api.addPrompt(
      PROMPT,
      Array.from({ length: 250 }, (_, i) =>
        makeEvaluation({ n: i + 1, status: 'running', submittedAt: before - i })
      )
    )
    // A fault with headers only lets the first page through; the second page then answers 400.
    api.inject({ method: 'GET', path: '/evaluations', headers: { 'x-page': 'first' } })
    api.inject({ method: 'GET', path: '/evaluations', status: 400 })
    const run = await runAction(inputs({ 'cancel-superseded': 'force-push' }), {
      event: pushEvent()
    })
    expect(run.exitCode).toBe(1)
    expect(listRequests()).toHaveLength(2)
    expect(cancelRequests()).toHaveLength(0)
    expect(run.errors).toEqual([expect.stringContaining('answered 400')])
  })

  describe('a cancel that did not land', () => {
    /** the one ::error line about the cancels, and where it stands in the log */
    const cancelError = (run: ActionRun) =>
      run.errors.filter(line => line.startsWith('Could not cancel'))

    it('fails the step after the report when a cancel is given up on (5xx), listing it in cancel-failed', async () => {
      seed()
      api.inject({
        method: 'POST',
        path: `${fakeId('run', 1)}/cancel`,
        status: 500,
        times: Infinity
      })
      const run = await runAction(inputs({ 'cancel-superseded': 'force-push' }), {
        event: pushEvent()
      })
      expect(run.exitCode).toBe(1)
      // the report was written in full: the outputs say what landed and what did not
      expect(run.outputs.gate).toBe('skipped')
      expect(JSON.parse(run.outputs.cancelled!).sort()).toEqual([
        fakeId('run', 2),
        fakeId('run', 5)
      ])
      expect(JSON.parse(run.outputs['cancel-failed']!)).toEqual([fakeId('run', 1)])
      expect(api.evaluations(PROMPT).find(e => e.runId === fakeId('run', 1))!.status).toBe(
        'running'
      )
      // the headline says what the step's result says: the run failed
      expect(run.summary.split('\n')[0]).toBe(
        '## ❌ Adaline evals: report only, but 1 cancel did not land'
      )
      expect(run.summary).toContain(
        '**Could not cancel 1 evaluation: it may still be running and billing, and the run fails for it.**'
      )
      expect(run.summary).toMatch(
        new RegExp(
          `- ${fakeId('run', 1)}: POST /prompts/${PROMPT}/evaluations/${fakeId('run', 1)}/cancel answered 500 .*gave up after 5 attempts`
        )
      )
      // one error, naming it and why, after the report
      expect(run.errors).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Could not cancel 1 superseded evaluation, which may still be running and billing: ${fakeId('run', 1)} of prompt ${PROMPT} \\(POST /prompts/${PROMPT}/evaluations/${fakeId('run', 1)}/cancel answered 500 .*gave up after 5 attempts\\)\\)\\. Cancel it in Adaline, or run again\\.$`
          )
        )
      ])
      const lines = run.stdout.split('\n')
      expect(lines.findIndex(line => line.startsWith('::error'))).toBeGreaterThan(
        lines.indexOf('Gate: skipped')
      )
    }, 60_000)

    it('counts a refusal after which the evaluation still runs as not landed, besides a failed gate', async () => {
      seed()
      api.inject({ method: 'POST', path: `${fakeId('run', 2)}/cancel`, status: 403 })
      const run = await runAction(
        inputs({ 'cancel-superseded': 'force-push', policy: 'max-fail-runs: 0' }),
        { event: pushEvent() }
      )
      expect(run.exitCode).toBe(1)
      expect(run.outputs.gate).toBe('failed')
      expect(run.summary.split('\n')[0]).toBe(
        '## ❌ Adaline evals failed, and 1 cancel did not land'
      )
      expect(JSON.parse(run.outputs['cancel-failed']!)).toEqual([fakeId('run', 2)])
      expect(JSON.parse(run.outputs.cancelled!).sort()).toEqual([
        fakeId('run', 1),
        fakeId('run', 5)
      ])
      // the gate's errors, then the one about the cancel
      expect(run.errors.slice(0, -1)).toContainEqual(
        expect.stringMatching(/^fail-runs \d+ > max-fail-runs 0$/)
      )
      expect(run.errors.slice(0, -1).every(line => !line.startsWith('Could not cancel'))).toBe(true)
      expect(run.errors.slice(-1)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Could not cancel 1 superseded evaluation, .*: ${fakeId('run', 2)} of prompt ${PROMPT} \\(still queued after: POST .* answered 403 .*\\)\\. `
          )
        )
      ])
    })

    it('still lists and names them when the run then ends with an error, in its one error line', async () => {
      seed()
      api.inject({ method: 'POST', path: `${fakeId('run', 2)}/cancel`, status: 403 })
      // the start, after the cancels, is refused
      api.inject({ method: 'POST', path: /\/evaluations$/, status: 400 })
      const run = await runAction(inputs({ 'cancel-superseded': 'force-push', start: 'true' }), {
        event: pushEvent()
      })
      expect(run.exitCode).toBe(1)
      expect(run.outputs.gate).toBeUndefined()
      expect(JSON.parse(run.outputs['cancel-failed']!)).toEqual([fakeId('run', 2)])
      expect(run.errors).toEqual([
        expect.stringMatching(
          new RegExp(
            `^POST /prompts/${PROMPT}/evaluations answered 400 .* Could not cancel 1 superseded evaluation, which may still be running and billing: ${fakeId('run', 2)} of prompt ${PROMPT} \\(still queued after: `
          )
        )
      ])
    })

    it('names at most ten in the error and counts the rest', async () => {
      api.addPrompt(
        PROMPT,
        Array.from({ length: 13 }, (_, i) =>
          makeEvaluation({ n: i + 1, status: 'running', submittedAt: before - i })
        )
      )
      api.inject({ method: 'POST', path: '/cancel', status: 403, times: Infinity })
      const run = await runAction(inputs({ 'cancel-superseded': 'force-push' }), {
        event: pushEvent()
      })
      expect(run.exitCode).toBe(1)
      expect(JSON.parse(run.outputs['cancel-failed']!)).toHaveLength(13)
      expect(run.outputs.cancelled).toBe('[]')
      const [error] = cancelError(run)
      expect(error).toMatch(/^Could not cancel 13 superseded evaluations/)
      expect(error!.match(/ of prompt /g)).toHaveLength(10)
      expect(error).toContain('; and 3 more (the report lists them all). Cancel them in Adaline')
    })

    it('keeps a cancel refused because the evaluation finished meanwhile a warning', async () => {
      seed()
      // the evaluation completes just before its cancel arrives, which Adaline then refuses
      api.inject({
        method: 'POST',
        path: `${fakeId('run', 1)}/cancel`,
        status: 409,
        body: () => {
          api.updateEvaluation(PROMPT, fakeId('run', 1), { status: 'completed' })
          return { error: { code: 'CONFLICT', message: 'Evaluation is already completed.' } }
        }
      })
      const run = await runAction(inputs({ 'cancel-superseded': 'force-push' }), {
        event: pushEvent()
      })
      expect(run.exitCode).toBe(0)
      expect(run.errors).toEqual([])
      expect(run.outputs['cancel-failed']).toBe('[]')
      expect(JSON.parse(run.outputs.cancelled!).sort()).toEqual([
        fakeId('run', 2),
        fakeId('run', 5)
      ])
      expect(run.stdout).toContain(
        `::warning::Superseded evaluation ${fakeId('run', 1)} had already completed when its cancel arrived`
      )
      expect(run.summary).toContain(
        `Finished before their cancel arrived (1):\n\n- ${fakeId('run', 1)}: completed`
      )
    })
  })

  describe('on pull_request synchronize', () => {
    let github: FakeGitHub
    beforeEach(async () => {
      github = await FakeGitHub.start()
    })
    afterEach(async () => {
      await github.close()
    })
    const event = {
      name: 'pull_request',
      payload: {
        action: 'synchronize',
        before: 'a'.repeat(40),
        after: 'b'.repeat(40),
        pull_request: {
          number: 7,
          updated_at: new Date(PUSH_TIME + 30_000).toISOString(),
          head: { sha: 'b'.repeat(40) }
        },
        repository: { name: 'repo', owner: { login: 'org' } }
      }
    }
    const compareKey = `org/repo:${'a'.repeat(40)}...${'b'.repeat(40)}`
    const commitKey = `org/repo:${'b'.repeat(40)}`

    it('cancels when GitHub says the old head is not an ancestor, with the commit date as cutoff', async () => {
      seed()
      github.compare.set(compareKey, { status: 'diverged' })
      github.commits.set(commitKey, {
        authorDate: new Date(before + 1).toISOString(),
        committerDate: new Date(PUSH_TIME).toISOString()
      })
      const run = await runAction(
        inputs({ 'cancel-superseded': 'force-push', 'github-token': 'ghs_faketoken000000000000' }),
        {
          event,
          env: { GITHUB_API_URL: github.url }
        }
      )
      expect(run.exitCode).toBe(0)
      // The author date is the earliest time known: only run 1 was submitted before it.
      expect(JSON.parse(run.outputs.cancelled!)).toEqual([fakeId('run', 1)])
      expect(github.requests.map(r => r.path)).toEqual([
        `/repos/org/repo/compare/${'a'.repeat(40)}...${'b'.repeat(40)}`,
        `/repos/org/repo/commits/${'b'.repeat(40)}`
      ])
    })

    it('cancels nothing on a fast-forward', async () => {
      seed()
      github.compare.set(compareKey, { status: 'ahead' })
      const run = await runAction(
        inputs({ 'cancel-superseded': 'force-push', 'github-token': 'ghs_faketoken000000000000' }),
        {
          event,
          env: { GITHUB_API_URL: github.url }
        }
      )
      expect(run.exitCode).toBe(0)
      expect(cancelRequests()).toHaveLength(0)
      expect(run.stdout).toContain('the pull request was not force-pushed')
    })

    it('cancels nothing and says why when GitHub cannot answer the compare', async () => {
      seed()
      github.compare.set(compareKey, 404)
      const run = await runAction(
        inputs({ 'cancel-superseded': 'force-push', 'github-token': 'ghs_faketoken000000000000' }),
        {
          event,
          env: { GITHUB_API_URL: github.url }
        }
      )
      expect(run.exitCode).toBe(0)
      expect(cancelRequests()).toHaveLength(0)
      expect(run.summary).toMatch(
        /Nothing cancelled: cannot tell whether the pull request was force-pushed: GitHub compare .* failed: HTTP 404/
      )
    })

    it('takes the job token from GITHUB_TOKEN when github-token is absent, as on local runners', async () => {
      seed()
      github.compare.set(compareKey, { status: 'diverged' })
      const run = await runAction(inputs({ 'cancel-superseded': 'force-push' }), {
        event,
        env: { GITHUB_API_URL: github.url, GITHUB_TOKEN: 'ghs_fromenvironment00000000' }
      })
      expect(run.exitCode).toBe(0)
      expect(github.requests[0]?.headers.authorization).toMatch(/ghs_fromenvironment00000000$/)
      expect(JSON.parse(run.outputs.cancelled!).length).toBeGreaterThan(0)
      expect(run.stdout).toContain('::add-mask::ghs_fromenvironment00000000')
      expectNoKey(run, 'ghs_fromenvironment00000000')
    })

    it('cancels on every synchronize under new-commit, dated by updated_at when the commit is unknown', async () => {
      seed()
      github.commits.set(commitKey, 404)
      const run = await runAction(
        inputs({ 'cancel-superseded': 'new-commit', 'github-token': 'ghs_faketoken000000000000' }),
        {
          event,
          env: { GITHUB_API_URL: github.url }
        }
      )
      expect(run.exitCode).toBe(0)
      expect(JSON.parse(run.outputs.cancelled!).sort()).toEqual([
        fakeId('run', 1),
        fakeId('run', 2),
        fakeId('run', 5)
      ])
    })
  })
})

describe('requests', () => {
  /**
   * each request the fake served, as `METHOD what`: listings, evaluator listings, results by
   * grade, anything else
   */
  const asked = () =>
    api.requests.map(r =>
      r.path.endsWith('/results')
        ? `GET results ${r.query.get('grade')} ${r.path.split('/')[5]}`
        : r.method === 'GET' && r.path.endsWith('/evaluations')
          ? 'GET listing'
          : r.method === 'GET' && r.path.endsWith('/evaluators')
            ? 'GET evaluators'
            : `${r.method} ${r.path}`
    )

  it('asks only for what the report shows: a report-only run over the sample workspace', async () => {
    const prompts = sampleWorkspace(Date.now())
    for (const { promptId, evaluations, options } of prompts)
      api.addPrompt(promptId, evaluations, options)
    const run = await runAction(
      inputs({ 'prompt-id': prompts.map(p => p.promptId).join(','), policy: 'scope: all' })
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs['listed-count']).toBe('12')
    // one listing per prompt, and one of its evaluators for their names; rows for the 5 evaluations with the most failing runs (7, 5, 4, 3
    // and 2 of them), their failing rows filling less than a section, so their unknown ones too
    // where they have any: 9 requests for rows, where every evaluation's rows took 15
    const [triage, replies] = prompts.map(p => p.evaluations.map(e => e.runId))
    const rows = [triage![3], replies![1], triage![0], triage![1], triage![5]]
    expect(asked().sort()).toEqual(
      [
        'GET listing',
        'GET listing',
        'GET evaluators',
        'GET evaluators',
        ...rows.map(runId => `GET results fail ${runId}`),
        ...[triage![3], triage![0], triage![1], triage![5]].map(
          runId => `GET results unknown ${runId}`
        )
      ].sort()
    )
    // five sections of rows, and the details of the IDs
    expect(run.summary.match(/<details>/g)).toHaveLength(6)
    expect(run.summary).toContain(
      '… and 5 more evaluations with failing or unknown rows not shown.'
    )
  })

  it('asks for no rows when no judged evaluation has failing or unknown runs', async () => {
    const prompts = sampleWorkspace(Date.now())
    for (const { promptId, evaluations, options } of prompts)
      api.addPrompt(promptId, evaluations, options)
    // scope latest judges each evaluator's newest: queued, without runs
    const run = await runAction(inputs({ 'prompt-id': prompts.map(p => p.promptId).join(',') }))
    expect(run.exitCode).toBe(0)
    expect(asked().sort()).toEqual([
      'GET evaluators',
      'GET evaluators',
      'GET listing',
      'GET listing'
    ])
  })
})

describe('an event payload that cannot be read', () => {
  const missing = { GITHUB_EVENT_PATH: '/nonexistent/event.json' }

  it('does not stop a run that needs no event', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    const run = await runAction(inputs({ policy: 'max-fail-runs: 5' }), {
      event: { name: 'push', payload: {} },
      env: missing
    })
    expect(run.exitCode).toBe(0)
    expect(run.outputs.gate).toBe('passed')
  })

  it('cancels nothing and says why', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, status: 'running', submittedAt: PUSH_TIME - HOUR })
    ])
    const run = await runAction(inputs({ 'cancel-superseded': 'new-commit' }), {
      event: { name: 'push', payload: {} },
      env: missing
    })
    expect(run.exitCode).toBe(0)
    expect(cancelRequests()).toHaveLength(0)
    expect(run.summary).toContain(
      'Nothing cancelled: the event payload at GITHUB_EVENT_PATH (/nonexistent/event.json) cannot be read'
    )
  })
})

describe('bad inputs', () => {
  it.each([
    [{ 'prompt-id': '' }, 'prompt-id'],
    [{ 'prompt-id': 'short' }, 'prompt-id'],
    [{ 'api-key': '' }, 'api-key'],
    [{ status: 'done' }, 'status'],
    [{ policy: 'max-fials: 0' }, 'policy'],
    [{ 'cancel-superseded': 'yes' }, 'cancel-superseded'],
    [{ 'created-after': 'last week' }, 'created-after'],
    [{ 'base-url': 'http://api.example.com/v2' }, 'base-url']
  ])('ends before any request with one error naming the input: %j', async (bad, input) => {
    const run = await runAction(inputs(bad))
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([expect.stringContaining(`Input ${input} `)])
    expect(api.requests).toHaveLength(0)
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /)
  })
})

describe('the job summary when there is no verdict', () => {
  it('says so with the error, for an API error and for a bad input alike', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    api.inject({ path: `/v2/prompts/${PROMPT}/evaluations`, status: 403, times: Infinity })
    const refused = await runAction(inputs({ policy: 'max-fail-runs: 0' }))
    expect(refused.exitCode).toBe(1)
    expect(refused.summary).toMatch(/^## ⚠️ Adaline evals: no verdict\n/)
    expect(refused.summary).toContain(
      `**The run ended with an error**, so there is no verdict for this commit: GET /prompts/${PROMPT}/evaluations answered 403`
    )
    const bad = await runAction(inputs({ status: 'done' }))
    expect(bad.summary).toMatch(/^## ⚠️ Adaline evals: no verdict\n/)
    expect(bad.summary).toContain('Input status ')
    expect(bad.errors).toHaveLength(1)
  })

  it('that cannot be written is a warning: the verdict, outputs and exit status stand', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, fail: 0 })])
    const dir = await mkdtemp(join(tmpdir(), 'adaline-evals-summary-'))
    try {
      // a folder where the summary file should be
      const run = await runAction(inputs({ policy: 'max-fail-runs: 0' }), {
        env: { GITHUB_STEP_SUMMARY: dir }
      })
      expect(run.exitCode).toBe(0)
      expect(run.errors).toEqual([])
      expect(run.outputs.gate).toBe('passed')
      expect(run.stdout).toMatch(
        /^::warning::Cannot write the job summary to GITHUB_STEP_SUMMARY \(EISDIR\); it follows in the log\.$/m
      )
      expect(run.stdout).toContain('## ✅ Adaline evals passed')
      expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('secrets and hostile answers', () => {
  it('masks the key first and never prints it, even when the API echoes it', async () => {
    api.addPrompt(PROMPT, [])
    api.inject({
      method: 'GET',
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: `bad key ${api.apiKey}` } }
    })
    const run = await runAction(inputs())
    expect(run.stdout.split('\n')[0]).toBe(`::add-mask::${api.apiKey}`)
    expect(run.exitCode).toBe(1)
    expect(run.errors[0]).toContain('bad key ***')
    expectNoKey(run)
  })

  it('keeps the key out of log lines that carry API text, such as a refused cancel', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, status: 'running', submittedAt: PUSH_TIME - HOUR })
    ])
    api.inject({
      method: 'POST',
      path: fakeId('run', 1),
      status: 409,
      body: { error: { code: 'CONFLICT', message: `key ${api.apiKey} may not cancel this` } }
    })
    const run = await runAction(inputs({ 'cancel-superseded': 'force-push' }), {
      event: pushEvent()
    })
    // the evaluation still runs: a warning as it happens, and the step's one error after the report
    expect(run.exitCode).toBe(1)
    expect(run.stdout).toMatch(/::warning::Could not cancel .*key \*\*\* may not cancel this/)
    expect(run.errors).toEqual([expect.stringContaining('key *** may not cancel this')])
    expectNoKey(run)
  })

  it('never lets API text in the log become a workflow command', async () => {
    const runId = `run_0000000001\n::error::injected by the API\n##[error]old form`
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, runId, status: 'running', submittedAt: PUSH_TIME - HOUR })
    ])
    const run = await runAction(inputs({ 'cancel-superseded': 'force-push', 'dry-run': 'true' }), {
      event: pushEvent()
    })
    expect(run.exitCode).toBe(0)
    const lines = run.stdout.split('\n')
    expect(lines.filter(line => /^\s*::error::/.test(line))).toEqual([])
    expect(lines.filter(line => line.includes('##['))).toEqual([])
    expect(run.stdout).toContain('would cancel run_0000000001 ⏎ ::error::injected by the API ⏎ #')
  })

  it('keeps an echoed key out of the summary even where escaping or cutting would change it', async () => {
    // "-_" is escaped (&#95;), so a key redacted after escaping would no longer match
    const key = 'adl-live-_Q7x9K2mP4vR8sT1wY6zB3nC5'
    await api.close()
    api = await FakeAdaline.start({ apiKey: key })
    const evaluation = makeEvaluation({ n: 1, fail: 2 })
    api.addPrompt(PROMPT, [evaluation])
    api.setResults(PROMPT, evaluation.runId, [
      { id: 'res_1', rowId: 'row_1', grade: 'fail', reason: `key was ${key}` },
      // a cell is cut at 160 characters: the key would be cut, and no longer match, after it
      { id: 'res_2', rowId: 'row_2', grade: 'fail', reason: `${'x'.repeat(130)}${key}` }
    ])
    const run = await runAction({ ...inputs(), 'api-key': key })
    expect(run.exitCode).toBe(0)
    expect(run.summary).toContain('key was &#42;&#42;&#42;')
    // the mask commands (the key and its other forms) are read by the runner, never shown
    const texts = [run.stdout.replace(/^::add-mask::.*$/gm, ''), run.stderr, run.summary]
    for (const text of [...texts, JSON.stringify(run.outputs)]) {
      for (let i = 0; i + 8 <= key.length; i += 1) {
        expect(text).not.toContain(key.slice(i, i + 8))
      }
    }
  })

  it('keeps the key out of outputs and summary on a good run', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    const run = await runAction(inputs({ policy: 'max-fail-runs: 100' }))
    expect(run.exitCode).toBe(0)
    expectNoKey(run)
  })

  it('escapes API text in the summary so it cannot inject Markdown or HTML', async () => {
    const hostile = '<img src=x onerror=alert(1)>[pwn](https://evil.example)|'
    // the run ID lands in a failing-rows <summary> line, inside an HTML block
    const hostileRun = '<img src=https://evil.example/p.png>'
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, evaluatorId: hostile }),
      makeEvaluation({ n: 2, runId: hostileRun, evaluatorId: fakeId('evl', 2), fail: 2 })
    ])
    // and an evaluator title, which names the evaluation in the table and the row sections
    api.setEvaluators(PROMPT, [{ id: hostile }, { id: fakeId('evl', 2), title: `**${hostile}**` }])
    const run = await runAction(
      inputs({ policy: 'scope: all', 'evaluation-url': 'https://app.example/{runId}' })
    )
    expect(run.exitCode).toBe(0)
    // no tag, and no link but the template's
    expect(run.summary).not.toMatch(/<img|\]\((?!https:\/\/app\.example\/)|https:\/\/evil/)
    expect(run.summary).toContain(
      '&#60;img src=x onerror=alert(1)&#62;&#91;pwn&#93;(https&#58;//evil.example)&#124;'
    )
    // escaped, and a zero-width break (U+200B) after 32 characters with no space, entities
    // counted whole, so one long word cannot widen a table
    const title =
      '&#42;&#42;&#60;img src=x onerror=alert(1)&#62;&#91;pwn&#93;(https&#58;//e\u200bvil.example)&#124;&#42;&#42;'
    // the run ID URL-encoded in the link; the title escaped in its text, cut first in the table
    expect(run.summary).toContain(
      '| [&#42;&#42;&#60;img src=x onerror=alert(1)&#62;&#91;pwn&#93;(https&#58;//e\u200bvi…](https://app.example/%3Cimg%20src%3Dhttps%3A%2F%2Fevil.example%2Fp.png%3E) | completed |'
    )
    expect(run.summary).toContain(
      `<summary>${title} (&#60;img src=https&#58;//evil.example/p.png&#62;): 2 fail`
    )
  })
})

describe('the report a reviewer reads', () => {
  const HEAD = 'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678'
  const runner = {
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_REPOSITORY: 'acme/support-bot',
    GITHUB_RUN_ID: '987654',
    GITHUB_RUN_ATTEMPT: '2',
    // on pull_request, the merge commit: the report names the head commit instead
    GITHUB_SHA: 'ffffffffffffffffffffffffffffffffffffffff'
  }

  it('names each evaluation by its evaluator and links it, the pull request head commit and the workflow run', async () => {
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, evaluatorId: EVALUATOR }),
      makeEvaluation({ n: 2, evaluatorId: EVALUATOR_2 })
    ])
    api.setEvaluators(PROMPT, [
      { id: EVALUATOR, title: 'Grounded in the retrieved context' },
      { id: EVALUATOR_2, title: 'Answers in valid JSON' }
    ])
    const run = await runAction(
      inputs({
        policy: 'max-fail-runs: 5',
        'evaluation-url': 'https://app.adaline.ai/prompts/{promptId}/evaluations/{runId}'
      }),
      {
        event: {
          name: 'pull_request',
          payload: { number: 7, pull_request: { head: { sha: HEAD } } }
        },
        env: runner
      }
    )
    expect(run.exitCode).toBe(0)
    const lines = run.summary.split('\n')
    expect(lines[0]).toBe('## ✅ Adaline evals passed')
    expect(lines[2]).toBe(
      `Commit [\`a1b2c3d\`](https://github.com/acme/support-bot/commit/${HEAD}) · [workflow run](https://github.com/acme/support-bot/actions/runs/987654/attempts/2)`
    )
    expect(run.summary).toContain(
      `| [Grounded in the retrieved context](https://app.adaline.ai/prompts/${PROMPT}/evaluations/${fakeId('run', 1)}) | completed |`
    )
    expect(run.summary).toContain(
      `| [Answers in valid JSON](https://app.adaline.ai/prompts/${PROMPT}/evaluations/${fakeId('run', 2)}) | completed |`
    )
    expect(run.stdout).toContain(
      'Evaluator names: 2 of 2 evaluators named from 1 page of evaluators (1 prompt)'
    )
    expect(api.requests.filter(r => r.path.endsWith('/evaluators'))).toHaveLength(1)
  })

  it('links GITHUB_SHA on other events, and keeps the IDs with a warning when the evaluators cannot be listed', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1, evaluatorId: EVALUATOR })])
    api.inject({ path: /\/evaluators$/, status: 403, times: Infinity })
    const run = await runAction(inputs({ policy: 'max-fail-runs: 5' }), { env: runner })
    expect(run.exitCode).toBe(0)
    expect(run.summary.split('\n')[2]).toMatch(
      /^Commit \[`fffffff`\]\(https:\/\/github\.com\/acme\/support-bot\/commit\/f{40}\) · /
    )
    expect(run.stdout).toMatch(
      new RegExp(
        `::warning::Could not list the evaluators of prompt ${PROMPT}; the report names its evaluations by evaluator ID: GET /prompts/${PROMPT}/evaluators answered 403`
      )
    )
    expect(run.summary).toMatch(new RegExp(`^\\| ${EVALUATOR} \\| completed \\|`, 'm'))
    expect(run.stdout).toContain('Evaluator names: 0 of 1 evaluator named')
  })

  it('refuses an evaluation-url with an unknown placeholder, naming the input', async () => {
    const run = await runAction(
      inputs({ 'evaluation-url': 'https://app.adaline.ai/{workspace}/{runId}' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      'Input evaluation-url has "{workspace}", which is not a placeholder; accepted: {promptId}, {runId}, {evaluatorId}'
    ])
    expect(api.requests).toEqual([])
  })
})

describe("the README's quick start", () => {
  /** The inputs of the quick start's step, with the fake's key, prompt and address. */
  function quickStart(): Record<string, string> {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
    const section = readme.split('\n## Quick start\n')[1]!.split('\n## ')[0]!
    const yaml = /```yaml\n([\s\S]*?)```/.exec(section)![1]!
    const [step] = parse(yaml) as { uses: string; with: Record<string, string> }[]
    expect(step!.uses).toMatch(/adaline-evals@/)
    return { ...step!.with, 'api-key': api.apiKey, 'prompt-id': PROMPT, 'base-url': api.url }
  }

  beforeEach(() => {
    // the newest evaluation is still running, with a failing run so far; the one before passed
    api.addPrompt(PROMPT, [
      makeEvaluation({ n: 1, status: 'completed', fail: 0, unknown: 0 }),
      makeEvaluation({ n: 2, status: 'running' })
    ])
  })

  it('passes on the newest finished evaluation while a newer one still runs', async () => {
    const run = await runAction(quickStart())
    expect(run.exitCode).toBe(0)
    expect(run.outputs.gate).toBe('passed')
    expect(run.summary).toContain(`: run ${fakeId('run', 1)} · `)
  })

  it('without status, fails on the running one and says how to judge the finished one or wait', async () => {
    const { status, ...inputs } = quickStart()
    expect(status).toBe('completed')
    const run = await runAction(inputs)
    expect(run.exitCode).toBe(1)
    // (and its failing run so far breaks max-fail-runs)
    expect(run.errors).toContain(
      `1 judged evaluation not in allow-status [completed]: ${fakeId('run', 2)} is still running (40%). To judge the newest finished evaluation instead, set status: completed; to wait for this one, set wait (e.g. wait: 30m)`
    )
  })

  it('the command says the same with its flags: --status completed, --wait 30m', async () => {
    const { policy } = quickStart()
    const run = await runCommand(
      ['--prompt-id', PROMPT, '--base-url', api.url, '--policy', policy!, '--format', 'json'],
      { env: { ADALINE_API_KEY: api.apiKey } }
    )
    expect(run.exitCode).toBe(1)
    const report = JSON.parse(run.stdout) as { broken: { message: string }[] }
    const messages = report.broken.map(b => b.message)
    expect(messages).toContain(
      `1 judged evaluation not in allow-status [completed]: ${fakeId('run', 2)} is still running (40%). To judge the newest finished evaluation instead, pass --status completed; to wait for this one, pass --wait (e.g. --wait 30m)`
    )
    expect(messages.join('\n')).not.toMatch(/status: |wait: /)
  })
})

/**
 * End to end: start, wait, explain. The bundled dist/index.js, run as the runner runs it, against
 * the fake Adaline API whose started evaluations move through their lifecycle on the real clock,
 * and a fake GitHub API for the pull request comment.
 */
import type { Evaluation } from '../../src/adaline/schema.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { FakeGitHub } from '../../test-support/fake-github.js'
import { runAction, type ActionRun } from '../../test-support/run-action.js'

const PROMPT = fakeId('prm', 1)
const PROMPT_2 = fakeId('prm', 2)
const EVALUATOR = fakeId('evl', 1)
const DATASET = fakeId('dst', 1)
const HOUR = 3_600_000
const CREATE_PATH = /^\/v2\/prompts\/[^/]+\/evaluations$/

let api: FakeAdaline

afterEach(async () => {
  await api.close()
})

function inputs(extra: Record<string, string> = {}): Record<string, string> {
  return { 'api-key': api.apiKey, 'prompt-id': PROMPT, 'base-url': api.url, ...extra }
}

const creates = () => api.requests.filter(r => r.method === 'POST' && CREATE_PATH.test(r.path))
const cancels = () => api.requests.filter(r => r.method === 'POST' && r.path.endsWith('/cancel'))
/** An ID as the summary writes it, Markdown-escaped. */
const newest = (promptId: string): Evaluation =>
  api.evaluations(promptId).sort((a, b) => b.timeline.submittedAt - a.timeline.submittedAt)[0]!

/** A completed evaluation submitted `hoursAgo`, with these runs. */
function completed(n: number, hoursAgo: number, pass: number, fail: number, unknown = 0) {
  const submittedAt = Date.now() - hoursAgo * HOUR
  return makeEvaluation({
    n,
    evaluatorId: EVALUATOR,
    datasetId: DATASET,
    status: 'completed',
    pass,
    fail,
    unknown,
    progress: { totalRows: pass + fail + unknown },
    timeline: { submittedAt, startedAt: submittedAt + 1_000, finishedAt: submittedAt + 60_000 }
  })
}

describe('start and wait', () => {
  it('starts one evaluation per prompt, shows progress while waiting, and judges exactly those', async () => {
    // 20 rows of 150 ms: still running at the first poll (~2 s), done by the second
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 300, rowMs: 150, totalRows: 20 } })
    api.addPrompt(PROMPT, [completed(1, 24, 19, 1)])
    api.addPrompt(PROMPT_2, [completed(2, 24, 20, 0)])
    const run = await runAction(
      inputs({
        'prompt-id': `${PROMPT}\n${PROMPT_2}`,
        'evaluator-id': EVALUATOR,
        start: 'true',
        wait: '2m',
        policy: 'max-fail-runs: 10\nmin-pass-rate: 50%'
      })
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs.gate).toBe('passed')

    // one start per prompt, with the evaluator asked for
    expect(creates()).toHaveLength(2)
    for (const request of creates())
      expect(JSON.parse(request.body)).toEqual({ evaluatorId: EVALUATOR })
    const started = [newest(PROMPT), newest(PROMPT_2)]
    expect(JSON.parse(run.outputs.started!).sort()).toEqual(started.map(e => e.runId).sort())

    // the judged set is the started evaluations, as they finished
    const judged = JSON.parse(run.outputs.evaluations!) as Evaluation[]
    expect(judged.map(e => e.runId).sort()).toEqual(started.map(e => e.runId).sort())
    expect(judged.every(e => e.status === 'completed')).toBe(true)
    expect(run.outputs['evaluation-count']).toBe('2')
    const sum = (key: 'passRuns' | 'failRuns' | 'unknownRuns') =>
      String(started.reduce((total, e) => total + e.metrics[key], 0))
    expect(run.outputs['pass-runs']).toBe(sum('passRuns'))
    expect(run.outputs['fail-runs']).toBe(sum('failRuns'))
    expect(run.outputs['unknown-runs']).toBe(sum('unknownRuns'))

    // a progress line when each started, one while running, and one when done
    for (const { runId } of started) {
      const lines = run.stdout.split('\n').filter(line => line.startsWith(`${runId} [`))
      expect(lines[0]).toMatch(/ 0% 0\/20 rows · queued · /)
      expect(lines.some(line => / running · /.test(line))).toBe(true)
      expect(lines.at(-1)).toMatch(/\[█{20}\] 100% \d+\/20 rows(, 1 failed)? · completed · \d/)
    }
    expect(run.stdout).toMatch(/::group::Waiting up to 2\.0 min for 2 evaluations to finish/)
    // then one group per evaluation with its own progress lines, and only those
    for (const [i, { runId }] of started.entries()) {
      const title = `::group::Progress of ${runId} (prompt ${[PROMPT, PROMPT_2][i]}): completed`
      const opened = run.stdout.indexOf(`${title}\n`)
      expect(opened).toBeGreaterThan(run.stdout.indexOf('::group::Waiting up to'))
      const body = run.stdout.slice(
        opened + title.length + 1,
        run.stdout.indexOf('::endgroup::', opened)
      )
      const lines = body.trimEnd().split('\n')
      expect(lines.length).toBeGreaterThanOrEqual(3)
      expect(lines.every(line => line.startsWith(`${runId} [`))).toBe(true)
      expect(lines.at(-1)).toMatch(/ 100% .* · completed · /)
    }

    // the summary: started ones judged, each against the completed evaluation before it
    expect(run.summary).toContain('### Judged evaluations (started by this run)')
    expect(run.summary).toContain('| Δ baseline |')
    for (const [n, { runId }] of started.entries()) {
      const line = run.summary.split('\n').find(l => l.includes(`: run ${runId} · `))
      expect(line).toContain(` · baseline ${fakeId('run', n + 1)} (`)
    }
  }, 60_000)

  it('fails the gate on timeout, naming what is still running and for how long', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 200, rowMs: 60_000, totalRows: 20 } })
    api.addPrompt(PROMPT)
    const run = await runAction(inputs({ start: 'true', wait: '3s', policy: 'max-fail-runs: 0' }))
    const { runId } = newest(PROMPT)
    expect(run.exitCode).toBe(1)
    expect(run.outputs.gate).toBe('failed')
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^1 judged evaluation not in allow-status \\[completed\\]: ${runId} is still running \\(0%\\) after waiting [34]\\.\\d s\\. To judge the newest finished evaluation instead, set status: completed; to give it more time, set a longer wait$`
        )
      )
    ])
    expect(run.summary).toContain(`${runId} is still running`)
    expect(run.summary).toMatch(/ \| running 0% \| /)
    // what this run started is left to run: the step ended on its own, not by an abort
    expect(cancels()).toEqual([])
  }, 60_000)

  it('fails the gate on timeout even when the policy sets no rules', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    const run = await runAction(inputs({ start: 'true', wait: '1s' }))
    const { runId } = newest(PROMPT)
    expect(run.exitCode).toBe(1)
    expect(run.outputs.gate).toBe('failed')
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^1 judged evaluation not in allow-status \\[completed\\]: ${runId} is still queued \\(0%\\) after waiting 1\\.\\d s\\. To judge the newest finished evaluation instead, set status: completed; to give it more time, set a longer wait$`
        )
      )
    ])
    expect(run.summary).toContain('## ❌ Adaline evals failed')
  }, 60_000)

  it('passes a timed-out evaluation when allow-status lets its status through', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    const run = await runAction(
      inputs({ start: 'true', wait: '1s', policy: 'allow-status: [completed, queued]' })
    )
    expect(run.exitCode).toBe(0)
    expect(run.outputs.gate).toBe('passed')
  }, 60_000)

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'cancels exactly the evaluations it started when %s arrives during the wait, within 5 s',
    async signal => {
      api = await FakeAdaline.start({ lifecycle: { queuedMs: 200, rowMs: 60_000 } })
      // in flight but not started by this run: never cancelled by the abort
      const other = makeEvaluation({ n: 7, evaluatorId: EVALUATOR, status: 'running' })
      api.addPrompt(PROMPT, [other])
      let signalledAt = 0
      const run = await runAction(inputs({ start: 'true', wait: '10m' }), {
        onStart: child => {
          const poll = setInterval(() => {
            // the wait has begun once the started evaluation is polled
            if (api.requests.some(r => r.method === 'GET' && /\/evaluations\/run_/.test(r.path))) {
              clearInterval(poll)
              signalledAt = Date.now()
              child.kill(signal)
            }
          }, 20)
        }
      })
      const endedAt = Date.now()
      const started = newest(PROMPT)
      expect(signalledAt).toBeGreaterThan(0)
      expect(endedAt - signalledAt).toBeLessThan(5_000)
      expect(run.exitCode).toBe(1)
      expect(cancels().map(r => r.path)).toEqual([
        `/v2/prompts/${PROMPT}/evaluations/${started.runId}/cancel`
      ])
      expect(['cancelling', 'cancelled']).toContain(started.status)
      expect(api.evaluations(PROMPT).find(e => e.runId === other.runId)?.status).toBe('running')
      expect(run.errors).toEqual([
        `Stopped by ${signal} before the step finished: no verdict was reached. Cancelled 1 evaluation this run started: ${started.runId}. Cancels already accepted stay in effect.`
      ])
      // a later step (if: cancelled()) can still find what was started
      expect(run.outputs.started).toBe(JSON.stringify([started.runId]))
    },
    60_000
  )

  it('cancels what it started on SIGINT within 5 s even while every poll is throttled', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 200, rowMs: 60_000 } })
    const prompts = [PROMPT, PROMPT_2, fakeId('prm', 3)]
    for (const promptId of prompts) api.addPrompt(promptId)
    // every poll meets a 429 asking for 10 s: the transport sleeps it out, holding its slot
    api.inject({
      method: 'GET',
      path: /\/evaluations\/run_[^/]+$/,
      status: 429,
      headers: { 'retry-after': '10' },
      times: Infinity
    })
    let signalledAt = 0
    const run = await runAction(
      inputs({ 'prompt-id': prompts.join(','), start: 'true', wait: '10m' }),
      {
        onStart: child => {
          const poll = setInterval(() => {
            // each started evaluation's first poll was throttled: the run's limit is down to 1
            if (api.requests.filter(r => r.status === 429).length >= prompts.length) {
              clearInterval(poll)
              signalledAt = Date.now()
              child.kill('SIGINT')
            }
          }, 20)
        }
      }
    )
    const endedAt = Date.now()
    expect(signalledAt).toBeGreaterThan(0)
    expect(endedAt - signalledAt).toBeLessThan(5_000)
    expect(run.exitCode).toBe(1)
    const startedIds = prompts.map(promptId => newest(promptId).runId)
    expect(
      cancels()
        .map(r => r.path)
        .sort()
    ).toEqual(
      prompts
        .map((promptId, i) => `/v2/prompts/${promptId}/evaluations/${startedIds[i]}/cancel`)
        .sort()
    )
    expect(run.errors).toEqual([
      expect.stringMatching(/^Stopped by SIGINT .*Cancelled 3 evaluations this run started: /)
    ])
  }, 60_000)

  it('sends no cancel on abort to a started evaluation the wait saw finish', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 200, rowMs: 60_000 } })
    api.addPrompt(PROMPT, [], { lifecycle: { queuedMs: 0, rowMs: 10, totalRows: 5 } })
    api.addPrompt(PROMPT_2)
    const run = await runAction(
      inputs({ 'prompt-id': `${PROMPT},${PROMPT_2}`, start: 'true', wait: '10m' }),
      {
        onStart: child => {
          const poll = setInterval(() => {
            // the second poll round asks only for the one still running: the first was seen done
            const polls = api.requests.filter(
              r =>
                r.method === 'GET' && r.path.startsWith(`/v2/prompts/${PROMPT_2}/evaluations/run_`)
            )
            if (polls.length >= 2) {
              clearInterval(poll)
              child.kill('SIGINT')
            }
          }, 20)
        }
      }
    )
    expect(run.exitCode).toBe(1)
    expect(newest(PROMPT).status).toBe('completed')
    expect(cancels().map(r => r.path)).toEqual([
      `/v2/prompts/${PROMPT_2}/evaluations/${newest(PROMPT_2).runId}/cancel`
    ])
    expect(run.stdout).not.toMatch(/::warning::Could not cancel/)
  }, 60_000)

  it('cancels nothing on abort with cancel-on-abort: false', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    const run = await runAction(
      inputs({ start: 'true', wait: '10m', 'cancel-on-abort': 'false' }),
      {
        onStart: child => {
          const poll = setInterval(() => {
            if (creates().some(r => r.status === 202)) {
              clearInterval(poll)
              child.kill('SIGINT')
            }
          }, 20)
        }
      }
    )
    expect(run.exitCode).toBe(1)
    expect(cancels()).toEqual([])
    expect(newest(PROMPT).status).toBe('queued')
  }, 60_000)

  it('does not start a second evaluation when the answer to the start was lost', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 0, rowMs: 10, totalRows: 5 } })
    api.addPrompt(PROMPT, [completed(1, 24, 5, 0)])
    // the start goes through, then the connection drops before the answer arrives
    api.inject({ method: 'POST', path: CREATE_PATH, dropAnswer: true })
    const run = await runAction(inputs({ start: 'true', wait: '1m' }))
    expect(run.exitCode).toBe(0)
    expect(creates()).toHaveLength(1)
    expect(api.evaluations(PROMPT)).toHaveLength(2)
    expect(JSON.parse(run.outputs.started!)).toEqual([newest(PROMPT).runId])
    expect(run.stdout).toMatch(/checking the listing before trying again/)
    expect(run.stdout).toMatch(/is new since the attempt: using it/)
  }, 60_000)

  it.each([
    ['hours ahead of', 5 * HOUR],
    ['a day behind', -24 * HOUR]
  ])(
    'takes the start whose answer was lost, and starts no second, when Adaline’s clock is %s the runner’s',
    async (_, offsetMs) => {
      api = await FakeAdaline.start({
        now: () => Date.now() + offsetMs,
        lifecycle: { queuedMs: 0, rowMs: 10, totalRows: 5 }
      })
      api.addPrompt(PROMPT)
      api.inject({ method: 'POST', path: CREATE_PATH, dropAnswer: true })
      const run = await runAction(inputs({ start: 'true', wait: '1m' }))
      expect(creates()).toHaveLength(1)
      expect(api.evaluations(PROMPT)).toHaveLength(1)
      expect(run.exitCode).toBe(0)
      expect(JSON.parse(run.outputs.started!)).toEqual([newest(PROMPT).runId])
      expect(run.stdout).toMatch(/is new since the attempt: using it/)
    },
    60_000
  )

  it('leaves an adopted evaluation running on SIGINT: it may be another run’s', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 200, rowMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.inject({ method: 'POST', path: CREATE_PATH, dropAnswer: true })
    const run = await runAction(inputs({ start: 'true', wait: '10m' }), {
      onStart: child => {
        const poll = setInterval(() => {
          if (api.requests.some(r => r.method === 'GET' && /\/evaluations\/run_/.test(r.path))) {
            clearInterval(poll)
            child.kill('SIGINT')
          }
        }, 20)
      }
    })
    const adopted = newest(PROMPT)
    expect(run.exitCode).toBe(1)
    expect(cancels()).toEqual([])
    expect(['queued', 'running']).toContain(adopted.status)
    // never cancelled, always named
    expect(run.errors).toEqual([
      `Stopped by SIGINT before the step finished: no verdict was reached. Not cancelled, as taken from the listing after a lost answer (it may be another run's): ${adopted.runId}. Cancels already accepted stay in effect.`
    ])
    expect(JSON.parse(run.outputs.started!)).toEqual([adopted.runId])
  }, 60_000)

  it('starts again when the listing shows the failed start never went through', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 0, rowMs: 10, totalRows: 5 } })
    api.addPrompt(PROMPT)
    // reset before the fake serves it: nothing was started
    api.inject({ method: 'POST', path: CREATE_PATH, reset: true })
    const run = await runAction(inputs({ start: 'true' }))
    expect(run.exitCode).toBe(0)
    expect(creates()).toHaveLength(2)
    expect(api.evaluations(PROMPT)).toHaveLength(1)
    expect(JSON.parse(run.outputs.started!)).toEqual([newest(PROMPT).runId])
  }, 60_000)

  // what keeps it out is the note taken before the POST; start.test.ts covers the other rules
  it('does not adopt another run’s evaluation from before a failed start (here, one being cancelled)', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 0, rowMs: 10, totalRows: 5 } })
    // another run started this prompt 40 s ago, within the clock-skew window, and it is being cancelled
    const submittedAt = Date.now() - 40_000
    const other = makeEvaluation({
      n: 7,
      evaluatorId: EVALUATOR,
      status: 'cancelling',
      timeline: { submittedAt, startedAt: submittedAt + 1_000, finishedAt: null }
    })
    api.addPrompt(PROMPT, [other])
    // our start is reset before the fake serves it: nothing of ours was started
    api.inject({ method: 'POST', path: CREATE_PATH, reset: true })
    const run = await runAction(inputs({ start: 'true', 'evaluator-id': EVALUATOR }))
    expect(run.exitCode).toBe(0)
    expect(creates()).toHaveLength(2)
    const ours = newest(PROMPT)
    expect(ours.runId).not.toBe(other.runId)
    expect(JSON.parse(run.outputs.started!)).toEqual([ours.runId])
    expect(run.stdout).not.toContain(`Evaluation ${other.runId} is new since the attempt`)
  }, 60_000)

  it('cancels what it started and still names it when a poll fails for good (401)', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 200, rowMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.inject({ method: 'GET', path: /\/evaluations\/run_[^/]+$/, status: 401 })
    const run = await runAction(inputs({ start: 'true', wait: '10m' }))
    const started = newest(PROMPT)
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(`^GET /prompts/${PROMPT}/evaluations/${started.runId} answered 401 `)
      )
    ])
    expect(JSON.parse(run.outputs.started!)).toEqual([started.runId])
    expect(cancels().map(r => r.path)).toEqual([
      `/v2/prompts/${PROMPT}/evaluations/${started.runId}/cancel`
    ])
    expect(['cancelling', 'cancelled']).toContain(started.status)
    expect(run.stdout).toContain(
      `::warning::The run ended with an error, so the evaluation it started was cancelled (cancel-on-abort): ${started.runId}.`
    )
  }, 60_000)

  it('cancels and names the starts that went through when another prompt’s start is refused', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 200, rowMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.addPrompt(PROMPT_2)
    api.inject({
      method: 'POST',
      path: new RegExp(`^/v2/prompts/${PROMPT_2}/evaluations$`),
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: 'The prompt has no active evaluator.' } }
    })
    const run = await runAction(
      inputs({ 'prompt-id': `${PROMPT},${PROMPT_2}`, start: 'true', wait: '10m' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^POST /prompts/${PROMPT_2}/evaluations answered 400 BAD_REQUEST: The prompt has no active evaluator\\.`
        )
      )
    ])
    expect(api.evaluations(PROMPT_2)).toEqual([])
    const started = newest(PROMPT)
    expect(JSON.parse(run.outputs.started!)).toEqual([started.runId])
    expect(cancels().map(r => r.path)).toEqual([
      `/v2/prompts/${PROMPT}/evaluations/${started.runId}/cancel`
    ])
  }, 60_000)

  it('names but leaves running what it started when the run fails, with cancel-on-abort: false', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 200, rowMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.inject({ method: 'GET', path: /\/evaluations\/run_[^/]+$/, status: 404 })
    const run = await runAction(inputs({ start: 'true', wait: '10m', 'cancel-on-abort': 'false' }))
    expect(run.exitCode).toBe(1)
    expect(JSON.parse(run.outputs.started!)).toEqual([newest(PROMPT).runId])
    expect(cancels()).toEqual([])
  }, 60_000)

  it('ends with one error naming the endpoint and every attempt whose outcome stayed unknown, when starts keep failing', async () => {
    api = await FakeAdaline.start()
    api.addPrompt(PROMPT)
    api.inject({ method: 'POST', path: CREATE_PATH, reset: true, times: Infinity })
    const run = await runAction(inputs({ start: 'true' }))
    expect(run.exitCode).toBe(1)
    expect(api.evaluations(PROMPT)).toEqual([])
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^POST /prompts/${PROMPT}/evaluations .*Tried 3 times\\. An evaluation of prompt ${PROMPT} \\(every active evaluator, the evaluator's dataset\\) may have been started by this run at [-:.TZ\\d]+, [-:.TZ\\d]+, [-:.TZ\\d]+ and could not be confirmed: their answers were lost and the listing showed no evaluation from any of the 3\\. Look in Adaline for one submitted since [-:.TZ\\d]+ before starting another\\.$`
        )
      )
    ])
  }, 60_000)
})

describe('a signal while starting', () => {
  const LISTING = /^\/v2\/prompts\/[^/]+\/evaluations$/
  const lists = () => api.requests.filter(r => r.method === 'GET' && LISTING.test(r.path))
  /** the runner's SIGTERM comes 7.5 s after its SIGINT, and then the kill */
  const RUNNER_PATIENCE_MS = 7_500

  /** Runs the action with start and a long wait, sending `signal` once `when` holds. */
  async function startAndSignal(
    signal: NodeJS.Signals,
    when: () => boolean,
    extra: Record<string, string> = {}
  ): Promise<ActionRun & { signalledAt: number; endedAt: number }> {
    let signalledAt = 0
    const run = await runAction(inputs({ start: 'true', wait: '10m', ...extra }), {
      onStart: child => {
        const poll = setInterval(() => {
          if (when()) {
            clearInterval(poll)
            signalledAt = Date.now()
            child.kill(signal)
          }
        }, 10)
      }
    })
    expect(signalledAt).toBeGreaterThan(0)
    return { ...run, signalledAt, endedAt: Date.now() }
  }

  /** the start's POST has arrived and is not answered yet */
  const postUnanswered = () => creates().some(r => r.answeredAt === undefined)
  /** the listing that checks a lost answer (after the run's listing and the note) has arrived */
  const checkUnanswered = () => lists().length >= 3 && lists()[2]!.answeredAt === undefined

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s during the start POST, waits for its answer, then cancels and names what it created',
    async signal => {
      api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
      api.addPrompt(PROMPT)
      // the start takes effect on arrival; its answer comes 1.5 s later
      api.inject({ method: 'POST', path: CREATE_PATH, answerAfterMs: 1_500 })
      const run = await startAndSignal(signal, postUnanswered)
      const [created] = api.evaluations(PROMPT)
      expect(created).toBeDefined()
      expect(run.exitCode).toBe(1)
      expect(run.endedAt - run.signalledAt).toBeLessThan(RUNNER_PATIENCE_MS)
      expect(creates()).toHaveLength(1)
      expect(cancels().map(r => r.path)).toEqual([
        `/v2/prompts/${PROMPT}/evaluations/${created!.runId}/cancel`
      ])
      expect(['cancelling', 'cancelled']).toContain(created!.status)
      expect(run.errors).toEqual([
        `Stopped by ${signal} before the step finished: no verdict was reached. Cancelled 1 evaluation this run started: ${created!.runId}. Cancels already accepted stay in effect.`
      ])
      expect(JSON.parse(run.outputs.started!)).toEqual([created!.runId])
    },
    60_000
  )

  it('with cancel-on-abort: false, waits for the start POST’s answer and names what it created', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.inject({ method: 'POST', path: CREATE_PATH, answerAfterMs: 1_500 })
    const run = await startAndSignal('SIGTERM', postUnanswered, { 'cancel-on-abort': 'false' })
    const [created] = api.evaluations(PROMPT)
    expect(created!.status).toBe('queued')
    expect(cancels()).toEqual([])
    expect(run.errors).toEqual([
      `Stopped by SIGTERM before the step finished: no verdict was reached. Left running (cancel-on-abort is false): ${created!.runId}. Cancels already accepted stay in effect.`
    ])
    expect(JSON.parse(run.outputs.started!)).toEqual([created!.runId])
  }, 60_000)

  it('says a start was in flight with an unknown outcome when its answer does not come in time', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.inject({ method: 'POST', path: CREATE_PATH, answerAfterMs: 30_000 })
    const run = await startAndSignal('SIGINT', postUnanswered)
    const [created] = api.evaluations(PROMPT)
    // created, and never answered: the run cannot know its ID, but names the prompt and the time
    expect(created!.status).toBe('queued')
    expect(run.exitCode).toBe(1)
    expect(run.endedAt - run.signalledAt).toBeLessThan(RUNNER_PATIENCE_MS)
    expect(creates()).toHaveLength(1)
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Stopped by SIGINT before the step finished: no verdict was reached\\. A start of prompt ${PROMPT} \\(every active evaluator, the evaluator's dataset\\) was in flight and its outcome is unknown: check Adaline for an evaluation submitted since (\\S+)\\. Cancels already accepted stay in effect\\.$`
        )
      )
    ])
    const since = Date.parse(/submitted since (\S+)\./.exec(run.errors[0]!)![1]!)
    expect(since).toBeLessThanOrEqual(created!.timeline.submittedAt)
    expect(run.outputs.started).toBeUndefined()
  }, 60_000)

  it('on SIGTERM while a lost start is being checked, waits for the check and names what it found, uncancelled', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.inject({ method: 'POST', path: CREATE_PATH, dropAnswer: true })
    // the run's listing and the note before the POST pass; the check takes 1.5 s
    api.inject({ method: 'GET', path: LISTING, times: 2 })
    api.inject({ method: 'GET', path: LISTING, delayMs: 1_500 })
    const run = await startAndSignal('SIGTERM', checkUnanswered)
    const [created] = api.evaluations(PROMPT)
    expect(run.exitCode).toBe(1)
    expect(run.endedAt - run.signalledAt).toBeLessThan(RUNNER_PATIENCE_MS)
    expect(creates()).toHaveLength(1)
    // taken from the listing: it may be another run's, so never cancelled, but always named
    expect(cancels()).toEqual([])
    expect(created!.status).toBe('queued')
    expect(run.errors).toEqual([
      `Stopped by SIGTERM before the step finished: no verdict was reached. Not cancelled, as taken from the listing after a lost answer (it may be another run's): ${created!.runId}. Cancels already accepted stay in effect.`
    ])
    expect(JSON.parse(run.outputs.started!)).toEqual([created!.runId])
  }, 60_000)

  it('says a lost start was being checked with an unknown outcome when the check does not end in time', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.inject({ method: 'POST', path: CREATE_PATH, dropAnswer: true })
    api.inject({ method: 'GET', path: LISTING, times: 2 })
    api.inject({ method: 'GET', path: LISTING, delayMs: 30_000 })
    const run = await startAndSignal('SIGINT', checkUnanswered)
    const [created] = api.evaluations(PROMPT)
    expect(created!.status).toBe('queued')
    expect(run.endedAt - run.signalledAt).toBeLessThan(RUNNER_PATIENCE_MS)
    expect(creates()).toHaveLength(1)
    expect(run.errors).toEqual([
      expect.stringMatching(
        new RegExp(
          `^Stopped by SIGINT before the step finished: no verdict was reached\\. A start of prompt ${PROMPT} \\(every active evaluator, the evaluator's dataset\\) had lost its answer and was being checked and its outcome is unknown: check Adaline for an evaluation submitted since (\\S+)\\. Cancels already accepted stay in effect\\.$`
        )
      )
    ])
    const since = Date.parse(/submitted since (\S+)\./.exec(run.errors[0]!)![1]!)
    expect(since).toBeLessThanOrEqual(created!.timeline.submittedAt)
  }, 60_000)

  it('begins no start after a signal that came while listing', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    // the run's listing takes a while: the signal comes during it
    api.inject({ method: 'GET', path: LISTING, delayMs: 1_000 })
    const run = await startAndSignal('SIGTERM', () => lists().length > 0)
    expect(run.exitCode).toBe(1)
    expect(creates()).toEqual([])
    expect(api.evaluations(PROMPT)).toEqual([])
    expect(run.errors).toEqual([
      'Stopped by SIGTERM before the step finished: no verdict was reached. Cancels already accepted stay in effect.'
    ])
  }, 60_000)
})

describe('explaining a failure', () => {
  it('shows the failing rows and the deltas against the baseline, and breaks max-pass-rate-drop', async () => {
    api = await FakeAdaline.start()
    const baseline = completed(1, 48, 19, 1)
    const latest = completed(2, 1, 12, 6, 2)
    api.addPrompt(PROMPT, [baseline, latest])
    const run = await runAction(inputs({ policy: 'max-pass-rate-drop: 10%' }))

    expect(run.exitCode).toBe(1)
    expect(run.outputs['pass-rate']).toBe('0.6')
    expect(run.errors).toEqual([
      `pass rate −35 pp vs baseline, beyond max-pass-rate-drop −10 pp: ${latest.runId} 60% vs baseline ${baseline.runId} 95%`
    ])
    // opens with a verdict line, the runs in squares, and the rules
    const [headline, , verdict, , squares] = run.summary.split('\n')
    expect(headline).toBe('## ❌ Adaline evals failed')
    expect(verdict).toMatch(
      /^\*\*Failed:\*\* pass rate −35 pp vs baseline, beyond max-pass-rate-drop −10 pp/
    )
    expect(squares).toMatch(
      /^(🟩|🟥|⬜){20} \*\*12\*\* pass · \*\*6\*\* fail · \*\*2\*\* unknown of 20 runs/
    )
    expect(run.summary).toContain('| max-pass-rate-drop | −35 pp | −10 pp | ❌ |')
    // the delta against the baseline, on the evaluator's row named by its title
    const title = api.evaluators(PROMPT).find(e => e.id === latest.evaluatorId)!.title
    const deltaRow = run.summary.split('\n').find(line => line.startsWith(`| ${title} |`))
    expect(deltaRow).toMatch(/\| 60% \| −35 pp \|/)
    // the failing and unknown rows, with reasons and inputs, folded away
    const rows = api.results(PROMPT, latest.runId).filter(r => r.grade !== 'pass')
    expect(rows).toHaveLength(8)
    expect(run.summary).toContain(
      `<summary>❌ ${title} (${latest.runId}): 6 fail, 2 unknown (showing 6 fail, 2 unknown)</summary>`
    )
    for (const result of rows) {
      expect(run.summary).toContain(result.reason!)
    }
    expect(run.summary).toMatch(/Expected category '\w+' but got '\w+'/)
    // only failing and unknown rows were asked for
    const asked = api.requests.filter(r => r.path.endsWith('/results'))
    expect(asked.map(r => r.query.get('grade')).sort()).toEqual(['fail', 'unknown'])
    expect(asked.every(r => r.query.get('expand') === 'row')).toBe(true)
  }, 30_000)

  it('finds the baseline that created-after hides, reading completed evaluations only until it has it', async () => {
    api = await FakeAdaline.start()
    const baseline = completed(1, 48, 19, 1)
    const latest = completed(2, 0.5, 12, 6, 2)
    // 300 completed evaluations of another evaluator between the two, 300 more before the baseline
    const others = Array.from({ length: 600 }, (_, i) =>
      makeEvaluation({
        n: 10 + i,
        evaluatorId: fakeId('evl', 9),
        status: 'completed',
        submittedAt: Date.now() - (i < 300 ? 2 * HOUR + i * 6 * 60_000 : 50 * HOUR + i * 60_000)
      })
    )
    api.addPrompt(PROMPT, [baseline, latest, ...others])
    const run = await runAction(
      inputs({ 'created-after': '1h', policy: 'max-pass-rate-drop: 10%' })
    )
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual([
      `pass rate −35 pp vs baseline, beyond max-pass-rate-drop −10 pp: ${latest.runId} 60% vs baseline ${baseline.runId} 95%`
    ])
    expect(run.summary).toMatch(/ \| completed \| 60% \| −35 pp \| /)
    expect(run.summary).toContain(`: run ${latest.runId} · `)
    expect(run.summary).toContain(` · baseline ${baseline.runId} (`)
    // completed ones before the judged one, newest first, whatever created-after says
    const searched = api.requests.filter(
      r => r.path.endsWith('/evaluations') && r.query.get('status') === 'completed'
    )
    for (const request of searched) {
      expect(request.query.get('sort')).toBe('createdAt:desc')
      expect(request.query.get('createdBefore')).toBe(String(latest.timeline.submittedAt))
      expect(request.query.get('createdAfter')).toBeNull()
    }
    // the baseline is on the second page: the third and fourth are never asked for
    expect(searched).toHaveLength(2)
  }, 30_000)

  it('compares started evaluations with their baseline when the status filter lists no completed ones', async () => {
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 0, rowMs: 10, totalRows: 20 } })
    const baseline = completed(1, 24, 19, 1)
    api.addPrompt(PROMPT, [baseline])
    const run = await runAction(
      inputs({
        status: 'queued,running',
        'evaluator-id': EVALUATOR,
        start: 'true',
        wait: '1m',
        policy: 'max-pass-rate-drop: 50%'
      })
    )
    expect(run.exitCode).toBe(0)
    const started = newest(PROMPT)
    expect(started.status).toBe('completed')
    // 16 of the 19 graded rows pass (the fake's default outcomes), against the baseline's 95%
    expect(run.summary).toMatch(/ \| completed \| 84\.2% \| −10\.8 pp \| /)
    expect(run.summary).toContain(`: run ${started.runId} · `)
    expect(run.summary).toContain(` · baseline ${baseline.runId} (`)
  }, 60_000)

  it('looks through a bounded number of pages for a baseline that does not exist', async () => {
    api = await FakeAdaline.start()
    const latest = completed(2, 0.5, 12, 6, 2)
    // 1,100 completed evaluations of another evaluator, none a baseline of the judged one
    const others = Array.from({ length: 1_100 }, (_, i) =>
      makeEvaluation({
        n: 10 + i,
        evaluatorId: fakeId('evl', 9),
        status: 'completed',
        submittedAt: Date.now() - 2 * HOUR - i * 60_000
      })
    )
    api.addPrompt(PROMPT, [latest, ...others])
    const run = await runAction(
      inputs({ 'created-after': '1h', policy: 'max-pass-rate-drop: 10%' })
    )
    expect(run.exitCode).toBe(0)
    const searched = api.requests.filter(r => r.query.get('status') === 'completed')
    expect(searched).toHaveLength(5)
    expect(run.stdout).toContain(
      `::warning::Looked for baselines among the newest 1,000 completed evaluations of prompt ${PROMPT} only; some judged evaluations have none among them.`
    )
  }, 30_000)

  it('says there is no baseline under max-pass-rate-drop rather than hiding it, and warns', async () => {
    api = await FakeAdaline.start()
    const latest = completed(2, 0.5, 12, 6, 2)
    api.addPrompt(PROMPT, [latest])
    const run = await runAction(
      inputs({ 'created-after': '1h', policy: 'max-pass-rate-drop: 10%' })
    )
    expect(run.exitCode).toBe(0)
    expect(run.summary).toContain(
      'No judged evaluation has a baseline (an earlier completed evaluation of the same prompt, evaluator and dataset), so max-pass-rate-drop applied to none.'
    )
    expect(run.stdout).toContain(
      `::warning::max-pass-rate-drop does not apply to 1 judged evaluation with no earlier completed evaluation of the same prompt, evaluator and dataset: ${latest.runId}.`
    )
  }, 30_000)

  it('still gives its verdict when the rows cannot be fetched, with a warning', async () => {
    api = await FakeAdaline.start()
    api.addPrompt(PROMPT, [completed(2, 1, 12, 6, 2)])
    api.inject({ path: /\/results$/, status: 403, times: Infinity })
    const run = await runAction(inputs({ policy: 'max-fail-runs: 0' }))
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual(['fail-runs 6 > max-fail-runs 0'])
    expect(run.stdout).toMatch(/::warning::Could not fetch the failing rows of run_/)
    expect(run.summary).not.toContain('### Failing rows')
  }, 30_000)
})

describe('sticky pull request comment', () => {
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
      pull_request: { number: 7, head: { sha: 'b'.repeat(40) } },
      repository: { name: 'repo', owner: { login: 'org' } }
    }
  }
  const env = () => ({
    GITHUB_API_URL: github.url,
    GITHUB_WORKFLOW: 'PR gate',
    GITHUB_JOB: 'evals'
  })
  const token = 'ghs_faketoken000000000000000000000000'
  const ourComments = () =>
    (github.comments.get('org/repo#7') ?? []).filter(c => c.body.includes('<!-- adaline-evals:'))

  async function gate(policy: string, comment = 'on'): Promise<ActionRun> {
    return runAction(inputs({ policy, comment, 'github-token': token }), { event, env: env() })
  }

  it('creates the comment once, then updates it in place, finding it past the first page', async () => {
    api = await FakeAdaline.start()
    api.addPrompt(PROMPT, [completed(1, 2, 18, 2)])
    // someone else's comments fill the first page
    github.addComments(
      'org',
      'repo',
      7,
      Array.from({ length: 120 }, (_, i) => `review ${i}`)
    )

    const first = await gate('max-fail-runs: 0')
    expect(first.exitCode).toBe(1)
    expect(first.stdout).toContain('Pull request #7 comment: created.')
    expect(ourComments()).toHaveLength(1)
    const [created] = ourComments()
    expect(created!.body).toContain('## ❌ Adaline evals failed')
    expect(created!.body).toContain('fail-runs 2 &#62; max-fail-runs 0')

    const second = await gate('max-fail-runs: 5')
    expect(second.exitCode).toBe(0)
    expect(second.stdout).toContain('Pull request #7 comment: updated.')
    expect(ourComments()).toHaveLength(1)
    expect(ourComments()[0]!.id).toBe(created!.id)
    expect(ourComments()[0]!.body).toContain('## ✅ Adaline evals passed')
    expect(github.requests.filter(r => r.method === 'POST')).toHaveLength(1)
    expect(github.requests.filter(r => r.method === 'PATCH')).toHaveLength(1)
    // every page of comments was read on each run
    const pages = github.requests.filter(r => r.method === 'GET').map(r => r.query.get('page'))
    expect(pages).toEqual([null, '2', null, '2'])
    // the token went only to GitHub, and the key to neither
    expect(JSON.stringify(github.requests)).not.toContain(api.apiKey)
    expect(second.stdout.replace(`::add-mask::${token}`, '')).not.toContain(token)
  }, 60_000)

  it('never takes a comment that quotes its report for its own', async () => {
    api = await FakeAdaline.start()
    api.addPrompt(PROMPT, [completed(1, 2, 18, 2)])
    await gate('max-fail-runs: 0')
    const thread = github.comments.get('org/repo#7')!
    const report = thread.pop()!
    // a reviewer quoted the report, marker and all, and the action's own comment is gone
    const quote = report.body
      .split('\n')
      .map(line => `> ${line}`)
      .join('\n')
    const [quoteId] = github.addComments('org', 'repo', 7, [`${quote}\n\nWhy did this fail?`])

    const run = await gate('max-fail-runs: 5')
    expect(run.stdout).toContain('Pull request #7 comment: created.')
    const quoted = github.comments.get('org/repo#7')!.find(c => c.id === quoteId)!
    expect(quoted.body).toContain('Why did this fail?')
    expect(quoted.body).toContain('Adaline evals failed')
  }, 60_000)

  it('replaces its report with the error when a later run reaches no verdict, and creates none', async () => {
    api = await FakeAdaline.start()
    api.addPrompt(PROMPT, [completed(1, 2, 20, 0)])
    await gate('max-fail-runs: 0')
    const [report] = ourComments()
    expect(report!.body).toContain('Adaline evals passed')

    api.inject({ method: 'GET', path: '/evaluations', status: 401, times: 5 })
    const errored = await gate('max-fail-runs: 0')
    expect(errored.exitCode).toBe(1)
    expect(ourComments()).toHaveLength(1)
    expect(ourComments()[0]!.id).toBe(report!.id)
    expect(ourComments()[0]!.body).toContain('## ⚠️ Adaline evals: no verdict')
    expect(ourComments()[0]!.body).toContain('answered 401')
    expect(ourComments()[0]!.body).not.toContain('Adaline evals passed')

    // with no comment yet, an error creates none
    github.comments.set('org/repo#7', [])
    api.inject({ method: 'GET', path: '/evaluations', status: 401, times: 5 })
    await gate('max-fail-runs: 0')
    expect(ourComments()).toEqual([])
  }, 60_000)

  it('with on-failure, creates nothing for a passing run', async () => {
    api = await FakeAdaline.start()
    api.addPrompt(PROMPT, [completed(1, 2, 20, 0)])
    const run = await gate('max-fail-runs: 0', 'on-failure')
    expect(run.exitCode).toBe(0)
    expect(ourComments()).toEqual([])
    expect(run.stdout).toContain('Pull request #7 comment: unchanged.')
  }, 30_000)

  it('warns and goes on when the token cannot write to the pull request', async () => {
    api = await FakeAdaline.start()
    api.addPrompt(PROMPT, [completed(1, 2, 20, 0)])
    github.writable = false
    const run = await gate('max-fail-runs: 0')
    expect(run.exitCode).toBe(0)
    expect(run.outputs.gate).toBe('passed')
    expect(run.stdout).toMatch(
      /::warning::Could not write the pull request comment \(HTTP 403 .*\): the token cannot write to pull requests\. Give the job "permissions: pull-requests: write"/
    )
    expect(run.errors).toEqual([])
  }, 30_000)

  it('cuts a report over GitHub’s limit to fit the comment, keeping the verdict', async () => {
    api = await FakeAdaline.start()
    // 600 judged evaluations; the 10 newest have 30 failing rows with long reasons and inputs, whose
    // table characters the summary escapes into five each
    const many = Array.from({ length: 600 }, (_, i) =>
      makeEvaluation({
        n: i + 1,
        evaluatorId: fakeId('evl', i + 1),
        status: 'completed',
        fail: i >= 590 ? 30 : 3
      })
    )
    api.addPrompt(PROMPT, many)
    for (const evaluation of many.slice(590)) {
      api.setResults(
        PROMPT,
        evaluation.runId,
        Array.from({ length: 30 }, (_, row) => ({
          id: `res_${evaluation.runId}_${row}`,
          rowId: `row_${row}`,
          grade: 'fail' as const,
          score: 0,
          reason: `Expected 'billing' but got 'shipping': ${'the *answer* wanders |off| topic '.repeat(20)}`,
          cost: 0.001,
          latency: 900,
          row: {
            values: {
              ticket: `My invoice is wrong ${'<and> *so* |is| the |one| <before> '.repeat(20)}`
            }
          }
        }))
      )
    }
    const run = await gate('max-fail-runs: 0')
    expect(run.stdout).toContain('Pull request #7 comment: created.')
    // the same report in the step summary, where it is not cut, is over the comment limit
    expect(run.summary.length).toBeGreaterThan(65_536)
    // rows are fetched and shown for 5 of them (and the IDs are folded away in one more)
    expect(run.summary.match(/<details>/g)).toHaveLength(6)
    const body = ourComments()[0]!.body
    expect(body.length).toBeLessThanOrEqual(65_536)
    expect(body).toContain('## ❌ Adaline evals failed')
    expect(body).toMatch(/\*\*Failed:\*\* fail-runs [\d,]+ &#62; max-fail-runs 0/)
    expect(body).toContain('| **Total** |')
    expect(body).toContain('<!-- adaline-evals:')
  }, 60_000)

  it('with on-failure, brings an earlier comment up to date on a passing run', async () => {
    api = await FakeAdaline.start()
    api.addPrompt(PROMPT, [completed(1, 2, 18, 2)])
    const failing = await gate('max-fail-runs: 0', 'on-failure')
    expect(failing.stdout).toContain('Pull request #7 comment: created.')
    const [created] = ourComments()
    const passing = await gate('max-fail-runs: 5', 'on-failure')
    expect(passing.exitCode).toBe(0)
    expect(passing.stdout).toContain('Pull request #7 comment: updated.')
    expect(ourComments()).toHaveLength(1)
    expect(ourComments()[0]!.id).toBe(created!.id)
    expect(ourComments()[0]!.body).toContain('## ✅ Adaline evals passed')
  }, 60_000)
})

/**
 * Row 9: a fleet of jobs on one workspace's rate limit (issue 12). Concurrent `node dist/index.js`
 * processes of three kinds share one fake API whose token bucket serves the whole workspace, as
 * Adaline's limit does: report listings, force-pushes that cancel superseded evaluations, and
 * start + wait runs. Each job's verdict is checked against what it should be, and the fake's state
 * against what the jobs should have left behind.
 */
import { performance } from 'node:perf_hooks'
import { MAX_PAGE_SIZE, type Evaluation } from '../src/adaline/schema.js'
import { plural } from '../src/format.js'
import { pushEvent } from '../test-support/events.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../test-support/fake-adaline.js'
import { runAction, type ActionRun } from '../test-support/run-action.js'
import { count, ratio, type Figure } from './table.js'
import { completedEvaluations, runningBeforePush } from './workload.js'

/** Adaline's limit for these endpoints: about 100 requests a minute, per workspace. */
export const WINDOW_REQUESTS = 100
export const REAL_WINDOW_MS = 60_000
/** What a quiet workspace may send at once before the rate applies. */
export const BURST = 10
export const LATENCY_MS = 20
/** Completed evaluations beside each force-push's in-flight ones: one page of 200 in all. */
const FORCE_PUSH_PAGE = MAX_PAGE_SIZE
/** A started evaluation's rows: about 5 s from queued to completed. */
const START_LIFECYCLE = {
  totalRows: 10,
  queuedMs: 1_000,
  rowMs: 400,
  outcome: () => 'pass' as const
}

export interface FleetShape {
  reports: number
  /** evaluations each report lists */
  reportEvaluations: number
  forcePushes: number
  /** superseded evaluations each force-push cancels */
  cancelsEach: number
  startWaits: number
}

export interface FleetOptions extends FleetShape {
  /** the fake's window for WINDOW_REQUESTS, in ms, once per run of the fleet: the compressions */
  windowsMs: number[]
  progress: (text: string) => void
}

/** Every job lists its prompt's evaluators once, to name them in its report: one page here. */
const NAMES_PAGES = 1

/** One job of the fleet: what it runs, the requests it cannot do without, and what it must show. */
interface Job {
  name: string
  promptId: string
  inputs: (api: FakeAdaline) => Record<string, string>
  event?: { name: string; payload: unknown }
  /** requests the job needs at the least, whatever the client */
  minimum: number
  /** why the job's verdict or what it left is wrong; undefined when right */
  wrong: (run: ActionRun, api: FakeAdaline) => string | undefined
}

interface FleetRun {
  windowMs: number
  jobs: number
  right: number
  requests: number
  minimum: number
  throttled: number
  wallMs: number
  floorMs: number
}

export async function fleetFigures(options: FleetOptions): Promise<Figure[]> {
  const runs: FleetRun[] = []
  for (const windowMs of options.windowsMs) {
    options.progress(`fleet with the window compressed to ${windowMs / 1000} s`)
    runs.push(await runFleet(options, windowMs))
  }
  const jobs = runs[0]!.jobs
  // a job that gave up early made fewer requests and ended sooner: its run's figures flatter
  const each = (show: (run: FleetRun) => string) =>
    runs
      .map(run => {
        const wrong = run.jobs - run.right
        return `${show(run)} (${run.windowMs / 1000} s${wrong > 0 ? `, ${wrong} wrong` : ''})`
      })
      .join(' · ')
  const allRight = (run: FleetRun) => run.right === run.jobs
  const extra = (run: FleetRun) => run.requests / run.minimum
  const overFloor = (run: FleetRun) => run.wallMs / run.floorMs
  return [
    {
      id: '9a',
      what: `fleet of ${jobs} jobs on one rate limit: right verdicts`,
      measured: runs.map(run => `${run.right}/${run.jobs} (${run.windowMs / 1000} s)`).join(' · '),
      goal: `${jobs}/${jobs}`,
      met: runs.every(allRight),
      gatesQuick: true
    },
    {
      id: '9b',
      what: 'fleet: requests made / the minimum the work needs',
      measured: each(run => `${ratio(extra(run))} = ${count(run.requests)}/${count(run.minimum)}`),
      goal: '≤ 1.30',
      met: runs.every(run => allRight(run) && extra(run) <= 1.3),
      gatesQuick: false
    },
    {
      id: '9c',
      what: 'fleet: share of answers that were 429',
      measured: each(run => `${Math.round((100 * run.throttled) / run.requests)}%`),
      goal: '—',
      gatesQuick: false
    },
    {
      id: '9d',
      what: 'fleet: wall time / rate-limit floor (minimum / rate)',
      measured: each(
        run => `${ratio(overFloor(run))} = ${seconds(run.wallMs)}/${seconds(run.floorMs)}`
      ),
      goal: '≤ 1.50',
      met: runs.every(run => allRight(run) && overFloor(run) <= 1.5),
      gatesQuick: false
    }
  ]
}

async function runFleet(options: FleetOptions, windowMs: number): Promise<FleetRun> {
  const jobs = planFleet(options)
  const minimum = jobs.reduce((sum, job) => sum + job.minimum, 0)
  const floorMs = (minimum * windowMs) / WINDOW_REQUESTS
  const api = await FakeAdaline.start({
    latencyMs: LATENCY_MS,
    rateLimit: { requests: WINDOW_REQUESTS, windowMs, burst: BURST }
  })
  try {
    setUp(api, options, jobs)
    // a job stuck well past what the limit explains is stopped, and counted wrong
    const timeoutMs = 3 * floorMs + 60_000
    const exits: number[] = []
    const results = await Promise.all(
      jobs.map(job =>
        runAction(job.inputs(api), {
          event: job.event,
          timeoutMs,
          onStart: child => child.once('exit', () => exits.push(performance.now()))
        })
      )
    )
    let right = 0
    results.forEach((run, i) => {
      const job = jobs[i]!
      const why = run.exitCode === null ? `killed after ${seconds(timeoutMs)}` : job.wrong(run, api)
      if (why === undefined) right += 1
      else options.progress(`  ${job.name}: wrong: ${why}`)
    })
    options.progress(`  requests: ${breakdown(api)}`)
    const firstRequest = Math.min(...api.requests.map(request => request.receivedAt))
    return {
      windowMs,
      jobs: jobs.length,
      right,
      requests: api.requests.length,
      minimum,
      throttled: api.requests.filter(request => request.status === 429).length,
      wallMs: Math.max(...exits) - firstRequest,
      floorMs
    }
  } finally {
    await api.close()
  }
}

/** The jobs, interleaved by kind, as a team's pushes, pull requests and nightly run would be. */
function planFleet(shape: FleetShape): Job[] {
  const reports = Array.from({ length: shape.reports }, (_, i) => reportJob(shape, i))
  const pushes = Array.from({ length: shape.forcePushes }, (_, i) => forcePushJob(shape, i))
  const starts = Array.from({ length: shape.startWaits }, (_, i) => startWaitJob(i))
  const jobs: Job[] = []
  for (let i = 0; i < Math.max(reports.length, pushes.length, starts.length); i += 1)
    for (const kind of [reports, pushes, starts]) if (kind[i]) jobs.push(kind[i]!)
  return jobs
}

/** The evaluations each prompt starts with, and its lifecycle for the ones started. */
function setUp(api: FakeAdaline, shape: FleetShape, jobs: Job[]): void {
  for (const job of jobs) {
    if (job.name.startsWith('report'))
      api.addPrompt(job.promptId, completedEvaluations(shape.reportEvaluations))
    else if (job.name.startsWith('force-push'))
      api.addPrompt(job.promptId, [
        ...runningBeforePush(shape.cancelsEach),
        ...Array.from({ length: FORCE_PUSH_PAGE - shape.cancelsEach }, (_, i) =>
          makeEvaluation({ n: shape.cancelsEach + i + 1, status: 'completed', fail: 0, unknown: 0 })
        )
      ])
    else
      api.addPrompt(job.promptId, completedEvaluations(3), {
        defaultEvaluatorId: fakeId('evl', 1),
        lifecycle: START_LIFECYCLE
      })
  }
}

/**
 * A nightly report over every evaluation of a prompt, passing or failing on cost (every
 * evaluation passes all its runs, so no failing rows are fetched): one request per page, and the
 * names of its one evaluator.
 */
function reportJob(shape: FleetShape, i: number): Job {
  const promptId = fakeId('prm_fleet_report', i + 1)
  const fails = i % 2 === 1
  const gate = fails ? 'failed' : 'passed'
  // each of completedEvaluations costs 0.0421 USD: the cap is below or above their total
  const cap = shape.reportEvaluations * 0.0421 * (fails ? 0.5 : 2)
  return {
    name: `report-${i + 1}`,
    promptId,
    inputs: api => ({
      'api-key': api.apiKey,
      'base-url': api.url,
      'prompt-id': promptId,
      policy: `scope: all\nmax-cost: ${cap.toFixed(2)}\n`
    }),
    minimum: Math.ceil(shape.reportEvaluations / MAX_PAGE_SIZE) + NAMES_PAGES,
    wrong: run =>
      verdictWrong(run, gate) ??
      (run.outputs['listed-count'] === String(shape.reportEvaluations)
        ? undefined
        : `listed ${run.outputs['listed-count']} of ${shape.reportEvaluations}`)
  }
}

/**
 * A force-push: every in-flight evaluation of the prompt was submitted before it and must be
 * cancelled; one page lists them with the completed ones judged. A cancel that did not land
 * leaves a superseded evaluation running and billing, whatever the step said.
 */
function forcePushJob(shape: FleetShape, i: number): Job {
  const promptId = fakeId('prm_fleet_push', i + 1)
  return {
    name: `force-push-${i + 1}`,
    promptId,
    event: pushEvent(),
    inputs: api => ({
      'api-key': api.apiKey,
      'base-url': api.url,
      'prompt-id': promptId,
      'cancel-superseded': 'force-push',
      policy: 'max-fail-runs: 0\n'
    }),
    minimum: 1 + shape.cancelsEach + NAMES_PAGES,
    wrong: (run, api) => {
      const still = api
        .evaluations(promptId)
        .filter(e => e.status === 'queued' || e.status === 'running')
      if (still.length > 0) return `${plural(still.length, 'superseded evaluation')} still running`
      const cancelled = JSON.parse(run.outputs.cancelled ?? '[]') as string[]
      if (cancelled.length !== shape.cancelsEach)
        return `the cancelled output names ${cancelled.length} of ${shape.cancelsEach}`
      return verdictWrong(run, 'passed')
    }
  }
}

/**
 * A pull request's run: start one evaluation, wait for it, judge it. It needs the start, one read
 * of the finished evaluation and the evaluators' names; a listing, more polls or a second start
 * are the client's cost.
 */
function startWaitJob(i: number): Job {
  const promptId = fakeId('prm_fleet_start', i + 1)
  return {
    name: `start-wait-${i + 1}`,
    promptId,
    inputs: api => ({
      'api-key': api.apiKey,
      'base-url': api.url,
      'prompt-id': promptId,
      start: 'true',
      wait: '10m',
      policy: 'max-fail-runs: 0\n'
    }),
    minimum: 2 + NAMES_PAGES,
    wrong: (run, api) => {
      const started = api.evaluations(promptId).filter(startedHere)
      if (started.length !== 1) return `${started.length} evaluations started at the API, not 1`
      const named = JSON.parse(run.outputs.started ?? '[]') as string[]
      if (named.join() !== started[0]!.runId)
        return `the started output names ${named.join(', ') || 'none'}`
      if (started[0]!.status !== 'completed') return `the started one is ${started[0]!.status}`
      return verdictWrong(run, 'passed')
    }
  }
}

/** The fake numbers the evaluations it starts from run 900,001 (see its create). */
function startedHere(evaluation: Evaluation): boolean {
  return evaluation.runId > fakeId('run', 900_000)
}

/** Why the step's gate and errors are not those of `gate`; undefined when they are. */
function verdictWrong(run: ActionRun, gate: 'passed' | 'failed'): string | undefined {
  const errors = run.errors.filter(error => !(gate === 'failed' && error.includes('max-cost')))
  if (errors.length > 0) return `exit ${run.exitCode}: ${errors[0]!.slice(0, 300)}`
  if (run.outputs.gate !== gate) return `gate ${run.outputs.gate ?? 'not set'}, not ${gate}`
  const exit = gate === 'failed' ? 1 : 0
  if (run.exitCode !== exit) return `exit ${run.exitCode}, not ${exit}`
  return undefined
}

/** `list 130 (41 × 429) · cancel 260 (52 × 429) · …`: where the requests went, for the log. */
function breakdown(api: FakeAdaline): string {
  const kinds = new Map<string, { made: number; throttled: number }>()
  for (const { method, path, status } of api.requests) {
    const kind =
      method === 'POST'
        ? path.endsWith('/cancel')
          ? 'cancel'
          : 'start'
        : path.endsWith('/evaluations')
          ? 'list'
          : path.endsWith('/evaluators')
            ? 'names'
            : path.endsWith('/results')
              ? 'results'
              : 'read one'
    const seen = kinds.get(kind) ?? { made: 0, throttled: 0 }
    seen.made += 1
    if (status === 429) seen.throttled += 1
    kinds.set(kind, seen)
  }
  return [...kinds]
    .map(([kind, { made, throttled }]) => `${kind} ${made} (${throttled} × 429)`)
    .join(' · ')
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`
}

/** The rate-limit floor and the compression of a window, for the notes. */
export function describeWindow(windowMs: number): string {
  return `${WINDOW_REQUESTS} requests per ${windowMs / 1000} s (×${ratio(REAL_WINDOW_MS / windowMs).replace(/\.?0+$/, '')})`
}

/** The minimum requests of a fleet, for the notes. */
export function fleetMinimum(shape: FleetShape): number {
  return planFleet(shape).reduce((sum, job) => sum + job.minimum, 0)
}

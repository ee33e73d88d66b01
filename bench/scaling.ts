/**
 * Rows 7 and 8: cost that grows with the work (issue 11, class 6). `scope: all` over one evaluator
 * at two sizes four times apart, where linear growth is a CPU time ratio of 4 and quadratic 16;
 * and SIGINT sent while the action is busy with 40,000 evaluations, timed to the process's exit.
 */
import type { ChildProcess } from 'node:child_process'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import type { FakeAdaline } from '../test-support/fake-adaline.js'
import { runAction, type ActionRun } from '../test-support/run-action.js'
import { median } from './intervals.js'
import { count, ratio, seconds, type Figure } from './table.js'
import { actionInputs, completedEvaluations, startApi } from './workload.js'

/** Every evaluation judged, each compared with its baseline: every stage sees all of them. */
const POLICY = 'scope: all\nmax-fail-runs: 0\nmax-pass-rate-drop: 0.5\n'
export const GROWTH_GOAL = 5
export const SIGNAL_GOAL_MS = 5_000
/** The engine's log line once every listing is read: "Listed 40,000 evaluations in 200 pages; …" */
const LISTED = /^Listed [\d,]+ evaluations? in /m
/** A process still running this long after the signal is killed, and counted at least this long. */
const SIGNAL_GIVE_UP_MS = 30_000
/** A quadratic run of 40,000 took about 80 s: long enough to measure, not to hang the bench. */
const RUN_TIMEOUT_MS = 240_000

export interface GrowthOptions {
  small: number
  large: number
  runs: number
}

/** Preloaded into each timed run: prints the CPU time the process used, as it exits. */
const CPU_TIME = fileURLToPath(new URL('./cpu-time.cjs', import.meta.url))
const CPU_LINE = /^bench-cpu-microseconds=(\d+)$/m

export async function growthFigure({ small, large, runs }: GrowthOptions): Promise<Figure> {
  const smallApi = await startApi(0, completedEvaluations(small))
  const largeApi = await startApi(0, completedEvaluations(large))
  try {
    const smallMs: number[] = []
    const largeMs: number[] = []
    for (let run = 0; run < runs; run += 1) {
      // interleaved, the first of each pair alternating, so that both sizes share the machine
      const pair = [
        async () => smallMs.push(await judgeAll(smallApi, small)),
        async () => largeMs.push(await judgeAll(largeApi, large))
      ]
      if (run % 2 === 1) pair.reverse()
      for (const step of pair) await step()
    }
    const growth = median(largeMs) / median(smallMs)
    return {
      id: '7',
      what: `scope: all, ${count(small)} → ${count(large)} evaluations: CPU time ratio (median of ${runs})`,
      measured: `${ratio(growth)} (${seconds(median(smallMs))} → ${seconds(median(largeMs))})`,
      goal: `≤ ${ratio(GROWTH_GOAL)}`,
      met: growth <= GROWTH_GOAL,
      gatesQuick: true
    }
  } finally {
    await smallApi.close()
    await largeApi.close()
  }
}

/**
 * One run judging every evaluation: the CPU time of its process, start-up included, in ms. CPU
 * time rather than wall time: on a shared machine the wall clock also counts the waits for a core.
 */
async function judgeAll(api: FakeAdaline, evaluations: number): Promise<number> {
  const run = await runAction(actionInputs(api, { policy: POLICY }), {
    timeoutMs: RUN_TIMEOUT_MS,
    env: CPU_TIMED
  })
  checkJudgedAll(run, evaluations)
  return cpuMs(run)
}

/** The environment that makes the action print its CPU time as it exits (bench/cpu-time.cjs). */
export const CPU_TIMED = { NODE_OPTIONS: `--require ${JSON.stringify(CPU_TIME)}` }

/** The CPU time, in ms, that a run under CPU_TIMED printed. */
export function cpuMs(run: ActionRun): number {
  const used = CPU_LINE.exec(run.stderr)
  if (!used) throw new Error('the action did not print its CPU time (bench/cpu-time.cjs)')
  return Number(used[1]) / 1000
}

function checkJudgedAll(run: ActionRun, evaluations: number): void {
  const judged = run.outputs['evaluation-count']
  if (run.exitCode !== 0 || judged !== String(evaluations)) {
    throw new Error(
      `the action exited ${run.exitCode} having judged ${judged} of ${evaluations}: ${run.errors.join('; ') || run.stderr}`
    )
  }
}

export interface SignalOptions {
  evaluations: number
  runs: number
}

/**
 * SIGINT as soon as the action logs that its listing is done: from there on it works on every
 * evaluation at once (baselines, totals, the verdict, the reports) with no request to wait for,
 * which is where a loop that never yields keeps a signal waiting. (Sent on the last page's answer
 * instead, the signal may come while that page is still read, and be heard as soon as it is.)
 */
export async function signalFigure({ evaluations, runs }: SignalOptions): Promise<Figure> {
  const api = await startApi(0, completedEvaluations(evaluations))
  try {
    const answers: SignalAnswer[] = []
    for (let run = 0; run < runs; run += 1) answers.push(await signalWhenBusy(api))
    const ms = median(answers.map(answer => answer.ms))
    const stopped = answers.filter(answer => answer.stopped).length
    return {
      id: '8',
      what: `SIGINT while busy with ${count(evaluations)} evaluations: signal → exit (median of ${runs})`,
      measured: `${seconds(ms)} (${stopped} of ${runs} stopped by it)`,
      goal: `≤ ${seconds(SIGNAL_GOAL_MS)}`,
      met: ms <= SIGNAL_GOAL_MS,
      gatesQuick: true
    }
  } finally {
    await api.close()
  }
}

interface SignalAnswer {
  /** from sending the signal to the process's exit */
  ms: number
  /** the run said it was stopped by the signal (rather than finishing first) */
  stopped: boolean
}

async function signalWhenBusy(api: FakeAdaline): Promise<SignalAnswer> {
  let sentAt: number | undefined
  let exited: Promise<number> | undefined
  const run = await runAction(actionInputs(api, { policy: POLICY }), {
    timeoutMs: RUN_TIMEOUT_MS,
    onStart: child => {
      exited = exitTime(child)
      let seen = ''
      const watch = (chunk: Buffer | string) => {
        seen = (seen + String(chunk)).slice(-4_096)
        if (!LISTED.test(seen)) return
        child.stdout?.off('data', watch)
        sentAt = performance.now()
        child.kill('SIGINT')
        setTimeout(() => child.kill('SIGKILL'), SIGNAL_GIVE_UP_MS).unref()
      }
      child.stdout?.on('data', watch)
    }
  })
  if (sentAt === undefined) {
    throw new Error(
      `the action exited ${run.exitCode} without logging that its listing was done: ${run.errors.join('; ') || run.stderr}`
    )
  }
  // a run that had finished before the signal was sent took no time to answer it
  return {
    ms: Math.max(0, (await exited!) - sentAt),
    stopped: run.errors.some(error => error.startsWith('Stopped by SIGINT'))
  }
}

/** When the process exits, on the bench's clock. */
function exitTime(child: ChildProcess): Promise<number> {
  return new Promise(resolve => child.once('exit', () => resolve(performance.now())))
}

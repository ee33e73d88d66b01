/**
 * Row 3: from starting `node dist/index.js` to its first byte on stdout, against a one-line action
 * that imports only @actions/core, bundled the same way with ncc into a temporary directory.
 * Runs alternate between the two (and which goes first), to share the machine's noise.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { runAction } from '../test-support/run-action.js'
import { median } from './intervals.js'
import { ms, ratio, type Figure } from './table.js'
import { actionInputs, startApi } from './workload.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BASELINE_SOURCE = 'bench/baseline/index.ts'

export async function startupFigure(runs: number): Promise<Figure> {
  const dir = await mkdtemp(join(tmpdir(), 'adaline-evals-baseline-'))
  const api = await startApi(0, [])
  try {
    const baseline = await buildBaseline(dir)
    const action: number[] = []
    const oneLiner: number[] = []
    const runAct = async () => action.push(await actionFirstOutput(actionInputs(api)))
    const runBaseline = async () => oneLiner.push(await baselineFirstOutput(baseline))
    for (let run = 0; run < runs; run += 1) {
      const [first, second] = run % 2 === 0 ? [runAct, runBaseline] : [runBaseline, runAct]
      await first()
      await second()
    }
    const slower = median(action) / median(oneLiner)
    return {
      id: '3',
      what: `start → first output, action / one-line @actions/core action (median of ${runs})`,
      measured: `${ratio(slower)} (${ms(median(action))} vs ${ms(median(oneLiner))})`,
      goal: '≤ 1.30',
      met: slower <= 1.3,
      gatesQuick: false
    }
  } finally {
    await api.close()
    await rm(dir, { recursive: true, force: true })
  }
}

/** `ncc build bench/baseline/index.ts -o <dir> --target es2022`; the bundle's path. */
async function buildBaseline(dir: string): Promise<string> {
  const child = spawn('npx', ['ncc', 'build', BASELINE_SOURCE, '-o', dir, '--target', 'es2022'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', chunk => (output += chunk))
  child.stderr.setEncoding('utf8').on('data', chunk => (output += chunk))
  const code = await new Promise<number | null>(done => child.on('close', done))
  if (code !== 0) throw new Error(`ncc could not build the baseline (exit ${code}):\n${output}`)
  return join(dir, 'index.js')
}

/** ms from the process being started to its first byte on stdout. */
function firstOutput(child: ChildProcess): Promise<number> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    child.stdout?.once('data', () => resolve(performance.now() - started))
    child.once('close', () => reject(new Error('the process ended without output')))
  })
}

async function actionFirstOutput(inputs: Record<string, string>): Promise<number> {
  let first: Promise<number> | undefined
  const run = await runAction(inputs, { onStart: child => (first = firstOutput(child)) })
  if (run.exitCode !== 0 || !first) throw new Error(`the action exited ${run.exitCode}`)
  return first
}

async function baselineFirstOutput(entry: string): Promise<number> {
  const child = spawn(process.execPath, [entry], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const first = firstOutput(child)
  child.stderr?.resume()
  const code = await new Promise<number | null>(done => child.on('close', done))
  if (code !== 0) throw new Error(`the baseline exited ${code}`)
  return first
}

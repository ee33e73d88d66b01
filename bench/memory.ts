/**
 * Row 4: the peak resident memory of `node dist/index.js` while it lists many evaluations, read
 * from the kernel's high-water mark (VmHWM in /proc/<pid>/status), polled until the process ends.
 */
import type { ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { runAction } from '../test-support/run-action.js'
import { count, mebibytes, type Figure } from './table.js'
import { actionInputs, completedEvaluations, startApi } from './workload.js'

const LIMIT_MIB = 200
const POLL_MS = 5

export async function memoryFigure(evaluations: number): Promise<Figure> {
  const what = `peak RSS listing ${count(evaluations)} evaluations`
  const goal = `≤ ${LIMIT_MIB} MiB`
  if (!existsSync('/proc/self/status')) {
    return { id: '4', what, measured: 'skipped: needs Linux /proc', goal, gatesQuick: true }
  }
  const api = await startApi(0, completedEvaluations(evaluations))
  try {
    let peak: Promise<number> | undefined
    const run = await runAction(actionInputs(api), {
      onStart: child => (peak = peakResidentBytes(child)),
      timeoutMs: 120_000
    })
    if (run.exitCode !== 0 || !peak) {
      throw new Error(`the action exited ${run.exitCode}: ${run.errors.join('; ') || run.stderr}`)
    }
    if (run.outputs['listed-count'] !== String(evaluations)) {
      throw new Error(`the action listed ${run.outputs['listed-count']} of ${evaluations}`)
    }
    const bytes = await peak
    return {
      id: '4',
      what,
      measured: mebibytes(bytes),
      goal,
      met: bytes <= LIMIT_MIB * 1024 * 1024,
      gatesQuick: true
    }
  } finally {
    await api.close()
  }
}

/** The process's peak resident set in bytes, polled from /proc until it exits. */
export function peakResidentBytes(child: ChildProcess): Promise<number> {
  let peakKiB = 0
  const read = () => {
    try {
      const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))
      if (match) peakKiB = Math.max(peakKiB, Number(match[1]))
    } catch {
      // gone between two polls: the last reading stands
    }
  }
  read()
  const timer = setInterval(read, POLL_MS)
  return new Promise(resolve =>
    child.once('exit', () => {
      clearInterval(timer)
      resolve(peakKiB * 1024)
    })
  )
}

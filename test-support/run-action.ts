/**
 * Runs the bundled action the way the GitHub runner does: a child `node dist/index.js` with
 * inputs as INPUT_<NAME> variables (hyphens kept), and GITHUB_OUTPUT, GITHUB_STEP_SUMMARY and
 * GITHUB_EVENT_PATH files; and the bundled command (`dist/cli/index.js`) the way a shell does.
 * Used by the end-to-end tests and the demo.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ACTION_ENTRY = resolve(fileURLToPath(import.meta.url), '../../dist/index.js')
export const COMMAND_ENTRY = resolve(fileURLToPath(import.meta.url), '../../dist/cli/index.js')

export interface ActionRunOptions {
  /** GITHUB_EVENT_NAME and the payload written to GITHUB_EVENT_PATH */
  event?: { name: string; payload: unknown }
  /** more environment, e.g. GITHUB_API_URL */
  env?: Record<string, string>
  /** kill the action after this long */
  timeoutMs?: number
  /** called once the process is started, e.g. to send it a signal */
  onStart?: (child: ChildProcess) => void
  /** the working directory (GITHUB_WORKSPACE on a runner); default this process's */
  cwd?: string
}

export interface ActionRun {
  exitCode: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** the `::error` lines' messages, in order */
  errors: string[]
}

export async function runAction(
  inputs: Record<string, string>,
  options: ActionRunOptions = {}
): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), 'adaline-evals-'))
  try {
    const outputPath = join(dir, 'output')
    const summaryPath = join(dir, 'summary.md')
    const eventPath = join(dir, 'event.json')
    await writeFile(outputPath, '')
    await writeFile(summaryPath, '')
    await writeFile(eventPath, JSON.stringify(options.event?.payload ?? {}))
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      GITHUB_OUTPUT: outputPath,
      GITHUB_STEP_SUMMARY: summaryPath,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_EVENT_NAME: options.event?.name ?? 'workflow_dispatch',
      RUNNER_TEMP: dir,
      ...options.env
    }
    for (const [name, value] of Object.entries(inputs)) env[`INPUT_${name.toUpperCase()}`] = value

    const child = spawn(process.execPath, [ACTION_ENTRY], {
      env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe']
    })
    options.onStart?.(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', chunk => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', chunk => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
    const exitCode = await new Promise<number | null>(done => child.on('close', code => done(code)))
    clearTimeout(timer)

    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseOutputFile(await readFile(outputPath, 'utf8')),
      summary: await readFile(summaryPath, 'utf8'),
      errors: stdout
        .split('\n')
        .filter(line => line.startsWith('::error'))
        .map(line => decodeCommandText(line.slice(line.indexOf('::', 2) + 2)))
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export interface CommandRun {
  exitCode: number | null
  stdout: string
  stderr: string
}

/** Runs `node dist/cli/index.js` with these arguments, the given environment only, and a cwd. */
export async function runCommand(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}
): Promise<CommandRun> {
  const child = spawn(process.execPath, [COMMAND_ENTRY, ...args], {
    env: { PATH: process.env.PATH ?? '', ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', chunk => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', chunk => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000)
  const exitCode = await new Promise<number | null>(done => child.on('close', code => done(code)))
  clearTimeout(timer)
  return { exitCode, stdout, stderr }
}

/** Undoes the escaping of a workflow command's message (%25, %0D, %0A), as the runner does. */
export function decodeCommandText(text: string): string {
  return text.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

/** Reads the runner's GITHUB_OUTPUT format: `name<<DELIMITER\nvalue\nDELIMITER\n`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i += 1) {
    const match = /^([^<=]+)<<(.+)$/.exec(lines[i] ?? '')
    if (!match) continue
    const [, name, delimiter] = match
    const value: string[] = []
    for (i += 1; i < lines.length && lines[i] !== delimiter; i += 1) value.push(lines[i] ?? '')
    outputs[name!] = value.join('\n')
  }
  return outputs
}

/** The command-line face: same engine, flags for inputs, exit codes for the verdict. */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import stringWidth from 'string-width'
import { parse } from 'yaml'
import { EXIT, main, useColor, type Stdout } from '../../src/cli/cli.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import { runAction } from '../../test-support/run-action.js'
import { apiFieldsOf } from '../../test-support/run-reports.js'

const PROMPT = fakeId('prm', 1)
const PROMPT_2 = fakeId('prm', 2)
const HOUR = 3_600_000
const NOW = Date.now()
let api: FakeAdaline

beforeEach(async () => {
  api = await FakeAdaline.start()
  api.addPrompt(PROMPT, [
    makeEvaluation({
      n: 1,
      evaluatorId: fakeId('evr', 1),
      submittedAt: NOW - 3 * HOUR,
      pass: 30,
      fail: 3,
      unknown: 1,
      cost: 0.0123
    }),
    makeEvaluation({
      n: 2,
      evaluatorId: fakeId('evr', 2),
      submittedAt: NOW - 2 * HOUR,
      pass: 18,
      fail: 0,
      unknown: 2,
      cost: 0.0456
    }),
    makeEvaluation({
      n: 3,
      evaluatorId: fakeId('evr', 2),
      status: 'running',
      submittedAt: NOW - HOUR
    })
  ])
  api.addPrompt(PROMPT_2, [
    makeEvaluation({
      n: 4,
      evaluatorId: fakeId('evr', 1),
      submittedAt: NOW - HOUR,
      pass: 9,
      fail: 1,
      unknown: 0,
      cost: 0.001
    })
  ])
})

afterEach(async () => {
  await api.close()
})

async function cli(args: string[], env: Record<string, string> = {}, terminal?: Stdout) {
  let stdout = ''
  let stderr = ''
  const code = await main(
    args,
    { ADALINE_API_KEY: api.apiKey, ...env },
    text => void (stdout += text),
    text => void (stderr += text),
    terminal
  )
  return { code, stdout, stderr }
}

describe('adaline-evals', () => {
  it('prints no workflow command from API text, on stdout or stderr, in any format', async () => {
    const hostile = fakeId('run', 9).slice(0, 10) + '##[error]x'
    api.addPrompt(fakeId('prm', 9), [
      makeEvaluation({ n: 9, runId: `${hostile}0123456789`, evaluatorId: fakeId('evr', 9) })
    ])
    const lines = (text: string) => text.split('\n')
    const commands = (text: string) =>
      lines(text).filter(line => /^[\s\u0085]*::/.test(line) || line.includes('##['))
    for (const format of ['text', 'markdown', 'json']) {
      const run = await cli([
        '--base-url',
        api.url,
        '--prompt-id',
        fakeId('prm', 9),
        '--format',
        format
      ])
      expect(run.code).toBe(EXIT.passed)
      expect(run.stdout).toContain('x0123456789')
      expect(commands(run.stdout + run.stderr)).toEqual([])
    }
    // an API error message with line breaks of its own
    api.inject({
      method: 'GET',
      status: 400,
      body: { error: { code: 'BAD', message: 'nope\n::error title=x::injected\n##[error]legacy' } }
    })
    const refused = await cli(['--base-url', api.url, '--prompt-id', PROMPT])
    expect(refused.code).toBe(EXIT.error)
    expect(refused.stderr).toContain('injected')
    expect(commands(refused.stderr)).toEqual([])
  })

  it('gives the same verdict and numbers as the action on the same data', async () => {
    const policy = 'max-fail-runs: 3\nmin-pass-rate: 0.9\nallow-status: [completed]\nscope: all'
    const both = { status: 'completed', prompts: `${PROMPT},${PROMPT_2}` }
    const action = await runAction({
      'api-key': api.apiKey,
      'base-url': api.url,
      'prompt-id': both.prompts,
      status: both.status,
      policy
    })
    const command = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      both.prompts,
      '--status',
      both.status,
      '--policy',
      policy,
      '--format',
      'json'
    ])
    const json = JSON.parse(command.stdout)
    type Compared = { counts: { newlyFailing: number; newlyPassing: number }; pValue: number }
    const compared: Compared[] = json.evaluations.flatMap(
      (e: { comparison: (Compared & { compared: boolean }) | null }) =>
        e.comparison?.compared ? [e.comparison] : []
    )
    const sumOf = (pick: (c: Compared) => number) =>
      compared.length === 0 ? '' : String(compared.reduce((sum, c) => sum + pick(c), 0))

    expect(command.code).toBe(action.exitCode)
    expect(json.gate).toBe(action.outputs.gate)
    expect(json.broken.map((b: { message: string }) => b.message)).toEqual(action.errors)
    expect({
      'listed-count': String(json.listedCount),
      'evaluation-count': String(json.metrics.evaluations),
      'pass-runs': String(json.metrics.passRuns),
      'fail-runs': String(json.metrics.failRuns),
      'unknown-runs': String(json.metrics.unknownRuns),
      'failed-rows': String(json.metrics.failedRows),
      'pass-rate': String(json.metrics.passRate),
      'total-cost': String(json.metrics.totalCost),
      'total-latency': String(json.metrics.totalLatency),
      'total-tokens': String(json.metrics.totalTokens),
      evaluations: JSON.stringify(apiFieldsOf(json.evaluations)),
      'new-failures': sumOf(c => c.counts.newlyFailing),
      'new-passes': sumOf(c => c.counts.newlyPassing),
      'p-value': compared.length === 0 ? '' : String(Math.min(...compared.map(c => c.pValue)))
    }).toEqual({
      ...action.outputs,
      gate: undefined,
      cancelled: undefined,
      'cancel-failed': undefined,
      started: undefined
    })
    // and the gate really failed on this data, so the comparison is not of two empty reports
    expect(json.gate).toBe('failed')
    expect(json.metrics.evaluations).toBe(3)
  })

  it('exits 0 and prints a readable report when the gate passes', async () => {
    const { code, stdout, stderr } = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      PROMPT,
      '--status',
      'completed',
      '--policy',
      'max-fail-runs: 10'
    ])
    expect(code).toBe(EXIT.passed)
    expect(stdout).toMatch(/^✓ Adaline evals: gate passed\nEvery rule holds over 2 evaluations\.\n/)
    expect(stdout).toMatch(/^max-fail-runs +3 +10 +✓ pass$/m)
    expect(stdout).toMatch(/^Category matches the +completed +90% +0 \/ 2 /m)
    // a terminal report: no Markdown, no colour when piped, 80 columns
    expect(stdout).not.toMatch(/\*\*|^\||<\/?[a-z]|^#/m)
    expect(stdout).not.toContain('\u001b[')
    expect(Math.max(...stdout.split('\n').map(line => stringWidth(line)))).toBeLessThanOrEqual(80)
    expect(stderr).toContain(`prompt ${PROMPT} [status=completed]: page 1, 2 evaluations, 2 so far`)
  })

  it('names its own flag when it tells why nothing is superseded', async () => {
    const { stderr } = await cli(
      ['--base-url', api.url, '--prompt-id', PROMPT, '--cancel-superseded', 'never'],
      {}
    )
    expect(stderr).toContain(
      'Superseded evaluations: nothing to cancel: --cancel-superseded is never'
    )
  })

  it('prints the progress lines once, without per-evaluation groups a terminal would not fold', async () => {
    api.addPrompt(PROMPT_2, [], { lifecycle: { queuedMs: 0, rowMs: 10, totalRows: 5 } })
    const { code, stderr } = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      PROMPT_2,
      '--start',
      '--wait',
      '1m'
    ])
    expect(code).toBe(EXIT.passed)
    const progress = stderr.split('\n').filter(line => /^run_\w+ \[/.test(line))
    expect(progress.at(-1)).toMatch(/ 100% .* · completed · /)
    expect(new Set(progress).size).toBe(progress.length)
    expect(stderr).not.toContain('Progress of')
  })

  it('reads the policy from a file and prints Markdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adaline-evals-cli-'))
    try {
      writeFileSync(join(dir, 'policy.yml'), 'max-fail-runs: 0\n')
      const { code, stdout } = await cli([
        '--base-url',
        api.url,
        '--prompt-id',
        PROMPT,
        '--status',
        'completed',
        '--policy-file',
        join(dir, 'policy.yml'),
        '--format',
        'markdown'
      ])
      expect(code).toBe(EXIT.gateFailed)
      expect(stdout).toContain('**Failed:** fail-runs 3 &#62; max-fail-runs 0.')
      expect(stdout).toContain('| max-fail-runs | 3 | 0 | ❌ |')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('exits 0 on a failed gate with --fail-on-gate false', async () => {
    const { code, stderr } = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      PROMPT,
      '--policy',
      'max-fail-runs: 0',
      '--fail-on-gate',
      'false',
      '--quiet'
    ])
    expect(code).toBe(EXIT.passed)
    expect(stderr).toBe('The gate failed, but --fail-on-gate is false: exit 0.\n')
  })

  it('cancels in-flight evaluations submitted before --superseded-before', async () => {
    const { code, stdout } = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      PROMPT,
      '--superseded-before',
      new Date(NOW - HOUR / 2).toISOString(),
      '--format',
      'json'
    ])
    expect(code).toBe(EXIT.passed)
    expect(JSON.parse(stdout).cancelled).toEqual([fakeId('run', 3)])
    expect(api.evaluations(PROMPT).find(e => e.runId === fakeId('run', 3))?.status).toBe(
      'cancelling'
    )
  })

  it('refuses a --superseded-before later than now plus 5 min, naming the flag, before any request', async () => {
    const later = new Date(Date.now() + 6 * 60_000).toISOString()
    const { code, stderr } = await cli(['--prompt-id', PROMPT, '--superseded-before', later])
    expect(code).toBe(EXIT.usage)
    expect(stderr).toMatch(
      /^adaline-evals: --superseded-before is \S+, later than now \(\S+\) plus 5 min: it would cancel evaluations submitted after it/
    )
    expect(
      await cli(['--prompt-id', PROMPT, '--superseded-before', '8640000000000001'])
    ).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining(
        '--superseded-before is 8640000000000001, beyond the last time'
      )
    })
    expect(api.requests).toHaveLength(0)
  })

  it('exits 3 with one line, no stack, when the figures cannot be added up exactly', async () => {
    const prompt = fakeId('prm', 8)
    api.addPrompt(prompt, [
      makeEvaluation({ n: 81, cost: 1.7e308 }),
      makeEvaluation({ n: 82, cost: 1.7e308, evaluatorId: fakeId('evr', 82) })
    ])
    const { code, stderr } = await cli(
      ['--base-url', api.url, '--prompt-id', prompt, '--policy', 'scope: all', '--quiet'],
      {}
    )
    expect(code).toBe(EXIT.error)
    expect(stderr).toMatch(
      /^adaline-evals: The figures Adaline answered cannot be added up exactly: the total of metrics\.totalCost [^\n]+\n$/
    )
    expect(stderr).toContain(
      'narrow the judged set (--created-after, --evaluator-id, scope: latest)'
    )
  })

  it('cuts a 5 MB API message in a progress line on stderr, the key redacted first', async () => {
    api.inject({
      method: 'POST',
      path: '/cancel',
      status: 409,
      body: { error: { code: 'CONFLICT', message: `${api.apiKey}${'x'.repeat(5_000_000)}` } }
    })
    const { code, stderr } = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      PROMPT,
      '--superseded-before',
      new Date(NOW - HOUR / 2).toISOString()
    ])
    // the evaluation still runs after the refusal: a cancel that did not land
    expect(code).toBe(EXIT.cancelFailed)
    const warning = stderr.split('\n').find(line => line.startsWith('warning: Could not cancel'))
    expect(warning).toMatch(/409 CONFLICT: \*\*\*x+…/)
    expect(stderr).not.toContain(api.apiKey)
    expect(stderr.split('\n').every(line => line.length < 2_200)).toBe(true)
  })

  it('heads the text report with the cancel that did not land when the gate passed: exit 4, not a pass', async () => {
    api.inject({ method: 'POST', path: '/cancel', status: 403 })
    const { code, stdout } = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      PROMPT,
      '--superseded-before',
      new Date(NOW - HOUR / 2).toISOString(),
      '--policy',
      'max-fail-runs: 1000',
      '--quiet'
    ])
    expect(code).toBe(EXIT.cancelFailed)
    expect(stdout.split('\n')[0]).toBe('✗ Adaline evals: gate passed, but 1 cancel did not land')
  })

  it('exits 4 after printing the report when a superseded evaluation’s cancel did not land', async () => {
    api.inject({ method: 'POST', path: '/cancel', status: 403 })
    const { code, stdout, stderr } = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      PROMPT,
      '--superseded-before',
      new Date(NOW - HOUR / 2).toISOString(),
      '--policy',
      'max-fail-runs: 0',
      '--format',
      'json',
      '--quiet'
    ])
    // the gate failed too: 4 wins, for something may still be billing
    expect(code).toBe(EXIT.cancelFailed)
    const report = JSON.parse(stdout)
    expect(report.gate).toBe('failed')
    expect(report.cancelled).toEqual([])
    expect(report.cancelFailures).toEqual([
      expect.objectContaining({ runId: fakeId('run', 3), promptId: PROMPT })
    ])
    expect(stderr).toMatch(
      new RegExp(
        `^adaline-evals: Could not cancel 1 superseded evaluation, which may still be running and billing: ${fakeId('run', 3)} of prompt ${PROMPT} \\(still running after: POST .* answered 403 .*\\)\\. Cancel it in Adaline, or run again\\.\n$`
      )
    )
    expect(api.evaluations(PROMPT).find(e => e.runId === fakeId('run', 3))?.status).toBe('running')
  })

  it('names what it started when the run then ends with an error (the command has no started output)', async () => {
    await api.close()
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    api.inject({ method: 'GET', path: /\/evaluations\/run_[^/]+$/, status: 401 })
    const { code, stderr } = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      PROMPT,
      '--start',
      '--wait',
      '10m',
      '--cancel-on-abort',
      'false',
      '--quiet'
    ])
    const [started] = api.evaluations(PROMPT)
    expect(code).toBe(EXIT.error)
    expect(started?.status).toBe('queued')
    expect(stderr).toMatch(
      new RegExp(
        `^adaline-evals: GET /prompts/${PROMPT}/evaluations/${started!.runId} answered 401 .* This run had started: ${started!.runId}\\.\n$`
      )
    )
  })

  it('fetches failing rows for every format, JSON too, which shows them', async () => {
    const args = ['--base-url', api.url, '--prompt-id', PROMPT, '--policy', 'scope: all']
    const rows = () => api.requests.filter(r => r.path.endsWith('/results'))
    for (const format of ['text', 'markdown']) {
      api.clearRequests()
      const { code, stdout } = await cli([...args, '--format', format])
      expect(code).toBe(EXIT.passed)
      expect(stdout).toContain(format === 'text' ? 'Failing rows: ' : '### Failing rows')
      expect(rows().length).toBeGreaterThan(0)
    }
    api.clearRequests()
    const json = await cli([...args, '--format', 'json'])
    expect(json.code).toBe(EXIT.passed)
    const { evaluations } = JSON.parse(json.stdout) as { evaluations: { failingRows: [] }[] }
    expect(evaluations).toHaveLength(3)
    expect(evaluations.flatMap(e => e.failingRows).length).toBeGreaterThan(0)
    // only the failing rows: every row result is fetched for --junit alone
    expect(rows().every(r => r.query.has('grade'))).toBe(true)
  })

  it('writes the three files, the JSON one the same as --format json prints', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adaline-evals-cli-'))
    try {
      const args = ['--base-url', api.url, '--prompt-id', PROMPT, '--policy', 'scope: all']
      const files = {
        junit: join(dir, 'a/b/junit.xml'),
        report: join(dir, 'report.json'),
        metrics: join(dir, 'metrics/adaline.txt')
      }
      const { code, stdout } = await cli([
        ...args,
        '--format',
        'json',
        '--junit',
        files.junit,
        '--report-file',
        files.report,
        '--metrics-file',
        files.metrics
      ])
      expect(code).toBe(EXIT.passed)
      expect(readFileSync(files.report, 'utf8')).toBe(stdout)
      expect(readFileSync(files.junit, 'utf8')).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>/)
      expect(readFileSync(files.metrics, 'utf8')).toMatch(/\n# EOF\n$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('prints the report, names the flag of a file it cannot write, and exits 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adaline-evals-cli-'))
    try {
      writeFileSync(join(dir, 'taken'), '')
      const written = join(dir, 'metrics.txt')
      const { code, stdout, stderr } = await cli([
        '--base-url',
        api.url,
        '--prompt-id',
        PROMPT,
        '--format',
        'markdown',
        '--quiet',
        '--junit',
        join(dir, 'taken/junit.xml'),
        '--metrics-file',
        written
      ])
      expect(code).toBe(EXIT.error)
      expect(stdout).toContain('Adaline')
      expect(stderr).toBe(
        `adaline-evals: --junit: cannot write ${JSON.stringify(join(dir, 'taken/junit.xml'))}: a part of its path is a file, not a folder (ENOTDIR)\n`
      )
      // the others are written all the same
      expect(readFileSync(written, 'utf8')).toMatch(/# EOF\n$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('names --junit, not the input, for a bad path, before any request', async () => {
    expect(
      await cli(['--base-url', api.url, '--prompt-id', PROMPT, '--junit', 'out/'])
    ).toMatchObject({
      code: EXIT.usage,
      stderr:
        'adaline-evals: --junit is "out/", a folder; give a file path such as reports/adaline.xml\n'
    })
    expect(api.requests).toEqual([])
  })

  it('names the flag of a bad option and exits 2, before any request', async () => {
    expect(await cli(['--base-url', api.url, '--prompt-id', 'short'])).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('--prompt-id has "short"')
    })
    expect(await cli(['--prompt-id', PROMPT, '--format', 'yaml'])).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('--format is "yaml"')
    })
    expect(await cli(['--prompt-id', PROMPT, '--superseded-before', 'soon'])).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('--superseded-before is "soon"')
    })
    expect(
      await cli(['--prompt-id', PROMPT, '--policy-file', '/nonexistent/policy.yml'])
    ).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('--policy-file cannot be read')
    })
    expect(await cli(['--prompt-id', PROMPT], { ADALINE_API_KEY: '' })).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('adaline-evals: ADALINE_API_KEY is required: set')
    })
    expect(await cli(['--prompt-id', PROMPT, '--max-requests-per-minute', 'many'])).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('--max-requests-per-minute is "many"')
    })
    expect(await cli(['--nope'])).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining("Unknown option '--nope'")
    })
    expect(api.requests).toHaveLength(0)
  })

  it('keeps to --max-requests-per-minute, measured where the requests arrive', async () => {
    // 240 a minute: one every 250 ms, over a listing per prompt and status
    const { code } = await cli([
      '--base-url',
      api.url,
      '--prompt-id',
      `${PROMPT},${PROMPT_2}`,
      '--status',
      'running,completed',
      '--max-requests-per-minute',
      '240'
    ])
    expect(code).toBe(EXIT.passed)
    const times = api.requests.map(r => r.receivedAt)
    expect(times.length).toBeGreaterThanOrEqual(4)
    // any k+1 requests in a row span k × 250 ms, less what a request's way to the fake may vary
    // (here in the test's own busy process: up to half a spacing)
    for (let i = 0; i < times.length; i += 1)
      for (let j = i + 1; j < times.length; j += 1)
        expect(times[j]! - times[i]!).toBeGreaterThan((j - i) * 250 - 125)
  })

  it('exits 3 on an API error, naming the endpoint, without the key', async () => {
    api.inject({
      status: 400,
      body: { error: { code: 'BAD_REQUEST', message: `echo ${api.apiKey}` } }
    })
    const { code, stdout, stderr } = await cli(['--base-url', api.url, '--prompt-id', PROMPT])
    expect(code).toBe(EXIT.error)
    expect(stderr).toContain(
      `adaline-evals: GET /prompts/${PROMPT}/evaluations answered 400 BAD_REQUEST: echo ***`
    )
    expect(stdout + stderr).not.toContain(api.apiKey)
  })

  it('runs as the bundled bin', () => {
    const bin = resolve('dist/cli/index.js')
    const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' })
    expect(help.status).toBe(0)
    expect(help.stdout).toMatch(/^Usage: adaline-evals --prompt-id ID/)
    // the version is the bundle's own, whatever folder it runs from
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    for (const flag of ['--version', '-v']) {
      const shown = spawnSync(process.execPath, [bin, flag], { encoding: 'utf8', cwd: tmpdir() })
      expect(shown.status).toBe(0)
      expect(shown.stdout).toBe(`adaline-evals ${version}\n`)
    }
    const bad = spawnSync(process.execPath, [bin, '--prompt-id', 'short'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, ADALINE_API_KEY: 'adl_live_0123456789abcdef' }
    })
    expect(bad.status).toBe(EXIT.usage)
    expect(bad.stderr).toContain('--prompt-id has "short"')
  })

  it('prints its version with --version or -v, without a key or a request', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }
    expect(version).toMatch(/^\d+\.\d+\.\d+/)
    for (const flag of ['--version', '-v']) {
      expect(await cli([flag], { ADALINE_API_KEY: '' })).toEqual({
        code: EXIT.passed,
        stdout: `adaline-evals ${version}\n`,
        stderr: ''
      })
    }
    expect(api.requests).toHaveLength(0)
  })

  it('colours the text report on a terminal only, as NO_COLOR and FORCE_COLOR say, sized to its width', async () => {
    const args = [
      '--base-url',
      api.url,
      '--prompt-id',
      PROMPT,
      '--policy',
      'max-fail-runs: 0',
      '--quiet'
    ]
    // eslint-disable-next-line no-control-regex -- looking for escape sequences is the point
    const coloured = (text: string) => /\u001b\[\d+m/.test(text)
    const widest = (text: string) => Math.max(...text.split('\n').map(line => stringWidth(line)))
    const piped = await cli(args)
    expect(piped.code).toBe(EXIT.gateFailed)
    expect(coloured(piped.stdout)).toBe(false)
    expect(piped.stdout).toMatch(/^✗ Adaline evals: gate failed/)
    const tty = { isTTY: true, columns: 120 }
    const terminal = await cli(args, {}, tty)
    expect(coloured(terminal.stdout)).toBe(true)
    expect(widest(terminal.stdout)).toBeGreaterThan(80)
    expect(widest(terminal.stdout)).toBeLessThanOrEqual(120)
    expect(coloured((await cli(args, { NO_COLOR: '1' }, tty)).stdout)).toBe(false)
    expect(coloured((await cli(args, { FORCE_COLOR: '1' })).stdout)).toBe(true)
    expect(coloured((await cli(args, { FORCE_COLOR: '0' }, tty)).stdout)).toBe(false)
    // a narrow terminal, and COLUMNS when piped
    expect(widest((await cli(args, {}, { isTTY: true, columns: 60 })).stdout)).toBeLessThanOrEqual(
      60
    )
    expect(widest((await cli(args, { COLUMNS: '100' })).stdout)).toBeGreaterThan(80)
    // colour never reaches Markdown or JSON
    for (const format of ['markdown', 'json'])
      expect(
        coloured((await cli([...args, '--format', format], { FORCE_COLOR: '1' }, tty)).stdout)
      ).toBe(false)
  })

  it('decides colour: NO_COLOR wins, FORCE_COLOR forces unless 0 or false, else a TTY', () => {
    expect(useColor({}, true)).toBe(true)
    expect(useColor({}, false)).toBe(false)
    expect(useColor({ NO_COLOR: '' }, true)).toBe(true)
    expect(useColor({ NO_COLOR: '1', FORCE_COLOR: '1' }, true)).toBe(false)
    expect(useColor({ FORCE_COLOR: '1' }, false)).toBe(true)
    expect(useColor({ FORCE_COLOR: '3' }, false)).toBe(true)
    expect(useColor({ FORCE_COLOR: 'false' }, true)).toBe(false)
    expect(useColor({ FORCE_COLOR: '' }, false)).toBe(false)
  })

  describe('names ADALINE_API_KEY, GITHUB_TOKEN and its flags in every message, never the action inputs', () => {
    const inputs = Object.keys(
      (parse(readFileSync('action.yml', 'utf8')) as { inputs: Record<string, unknown> }).inputs
    )
    const dir = mkdtempSync(join(tmpdir(), 'adaline-evals-cli-names-'))
    const badPolicy = join(dir, 'policy.yml')
    writeFileSync(badPolicy, 'max-fail-runs: -1\n')
    afterAll(() => rmSync(dir, { recursive: true, force: true }))
    const KEY = 'adl_live_0123456789abcdef0123'
    const cases: [string, string[], Record<string, string>, string][] = [
      ['no key', ['--prompt-id', PROMPT], { ADALINE_API_KEY: '' }, 'ADALINE_API_KEY is required: '],
      [
        'a short key',
        ['--prompt-id', PROMPT],
        { ADALINE_API_KEY: 'short' },
        'ADALINE_API_KEY is not a workspace API key: '
      ],
      [
        'a key with spaces',
        ['--prompt-id', PROMPT],
        { ADALINE_API_KEY: `Bearer ${KEY}` },
        'ADALINE_API_KEY contains white space'
      ],
      [
        'a key with odd characters',
        ['--prompt-id', PROMPT],
        { ADALINE_API_KEY: `${KEY}%&"` },
        'ADALINE_API_KEY is not a workspace API key: '
      ],
      ['no prompt', [], {}, '--prompt-id is required'],
      ['a bad prompt ID', ['--prompt-id', 'x'], {}, '--prompt-id has "x"'],
      [
        'a bad evaluator ID',
        ['--prompt-id', PROMPT, '--evaluator-id', 'a/b'],
        {},
        '--evaluator-id has "a/b"'
      ],
      [
        'a bad dataset ID',
        ['--prompt-id', PROMPT, '--dataset-id', 'a b'],
        {},
        '--dataset-id has "a b"'
      ],
      ['a bad status', ['--prompt-id', PROMPT, '--status', 'done'], {}, '--status has "done"'],
      [
        'a bad kept run ID',
        ['--prompt-id', PROMPT, '--keep-run-ids', 'x'],
        {},
        '--keep-run-ids has "x"'
      ],
      ['a bad policy', ['--prompt-id', PROMPT, '--policy', 'max-fail-runs: -1'], {}, '--policy '],
      [
        'a bad policy file',
        ['--prompt-id', PROMPT, '--policy-file', badPolicy],
        {},
        '--policy-file '
      ],
      [
        'an unreadable policy file',
        ['--prompt-id', PROMPT, '--policy-file', join(dir, 'none.yml')],
        {},
        '--policy-file cannot be read'
      ],
      [
        'a bad created-after',
        ['--prompt-id', PROMPT, '--created-after', 'soon'],
        {},
        '--created-after is "soon"'
      ],
      [
        'a bad cancel mode',
        ['--prompt-id', PROMPT, '--cancel-superseded', 'always'],
        {},
        '--cancel-superseded is "always"'
      ],
      [
        'a bad fail-on-gate',
        ['--prompt-id', PROMPT, '--fail-on-gate', 'maybe'],
        {},
        '--fail-on-gate is "maybe"'
      ],
      [
        'a bad cancel-on-abort',
        ['--prompt-id', PROMPT, '--cancel-on-abort', 'maybe'],
        {},
        '--cancel-on-abort is "maybe"'
      ],
      ['a bad base URL', ['--prompt-id', PROMPT, '--base-url', 'nope'], {}, '--base-url is "nope"'],
      [
        'an http base URL',
        ['--prompt-id', PROMPT, '--base-url', 'http://example.com/v2'],
        {},
        '--base-url uses http://'
      ],
      [
        'a base URL of another scheme',
        ['--prompt-id', PROMPT, '--base-url', 'ftp://example.com/v2'],
        {},
        '--base-url must be an https:// URL'
      ],
      [
        'a base URL with credentials',
        ['--prompt-id', PROMPT, '--base-url', 'https://u:p@example.com/v2'],
        {},
        '--base-url must not carry credentials'
      ],
      [
        'a created-after in seconds',
        ['--prompt-id', PROMPT, '--created-after', '1700000000'],
        {},
        '--created-after is 1700000000, which reads as Unix seconds'
      ],
      [
        'a cutoff in the future',
        ['--prompt-id', PROMPT, '--superseded-before', '2999-01-01T00:00:00Z'],
        {},
        '--superseded-before is 2999-01-01T00:00:00.000Z, later than now'
      ],
      ['a bad wait', ['--prompt-id', PROMPT, '--wait', '7h'], {}, '--wait is "7h"'],
      [
        'a bad rate cap',
        ['--prompt-id', PROMPT, '--max-requests-per-minute', '0'],
        {},
        '--max-requests-per-minute is "0"'
      ],
      [
        'a JUnit folder',
        ['--prompt-id', PROMPT, '--junit', 'out/'],
        {},
        '--junit is "out/", a folder'
      ],
      [
        'a report folder',
        ['--prompt-id', PROMPT, '--report-file', '.'],
        {},
        '--report-file is ".", a folder'
      ],
      [
        'a metrics folder',
        ['--prompt-id', PROMPT, '--metrics-file', 'm/'],
        {},
        '--metrics-file is "m/", a folder'
      ],
      [
        'two reports in one file',
        ['--prompt-id', PROMPT, '--junit', 'r.xml', '--report-file', 'r.xml'],
        {},
        '--report-file names the same file as --junit'
      ],
      ['a bad format', ['--prompt-id', PROMPT, '--format', 'yaml'], {}, '--format is "yaml"'],
      [
        'a bad cutoff',
        ['--prompt-id', PROMPT, '--superseded-before', 'soon'],
        {},
        '--superseded-before is "soon"'
      ],
      [
        'the key in another flag',
        ['--prompt-id', PROMPT, '--evaluator-id', `${KEY}/x`],
        { ADALINE_API_KEY: KEY },
        '--evaluator-id holds the ADALINE_API_KEY or GITHUB_TOKEN value'
      ]
    ]
    it.each(cases)('%s', async (_, args, env, expected) => {
      const { code, stdout, stderr } = await cli(['--base-url', api.url, ...args], env)
      expect({ code, stdout }).toEqual({ code: EXIT.usage, stdout: '' })
      expect(stderr.split('\n')).toHaveLength(2)
      expect(stderr.startsWith(`adaline-evals: ${expected}`)).toBe(true)
      expect(stderr).not.toMatch(/\bInput |secrets\.ADALINE_API_KEY/)
      for (const input of inputs.filter(name => name.includes('-')))
        expect(stderr).not.toMatch(new RegExp(`(?<![-\\w])${input}\\b`))
      expect(api.requests).toHaveLength(0)
    })
  })

  it.each([
    ['SIGTERM', 143],
    ['SIGINT', 130]
  ] as const)(
    'cancels the evaluation it started on %s (a cancelled CI job) and exits %i',
    async (signal, status) => {
      await api.close()
      api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
      api.addPrompt(PROMPT)
      const bin = resolve('dist/cli/index.js')
      const child = spawn(
        process.execPath,
        [bin, '--prompt-id', PROMPT, '--base-url', api.url, '--start', '--wait', '10m'],
        { env: { PATH: process.env.PATH, ADALINE_API_KEY: api.apiKey }, stdio: 'pipe' }
      )
      let stderr = ''
      child.stderr.setEncoding('utf8').on('data', chunk => (stderr += chunk))
      const exited = new Promise<number | null>(done => child.on('close', code => done(code)))
      while (!api.requests.some(r => r.method === 'GET' && /\/evaluations\/run_/.test(r.path))) {
        await new Promise(r => setTimeout(r, 20))
      }
      child.kill(signal)
      expect(await exited).toBe(status)
      const [started] = api.evaluations(PROMPT)
      expect(started?.status).toBe('cancelling')
      expect(stderr).toContain(
        `adaline-evals: stopped by ${signal}; no verdict was reached. Cancelled 1 evaluation this run started: ${started?.runId}.`
      )
    },
    30_000
  )

  it('on SIGTERM during the start POST, waits for its answer, cancels what it created and exits 143', async () => {
    await api.close()
    api = await FakeAdaline.start({ lifecycle: { queuedMs: 60_000 } })
    api.addPrompt(PROMPT)
    // the start takes effect on arrival; its answer comes 1.5 s later
    api.inject({ method: 'POST', path: /\/evaluations$/, answerAfterMs: 1_500 })
    const bin = resolve('dist/cli/index.js')
    const child = spawn(
      process.execPath,
      [bin, '--prompt-id', PROMPT, '--base-url', api.url, '--start', '--wait', '10m'],
      { env: { PATH: process.env.PATH, ADALINE_API_KEY: api.apiKey }, stdio: 'pipe' }
    )
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', chunk => (stderr += chunk))
    const exited = new Promise<number | null>(done => child.on('close', code => done(code)))
    while (!api.requests.some(r => r.method === 'POST' && r.answeredAt === undefined)) {
      await new Promise(r => setTimeout(r, 10))
    }
    child.kill('SIGTERM')
    expect(await exited).toBe(143)
    const [started] = api.evaluations(PROMPT)
    expect(['cancelling', 'cancelled']).toContain(started?.status)
    expect(stderr).toContain(
      `adaline-evals: stopped by SIGTERM; no verdict was reached. Cancelled 1 evaluation this run started: ${started?.runId}.\n`
    )
    // the run's own ending is left to the abort: no second message
    expect(stderr.match(/^adaline-evals: /gm)).toHaveLength(1)
  }, 30_000)
})

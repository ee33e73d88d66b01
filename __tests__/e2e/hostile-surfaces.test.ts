/**
 * Hostile answers and inputs on the surfaces of issues 14 and 16, end to end: dist/index.js and
 * the command run as the runner and a shell run them, against the fake API over real HTTP. Each
 * fault ends in one ::error naming the input or endpoint, or a warning and a safe default; never a
 * stack trace, never a verdict from partial rows, never a billed start before a refused input.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { XMLValidator } from 'fast-xml-parser'
import stringWidth from 'string-width'
import { FakeAdaline, fakeId, makeEvaluation } from '../../test-support/fake-adaline.js'
import {
  decodeCommandText,
  runAction,
  runCommand,
  type ActionRun
} from '../../test-support/run-action.js'

const PROMPT = fakeId('prm', 1)

let api: FakeAdaline
let dir: string

beforeEach(async () => {
  api = await FakeAdaline.start()
  dir = mkdtempSync(join(tmpdir(), 'hostile-surfaces-'))
})

afterEach(async () => {
  await api.close()
  rmSync(dir, { recursive: true, force: true })
})

const inputs = (extra: Record<string, string> = {}) => ({
  'api-key': api.apiKey,
  'base-url': api.url,
  'prompt-id': PROMPT,
  ...extra
})

/** The `::warning::` lines' messages. */
function warnings(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter(line => line.startsWith('::warning'))
    .map(line => decodeCommandText(line.slice(line.indexOf('::', 2) + 2)))
}

/** No stack trace and nothing called unexpected anywhere in what the run printed. */
function expectNoCrash(run: { stdout: string; stderr: string }): void {
  const printed = run.stdout + run.stderr
  expect(printed).not.toMatch(/\n\s+at /)
  expect(printed).not.toContain('Unexpected error')
}

// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

/** Titles a team (or a compromised API) could give: each a class of injection. */
const HOSTILE_TITLES = [
  '<img src=x onerror=alert(1)> **bold** [click](https://evil.example) | cell @team',
  '\u001b[2J\u001b[31mRed\u001b[0m\r\nsecond line\u0007',
  '\u001b]8;;https://evil.example\u0007Click me\u001b]8;;\u0007',
  'Safe \u202eexe.TXT\u202c name',
  '評価者の名前がとても長い場合の表示を確認するためのタイトル 🚀👩‍👩‍👧 '.repeat(4),
  '',
  'x'.repeat(10_000)
]

/** One evaluation per hostile title, with the listing serving the titles as given. */
function seedHostileTitles(): string[] {
  const ids = HOSTILE_TITLES.map((_, i) => fakeId('evr', i + 1))
  api.addPrompt(
    PROMPT,
    ids.map((evaluatorId, i) => makeEvaluation({ n: i + 1, evaluatorId }))
  )
  api.inject({
    path: `/v2/prompts/${PROMPT}/evaluators`,
    body: {
      evaluators: ids.map((id, i) => ({ id, promptId: PROMPT, title: HOSTILE_TITLES[i] })),
      pagination: { hasMore: false, nextCursor: null }
    },
    times: Infinity
  })
  return ids
}

describe('evaluator titles from a hostile listing', () => {
  it('reach the summary, the JSON report and JUnit inert, and the run passes', async () => {
    const ids = seedHostileTitles()
    const run = await runAction(
      inputs({
        'junit-file': join(dir, 'junit.xml'),
        'report-file': join(dir, 'report.json')
      })
    )
    expectNoCrash(run)
    expect(run.exitCode).toBe(0)
    expect(run.errors).toEqual([])
    expect(api.requests.filter(r => r.path.endsWith('/evaluators'))).toHaveLength(1)

    // the summary: no tag, link or control character of a title's survives
    expect(run.summary).not.toMatch(/<img|\]\(https:\/\/evil|\*\*bold|@team/)
    expect(run.summary).not.toMatch(CONTROL)
    expect(run.summary).toContain('Safe exe.TXT name')

    const json = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as {
      evaluations: { evaluatorId: string; evaluatorTitle: string | null }[]
    }
    const title = (id: string) => json.evaluations.find(e => e.evaluatorId === id)?.evaluatorTitle
    expect(title(ids[1]!)).toBe('Red second line')
    expect(title(ids[2]!)).toBe('Click me')
    expect(title(ids[3]!)).toBe('Safe exe.TXT name')
    expect(title(ids[5]!)).toBeNull() // an empty title: the ID names it
    expect(Array.from(title(ids[6]!) ?? '')).toHaveLength(200)
    for (const e of json.evaluations) expect(e.evaluatorTitle ?? '').not.toMatch(CONTROL)

    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8')
    expect(XMLValidator.validate(junit)).toBe(true)
    expect(junit).not.toMatch(CONTROL)
  })

  it.each([
    ['NO_COLOR at 80 columns', { COLUMNS: '80', NO_COLOR: '1' }, 80, false],
    ['FORCE_COLOR at 80 columns', { COLUMNS: '80', FORCE_COLOR: '1' }, 80, true],
    [
      'NO_COLOR and FORCE_COLOR (NO_COLOR wins) at 40',
      { COLUMNS: '40', NO_COLOR: '1', FORCE_COLOR: '1' },
      40,
      false
    ],
    ['FORCE_COLOR at COLUMNS=20', { COLUMNS: '20', FORCE_COLOR: '1' }, 20, true]
  ])(
    'reach the terminal report without escape sequences of their own (%s)',
    async (_, env, width, coloured) => {
      seedHostileTitles()
      const run = await runCommand(['--base-url', api.url, '--prompt-id', PROMPT], {
        env: { ADALINE_API_KEY: api.apiKey, ...env }
      })
      expectNoCrash(run)
      expect(run.exitCode).toBe(0)
      const text = run.stdout
      // colour only as SGR, only when asked; never a screen clear, a cursor move or an OSC 8 link
      // eslint-disable-next-line no-control-regex -- looking for escape sequences is the point
      const sequences = text.match(/\u001b(\[[0-9;]*[A-Za-z]|\][^\u0007]*)/g) ?? []
      if (!coloured) expect(sequences).toEqual([])
      // eslint-disable-next-line no-control-regex -- an SGR sequence starts with ESC
      for (const sequence of sequences) expect(sequence).toMatch(/^\u001b\[[0-9;]*m$/)
      expect(text).not.toContain('\u001b]')
      for (const char of ['\u202a', '\u202e', '\u2066', '\u2069', '\r', '\u0007'])
        expect(text).not.toContain(char)
      // below 40 columns the title column is a few characters wide: the words are broken there
      if (width >= 40) expect(text).toContain('Click me')
      // every line fits the width the report was asked for, 20 columns too
      for (const line of text.split('\n')) {
        // eslint-disable-next-line no-control-regex -- measuring without the colours
        expect(stringWidth(line.replace(/\u001b\[[0-9;]*m/g, ''))).toBeLessThanOrEqual(width)
      }
    }
  )
})

describe('evaluators listing faults: a warning and the IDs, never a failed run', () => {
  it('a listing that hangs costs the run at most the names stage deadline, then a warning', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    api.inject({ path: `/v2/prompts/${PROMPT}/evaluators`, hang: true, times: Infinity })
    const started = Date.now()
    const run = await runAction(inputs(), { timeoutMs: 80_000 })
    expect(Date.now() - started).toBeLessThan(45_000)
    expectNoCrash(run)
    expect(run.exitCode).toBe(0)
    expect(run.errors).toEqual([])
    expect(warnings(run.stdout).filter(w => w.includes('evaluators'))).toEqual([
      expect.stringMatching(new RegExp(`^Could not list the evaluators of prompt ${PROMPT}; `))
    ])
    expect(run.summary).toContain(makeEvaluation({ n: 1 }).evaluatorId)
  }, 90_000)

  it.each([
    ['403', { status: 403 }],
    ['404', { status: 404 }],
    ['500 every time', { status: 500 }],
    [
      'a cursor that repeats',
      { body: { evaluators: [], pagination: { hasMore: true, nextCursor: 'again' } } }
    ],
    ['a page that is not a listing', { body: { evaluators: { id: 1 } } }]
  ])('%s', async (_, fault) => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    api.inject({ path: `/v2/prompts/${PROMPT}/evaluators`, times: Infinity, ...fault })
    const run: ActionRun = await runAction(inputs())
    expectNoCrash(run)
    expect(run.exitCode).toBe(0)
    expect(run.errors).toEqual([])
    const said = warnings(run.stdout).filter(w => w.includes('evaluators'))
    expect(said).toHaveLength(1)
    expect(said[0]).toMatch(
      new RegExp(
        `^Could not list the evaluators of prompt ${PROMPT}; the report names its evaluations by evaluator ID: GET /prompts/${PROMPT}/evaluators`
      )
    )
    expect(run.summary).toContain(makeEvaluation({ n: 1 }).evaluatorId)
  })
})

describe('baseline-run-id pins', () => {
  const DAY = 24 * 3_600_000
  const starts = () =>
    api.requests.filter(r => r.method === 'POST' && r.path.endsWith(`${PROMPT}/evaluations`))
  const cancels = () => api.requests.filter(r => r.method === 'POST' && r.path.endsWith('/cancel'))

  /** A completed judged evaluation and an older completed one of the same evaluator and dataset. */
  function seed() {
    const pair = api.addPairedEvaluations(PROMPT, {
      rows: 20,
      nowFails: [1],
      baselineSubmittedAt: Date.now() - 3 * DAY,
      submittedAt: Date.now() - DAY
    })
    return pair
  }

  const lookups = (runId: string) =>
    api.requests.filter(r => r.method === 'GET' && r.path.endsWith(`/evaluations/${runId}`))
  const listings = () => api.requests.filter(r => r.path.endsWith(`${PROMPT}/evaluations`))

  /** Refused with one ::error naming the input, no stack trace, nothing started or cancelled. */
  function expectRefused(run: ActionRun): string {
    expectNoCrash(run)
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/^Input baseline-run-id /)
    expect(starts()).toEqual([])
    expect(cancels()).toEqual([])
    return run.errors[0]!
  }

  it('refuses the judged run itself as its own baseline, before anything is cancelled', async () => {
    const pair = seed()
    const superseded = makeEvaluation({
      n: 7,
      status: 'running',
      submittedAt: Date.now() - 2 * DAY
    })
    api.addEvaluations(PROMPT, [superseded])
    const run = await runAction(
      inputs({ policy: 'max-new-failures: 0', 'baseline-run-id': pair.judged.runId })
    )
    expect(expectRefused(run)).toBe(
      `Input baseline-run-id has ${pair.judged.runId}, which is the judged evaluation itself: pin an earlier completed evaluation of the same evaluator and dataset`
    )
    expect(api.requests.filter(r => r.path.endsWith('/results'))).toEqual([])
  })

  it('with start: true, refuses a pin before any request unless evaluator-id and dataset-id are set to check it', async () => {
    const pair = seed()
    const run = await runAction(inputs({ start: 'true', 'baseline-run-id': pair.baseline.runId }))
    expect(expectRefused(run)).toBe(
      "Input baseline-run-id needs evaluator-id and dataset-id when start starts the judged evaluations: set them to the pinned run's evaluator and dataset, so that the pin is checked before a billed start"
    )
    expect(api.requests).toEqual([])
    const onlyEvaluator = await runAction(
      inputs({
        start: 'true',
        'evaluator-id': pair.baseline.evaluatorId,
        'baseline-run-id': pair.baseline.runId
      })
    )
    expect(expectRefused(onlyEvaluator)).toBe(
      "Input baseline-run-id needs dataset-id when start starts the judged evaluations: set it to the pinned run's dataset, so that the pin is checked before a billed start"
    )
    expect(api.requests).toEqual([])
  })

  it('with start: true, refuses a pin of another evaluator than evaluator-id before the billed start', async () => {
    seed()
    const other = makeEvaluation({
      runId: fakeId('run_other', 1),
      evaluatorId: fakeId('evl', 9),
      submittedAt: Date.now() - 2 * DAY
    })
    api.addEvaluations(PROMPT, [other])
    const run = await runAction(
      inputs({
        start: 'true',
        'evaluator-id': fakeId('evl', 1),
        'dataset-id': String(other.datasetId),
        'baseline-run-id': other.runId
      })
    )
    expect(expectRefused(run)).toBe(
      `Input baseline-run-id has ${other.runId}, of evaluator ${fakeId('evl', 9)}, but evaluator-id is ${fakeId('evl', 1)}: pin a completed evaluation of the evaluator judged`
    )
    expect(listings()).toEqual([])
  })

  it('refuses a pin of another dataset than dataset-id before anything is listed', async () => {
    const pair = seed()
    const run = await runAction(
      inputs({ 'dataset-id': fakeId('dst', 5), 'baseline-run-id': pair.baseline.runId })
    )
    expect(expectRefused(run)).toMatch(
      new RegExp(`of dataset ${pair.baseline.datasetId}, but dataset-id is ${fakeId('dst', 5)}`)
    )
    expect(listings()).toEqual([])
  })

  it.each(['cancelled', 'failed', 'cancelling', 'queued'] as const)(
    'refuses a %s pin before anything is listed',
    async status => {
      seed()
      const pin = makeEvaluation({ runId: fakeId('run_pin', 1), status })
      api.addEvaluations(PROMPT, [pin])
      const run = await runAction(inputs({ 'baseline-run-id': pin.runId }))
      expect(expectRefused(run)).toBe(
        `Input baseline-run-id has ${pin.runId}, which is ${status}, not completed: pin a completed evaluation (its rows are all graded)`
      )
      expect(listings()).toEqual([])
    }
  )

  it('refuses a pin of a prompt not listed in prompt-id', async () => {
    seed()
    const elsewhere = fakeId('prm', 2)
    api.addPrompt(elsewhere, [makeEvaluation({ runId: fakeId('run_elsewhere', 1) })])
    const run = await runAction(inputs({ 'baseline-run-id': fakeId('run_elsewhere', 1) }))
    expect(expectRefused(run)).toMatch(/which is no evaluation of the prompt in prompt-id/)
  })

  it('looks a pin given twice up once', async () => {
    const pair = seed()
    const id = pair.baseline.runId
    const run = await runAction(
      inputs({ policy: 'max-new-failures: 5', 'baseline-run-id': `${id},${id}\n ${id}` })
    )
    expectNoCrash(run)
    expect(run.exitCode).toBe(0)
    expect(lookups(id)).toHaveLength(1)
  })

  it('refuses more than 50 pins before any request, and the command names its flag', async () => {
    seed()
    const many = Array.from({ length: 51 }, (_, i) => fakeId('run_pin', i + 1)).join(',')
    const run = await runAction(inputs({ 'baseline-run-id': many }))
    expect(expectRefused(run)).toBe(
      'Input baseline-run-id has 51 run IDs; at most 50: pin one completed evaluation per evaluator and dataset judged'
    )
    expect(api.requests).toEqual([])

    const command = await runCommand(
      [
        '--base-url',
        api.url,
        '--prompt-id',
        PROMPT,
        '--start',
        '--baseline-run-id',
        fakeId('run_pin', 1)
      ],
      { env: { ADALINE_API_KEY: api.apiKey } }
    )
    expectNoCrash(command)
    expect(command.exitCode).toBe(2)
    expect(command.stderr).toContain(
      'adaline-evals: --baseline-run-id needs --evaluator-id and --dataset-id when --start starts the judged evaluations'
    )
    expect(api.requests).toEqual([])
  })

  it('a pin lookup that fails names the endpoint in one error', async () => {
    const pair = seed()
    api.inject({ path: `/evaluations/${pair.baseline.runId}`, status: 403, times: Infinity })
    const run = await runAction(inputs({ 'baseline-run-id': pair.baseline.runId }))
    expectNoCrash(run)
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(
      new RegExp(`^GET /prompts/${PROMPT}/evaluations/${pair.baseline.runId} answered 403`)
    )
    expect(listings()).toEqual([])
  })
})

describe('evaluation-url', () => {
  it('links each evaluation without letting the template or an ID end the link or the cell', async () => {
    const evaluation = makeEvaluation({ n: 1 })
    api.addPrompt(PROMPT, [evaluation])
    const template =
      'https://app.example/p/{promptId}/e/{runId}?x=1)](https://evil.example)|<b>"\'&y=[2]#{evaluatorId}`*_'
    const run = await runAction(inputs({ 'evaluation-url': template }))
    expectNoCrash(run)
    expect(run.exitCode).toBe(0)
    const links = run.summary.match(/\]\(https:\/\/app\.example\/[^)\s]*\)/g) ?? []
    expect(links).toHaveLength(1)
    expect(links[0]).toContain(
      `/p/${PROMPT}/e/${evaluation.runId}?x=1%29%5D%28https://evil.example%29%7C`
    )
    expect(run.summary).not.toContain('](https://evil')
    expect(run.summary).not.toContain('<b>')
  })

  it.each([
    ['javascript:alert(1)//{runId}', 'uses javascript'],
    ['https://{promptId}.evil.example/{runId}', 'has a placeholder in its scheme, host or port'],
    ['https://app.example/%7BrunId%7D', 'write {runId}']
  ])('refuses %s before any request, naming the input', async (template, says) => {
    const run = await runAction(inputs({ 'evaluation-url': template }))
    expectNoCrash(run)
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/^Input evaluation-url /)
    expect(run.errors[0]).toContain(says)
    expect(api.requests).toEqual([])
  })
})

describe('row comparisons from a results listing that ends early', () => {
  it.each([
    ['max-new-failures: 0', /^max-new-failures cannot be judged: /],
    ['max-pass-rate-drop: 1%\nsignificance: 0.05', /not compared row by row/]
  ])('fail closed under %j: no verdict from partial rows', async (policy, says) => {
    // 400 rows, 40 newly failing; the judged side's listing stops after its first 200, none failing
    const pair = api.addPairedEvaluations(PROMPT, {
      rows: 400,
      nowFails: Array.from({ length: 40 }, (_, i) => 399 - i)
    })
    const first = api.results(PROMPT, pair.judged.runId).slice(0, 200)
    expect(first.every(r => r.grade === 'pass')).toBe(true)
    api.inject({
      path: `/evaluations/${pair.judged.runId}/results`,
      body: { results: first, pagination: { hasMore: false, nextCursor: null } },
      times: Infinity
    })
    const run = await runAction(inputs({ policy }))
    expectNoCrash(run)
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(says)
    expect(run.errors[0]).toContain('the listing ended early')
    expect(run.outputs['new-failures']).toBe('')
    expect(run.outputs['p-value']).toBe('')
  })
})

describe('API text in the newly failing rows', () => {
  const HOSTILE_REASON =
    '\u001b[2J\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007 \u202eesrever\u202c <script>x</script> ](https://evil.example) | @team \u0000\ud800 ' +
    'long '.repeat(2_000)

  /** A regression of three rows whose judged reasons (and row values) are hostile. */
  function seedHostileRows() {
    const pair = api.addPairedEvaluations(PROMPT, { rows: 30, nowFails: [3, 4, 5] })
    const results = api.results(PROMPT, pair.judged.runId).map(r =>
      r.grade === 'fail'
        ? {
            ...r,
            reason: HOSTILE_REASON,
            row: { values: { question: '\u001b[31mred\u001b[0m \u202e?', nested: { a: [1, 2] } } }
          }
        : r
    )
    api.setResults(PROMPT, pair.judged.runId, results)
    return pair
  }

  it('reach the summary, JSON and JUnit inert', async () => {
    seedHostileRows()
    const run = await runAction(
      inputs({
        policy: 'max-new-failures: 0',
        'junit-file': join(dir, 'junit.xml'),
        'report-file': join(dir, 'report.json')
      })
    )
    expectNoCrash(run)
    expect(run.exitCode).toBe(1)
    expect(run.errors).toEqual(['new failures 3 > max-new-failures 0'])
    expect(run.summary).not.toMatch(CONTROL)
    expect(run.summary).not.toMatch(/<script|\]\(https:\/\/evil|@team/)
    // one hostile reason cannot flood the summary
    expect(run.summary.length).toBeLessThan(60_000)
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8')
    expect(XMLValidator.validate(junit)).toBe(true)
    expect(() => JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'))).not.toThrow()
  })

  it.each([
    ['NO_COLOR', { COLUMNS: '80', NO_COLOR: '1' }],
    ['FORCE_COLOR at 40', { COLUMNS: '40', FORCE_COLOR: '1' }]
  ])('reach the terminal report without escape sequences of their own (%s)', async (_, env) => {
    seedHostileRows()
    const run = await runCommand(
      ['--base-url', api.url, '--prompt-id', PROMPT, '--policy', 'max-new-failures: 0'],
      { env: { ADALINE_API_KEY: api.apiKey, ...env } }
    )
    expectNoCrash(run)
    expect(run.exitCode).toBe(1)
    // eslint-disable-next-line no-control-regex -- looking for escape sequences is the point
    const sequences = run.stdout.match(/\u001b[^[]|\u001b\[[0-9;]*[A-Za-z]/g) ?? []
    // eslint-disable-next-line no-control-regex -- an SGR sequence starts with ESC
    for (const sequence of sequences) expect(sequence).toMatch(/^\u001b\[[0-9;]*m$/)
    if ('NO_COLOR' in env) expect(sequences).toEqual([])
    for (const char of ['\u202e', '\u0007', '\u0000', '\r'])
      expect(run.stdout + run.stderr).not.toContain(char)
    expect(run.stdout.length).toBeLessThan(40_000)
  })
})

describe('API error text in messages', () => {
  const HOSTILE_ERROR = {
    error: {
      code: 'FORBIDDEN\u001b[2J',
      message:
        '\u001b]8;;https://evil.example\u0007click\u001b]8;;\u0007\r\n::error::forged \u202eesrever'
    }
  }

  it('a hostile error body of the evaluators listing reaches the log and stderr inert', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    api.inject({
      path: `/v2/prompts/${PROMPT}/evaluators`,
      status: 403,
      body: HOSTILE_ERROR,
      times: Infinity
    })
    const action = await runAction(inputs())
    expectNoCrash(action)
    expect(action.exitCode).toBe(0)
    expect(action.errors).toEqual([])
    expect(action.stdout).not.toMatch(/^::error::forged/m)
    expect(action.stdout).not.toContain('\u001b')
    expect(action.stdout).not.toContain('\u202e')

    const command = await runCommand(['--base-url', api.url, '--prompt-id', PROMPT], {
      env: { ADALINE_API_KEY: api.apiKey }
    })
    expectNoCrash(command)
    expect(command.exitCode).toBe(0)
    expect(command.stdout + command.stderr).not.toContain('\u001b')
    expect(command.stdout + command.stderr).not.toContain('\u202e')
  })
})

describe('API values quoted in a shape error', () => {
  it('a value with escape sequences and a line break is quoted inert in the one ::error', async () => {
    api.addPrompt(PROMPT, [makeEvaluation({ n: 1 })])
    api.inject({
      path: `/v2/prompts/${PROMPT}/evaluations`,
      body: {
        evaluations: [{ runId: 7, status: '\u001b[2J\r\n::error::forged\u202e' }],
        pagination: { hasMore: '\u001b[31mno\n::warning::forged' }
      },
      times: Infinity
    })
    const run = await runAction(inputs())
    expectNoCrash(run)
    expect(run.exitCode).toBe(1)
    expect(run.errors).toHaveLength(1)
    expect(run.errors[0]).toMatch(/answered in an unexpected shape/)
    expect(run.stdout).not.toMatch(/^::(error|warning)::forged/m)
    expect(run.stdout).not.toContain('\u001b')
  })
})

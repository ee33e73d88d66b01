import {
  DEFAULT_BASE_URL,
  InputError,
  parseCreatedAfter,
  readSettings
} from '../../src/inputs/settings.js'

const NOW = Date.parse('2026-11-22T12:00:00Z')
const KEY = 'adl_live_0123456789abcdef0123456789abcdef'
const PROMPT = 'prompt-aaaaaaaaaaaaaaaaaaaa'

function settingsFrom(inputs: Record<string, string>, masked: string[] = []) {
  return readSettings(name => inputs[name] ?? '', { now: NOW, mask: secret => masked.push(secret) })
}

async function errorFrom(inputs: Record<string, string>): Promise<InputError> {
  try {
    await settingsFrom({ 'api-key': KEY, 'prompt-id': PROMPT, ...inputs })
  } catch (error) {
    if (error instanceof InputError) return error
    throw error
  }
  throw new Error('no InputError was thrown')
}

describe('readSettings', () => {
  it('gives every absent input its default', async () => {
    const settings = await settingsFrom({ 'api-key': KEY, 'prompt-id': PROMPT })
    expect(settings).toEqual({
      apiKey: KEY,
      promptIds: [PROMPT],
      evaluatorId: undefined,
      datasetId: undefined,
      statuses: [],
      createdAfter: undefined,
      policy: { limits: {}, onEmpty: 'fail', scope: 'latest' },
      cancelSuperseded: 'never',
      keepRunIds: new Set(),
      baselineRunIds: [],
      dryRun: false,
      failOnGate: true,
      baseUrl: new URL(DEFAULT_BASE_URL),
      githubToken: undefined,
      start: false,
      waitMs: undefined,
      cancelOnAbort: true,
      comment: 'off',
      maxRequestsPerMinute: undefined,
      evaluationUrl: undefined
    })
  })

  it('reads evaluation-url as a template with the known placeholders', async () => {
    const template = 'https://app.adaline.ai/prompts/{promptId}/evaluations/{runId}?e={evaluatorId}'
    const settings = await settingsFrom({
      'api-key': KEY,
      'prompt-id': PROMPT,
      'evaluation-url': ` ${template} `
    })
    expect(settings.evaluationUrl).toBe(template)
  })

  it('reads max-requests-per-minute as a whole number of requests a minute', async () => {
    const settings = await settingsFrom({
      'api-key': KEY,
      'prompt-id': PROMPT,
      'max-requests-per-minute': ' 25 '
    })
    expect(settings.maxRequestsPerMinute).toBe(25)
  })

  it('masks the key and the GitHub token before validating anything else', async () => {
    const masked: string[] = []
    await expect(
      settingsFrom({ 'api-key': KEY, 'github-token': 'ghs_token', 'prompt-id': 'short' }, masked)
    ).rejects.toThrow(InputError)
    expect(masked).toEqual([KEY, 'ghs_token'])
  })

  it('reads several prompt IDs, statuses and kept runs separated by commas or newlines', async () => {
    const other = 'prompt-bbbbbbbbbbbbbbbbbbbb'
    const settings = await settingsFrom({
      'api-key': KEY,
      'prompt-id': `${PROMPT},\n ${other}\n${PROMPT}`,
      status: 'completed, Failed\nrunning',
      'keep-run-ids': 'run-0000000000000000001,run-0000000000000000002'
    })
    expect(settings.promptIds).toEqual([PROMPT, other])
    expect(settings.statuses).toEqual(['completed', 'failed', 'running'])
    expect([...settings.keepRunIds]).toEqual(['run-0000000000000000001', 'run-0000000000000000002'])
  })

  it('reads a list written on Windows: CRLF, blanks, tabs and repeats', async () => {
    const other = 'prompt-bbbbbbbbbbbbbbbbbbbb'
    const settings = await settingsFrom({
      'api-key': KEY,
      'prompt-id': `\r\n${PROMPT}\r\n\r\n , ,\t${other}\t\r\n${PROMPT}\r\n`
    })
    expect(settings.promptIds).toEqual([PROMPT, other])
    const inside = await errorFrom({ 'prompt-id': `${PROMPT.slice(0, 10)} ${PROMPT.slice(10)}` })
    expect(inside.message).toContain('without spaces or slashes')
  })

  it('reads the report files as given, relative to the working directory, and none when empty', async () => {
    const settings = await settingsFrom({
      'api-key': KEY,
      'prompt-id': PROMPT,
      'junit-file': ' reports/junit.xml ',
      'report-file': 'adaline.json',
      'metrics-file': ''
    })
    expect(settings).toMatchObject({ junitFile: 'reports/junit.xml', reportFile: 'adaline.json' })
    expect(settings.metricsFile).toBeUndefined()
  })

  it('refuses a report file that names a folder, or a file another report is written to', async () => {
    expect((await errorFrom({ 'junit-file': 'reports/' })).message).toBe(
      'Input junit-file is "reports/", a folder; give a file path such as reports/adaline.xml'
    )
    expect((await errorFrom({ 'metrics-file': '.' })).input).toBe('metrics-file')
    expect(
      (await errorFrom({ 'junit-file': 'out/r.xml', 'report-file': './out/../out/r.xml' })).message
    ).toBe('Input report-file names the same file as junit-file: give each report its own file')
    expect((await errorFrom({ 'report-file': 'a\0b' })).input).toBe('report-file')
  })

  it('reads wait as a duration', async () => {
    const read = async (wait: string) =>
      (await settingsFrom({ 'api-key': KEY, 'prompt-id': PROMPT, wait })).waitMs
    expect(await Promise.all(['90s', '30m', '1h', '0', ''].map(read))).toEqual([
      90_000,
      1_800_000,
      3_600_000,
      undefined,
      undefined
    ])
  })

  it('accepts http:// only for loopback addresses', async () => {
    expect(
      (
        await settingsFrom({
          'api-key': KEY,
          'prompt-id': PROMPT,
          'base-url': 'http://127.0.0.1:8080/v2/'
        })
      ).baseUrl.href
    ).toBe('http://127.0.0.1:8080/v2')
    expect(
      (
        await settingsFrom({
          'api-key': KEY,
          'prompt-id': PROMPT,
          'base-url': 'http://localhost/v2'
        })
      ).baseUrl.hostname
    ).toBe('localhost')
    for (const [given, read] of [
      ['http://[::1]:8080/v2//', 'http://[::1]:8080/v2'],
      ['https://api.adaline.ai:443/v2///', 'https://api.adaline.ai/v2'],
      ['https://@api.adaline.ai/v2', 'https://api.adaline.ai/v2']
    ]) {
      const settings = await settingsFrom({
        'api-key': KEY,
        'prompt-id': PROMPT,
        'base-url': given!
      })
      expect(settings.baseUrl.href).toBe(read)
    }
    expect((await errorFrom({ 'base-url': 'http://api.adaline.ai/v2' })).message).toMatch(
      /^Input base-url uses http:\/\/ for api\.adaline\.ai/
    )
  })

  it.each([
    [{ 'api-key': '' }, 'api-key', 'is required'],
    [{ 'api-key': `Bearer ${KEY}` }, 'api-key', 'without "Bearer"'],
    [{ 'prompt-id': '' }, 'prompt-id', 'is required'],
    [{ 'prompt-id': 'too-short' }, 'prompt-id', '20 to 80 characters'],
    [{ 'prompt-id': 'x'.repeat(81) }, 'prompt-id', '20 to 80 characters'],
    [{ 'evaluator-id': 'a/b/ccccccccccccccccccccc' }, 'evaluator-id', 'without spaces or slashes'],
    [{ 'dataset-id': 'short' }, 'dataset-id', 'not an Adaline ID'],
    [
      { status: 'done' },
      'status',
      'accepted: queued, running, completed, failed, cancelled, cancelling'
    ],
    [{ 'created-after': 'yesterday' }, 'created-after', 'accepted: an ISO 8601 time'],
    [{ 'created-after': '1763800000' }, 'created-after', 'reads as Unix seconds'],
    [{ 'created-after': '8640000000000001' }, 'created-after', 'beyond the last time a date'],
    [{ 'created-after': '9'.repeat(400) }, 'created-after', 'beyond the last time a date'],
    [{ 'created-after': '+275760-09-13T00:00:01Z' }, 'created-after', 'accepted: an ISO 8601'],
    [{ 'created-after': '275760-09-13T00:00:00Z' }, 'created-after', 'accepted: an ISO 8601'],
    [{ policy: 'max-fails: 1' }, 'policy', 'unknown key "max-fails"'],
    [
      { 'cancel-superseded': 'always' },
      'cancel-superseded',
      'accepted: never, force-push, new-commit'
    ],
    [{ 'keep-run-ids': 'nope' }, 'keep-run-ids', 'not an Adaline ID'],
    [{ 'dry-run': 'maybe' }, 'dry-run', 'accepted: true or false'],
    [{ 'fail-on-gate': '2' }, 'fail-on-gate', 'accepted: true or false'],
    [{ start: 'please' }, 'start', 'accepted: true or false'],
    [{ wait: '30' }, 'wait', 'a duration up to 6h'],
    [{ wait: '7h' }, 'wait', 'a duration up to 6h'],
    [{ 'cancel-on-abort': 'x' }, 'cancel-on-abort', 'accepted: true or false'],
    [{ comment: 'always' }, 'comment', 'accepted: off, on, on-failure'],
    ...['0', '1.5', '-3', 'lots', '6001', '1e3'].map(
      (value): [Record<string, string>, string, string] => [
        { 'max-requests-per-minute': value },
        'max-requests-per-minute',
        'accepted: a whole number of requests a minute from 1 to 6000'
      ]
    ),
    [{ 'evaluation-url': 'app.adaline.ai/{runId}' }, 'evaluation-url', 'is not a URL'],
    [{ 'evaluation-url': 'javascript:alert({runId})' }, 'evaluation-url', 'uses javascript'],
    [{ 'evaluation-url': 'https://x.example/{run}' }, 'evaluation-url', '"{run}", which is not'],
    [{ 'evaluation-url': 'https://x.example/{runId' }, 'evaluation-url', '"{runId", which is not'],
    [{ 'evaluation-url': 'https://x.example/}' }, 'evaluation-url', '"}", which is not'],
    [{ 'evaluation-url': 'https://u:p@x.example/{runId}' }, 'evaluation-url', 'credentials'],
    [{ 'evaluation-url': 'https://{runId}@x.example/' }, 'evaluation-url', 'credentials'],
    [{ 'evaluation-url': 'data:text/html,<a>{runId}' }, 'evaluation-url', 'uses data'],
    [{ 'evaluation-url': 'JavaScript:alert({runId})' }, 'evaluation-url', 'uses javascript'],
    [{ 'evaluation-url': 'vbscript:x/{runId}' }, 'evaluation-url', 'uses vbscript'],
    [{ 'evaluation-url': '//evil.example/{runId}' }, 'evaluation-url', 'is not a URL'],
    [
      { 'evaluation-url': 'https://{runId}.evil.example/' },
      'evaluation-url',
      'in its scheme, host'
    ],
    [{ 'evaluation-url': 'https://app.{promptId}/x' }, 'evaluation-url', 'in its scheme, host'],
    [{ 'evaluation-url': 'https://x.example:{runId}/' }, 'evaluation-url', 'is not a URL'],
    [{ 'evaluation-url': 'https://x.example/%7BrunId%7D' }, 'evaluation-url', 'write {runId}'],
    [
      { 'evaluation-url': 'https://x.example/%7bpromptId%7d' },
      'evaluation-url',
      'write {promptId}'
    ],
    [
      { 'evaluation-url': `https://x.example/{runId}?${'a'.repeat(2_000)}` },
      'evaluation-url',
      'characters long; at most 2000'
    ],
    [{ 'base-url': 'not a url' }, 'base-url', 'not a URL'],
    [{ 'base-url': 'ftp://example.com' }, 'base-url', 'https://'],
    [{ 'base-url': 'https://user:pw@example.com/v2' }, 'base-url', 'credentials'],
    // an empty query or fragment is none to URL, yet swallowed every request's path
    [{ 'base-url': 'https://api.adaline.ai/v2?' }, 'base-url', 'a query or a fragment'],
    [{ 'base-url': 'https://api.adaline.ai/v2#' }, 'base-url', 'a query or a fragment'],
    [{ 'base-url': 'https://api.adaline.ai/v2/?#' }, 'base-url', 'a query or a fragment'],
    [{ 'base-url': 'http://localhost.evil.com/v2' }, 'base-url', 'uses http:// for'],
    [{ 'base-url': 'http://127.0.0.1.nip.io/v2' }, 'base-url', 'uses http:// for'],
    [{ 'base-url': 'http://[::ffff:127.0.0.1]/v2' }, 'base-url', 'uses http:// for']
  ])('rejects %j naming the input', async (inputs, input, message) => {
    const error = await errorFrom(inputs)
    expect(error.input).toBe(input)
    expect(error.message).toContain(`Input ${input} `)
    expect(error.message).toContain(message)
  })

  it.each([
    ['one character', 'k'],
    ['19 characters', 'adl_live_0123456789'],
    ['a character past ASCII', `adl_live_0123456789é${'x'.repeat(10)}`],
    ['a character no bearer token holds (%, ", \\)', `adl_live_0123456789%41"\\${'x'.repeat(10)}`]
  ])('refuses an api-key of %s without quoting it', async (_, key) => {
    const masked: string[] = []
    const error = await settingsFrom({ 'api-key': key, 'prompt-id': PROMPT }, masked).catch(
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(InputError)
    expect((error as InputError).message).toBe(
      'Input api-key is not a workspace API key: a key is 20 or more letters, digits and - . _ ~ + / characters (the value is not shown). Pass the whole key from a secret, e.g. api-key: ${{ secrets.ADALINE_API_KEY }}'
    )
    // a key too short to be one is not masked: its letters would turn every line into ***
    expect(masked).toEqual(key.length < 20 ? [] : [key])
  })

  it('takes a key of 20 characters', async () => {
    const key = 'adl_live_0123456789a'
    expect((await settingsFrom({ 'api-key': key, 'prompt-id': PROMPT })).apiKey).toBe(key)
  })

  it('never puts the key into an error message', async () => {
    expect((await errorFrom({ 'api-key': `Bearer ${KEY}` })).message).not.toContain(KEY)
  })
})

describe('parseCreatedAfter', () => {
  it.each([
    ['2026-11-01T00:00:00Z', Date.parse('2026-11-01T00:00:00Z')],
    ['2026-11-01', Date.parse('2026-11-01')],
    ['2026-11-01T02:00:00+02:00', Date.parse('2026-11-01T00:00:00Z')],
    ['1763800000000', 1763800000000],
    ['8640000000000000', 8.64e15],
    ['9999-12-31T23:59:59Z', Date.parse('9999-12-31T23:59:59Z')],
    ['99999999999999999999d', 0],
    ['90m', NOW - 90 * 60_000],
    ['24h', NOW - 24 * 3_600_000],
    ['7d', NOW - 7 * 86_400_000],
    ['', undefined]
  ])('reads %j', (value, expected) => {
    expect(parseCreatedAfter(value, NOW)).toBe(expected)
  })
})

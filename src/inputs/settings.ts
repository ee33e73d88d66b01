/**
 * The action's inputs as one typed Settings object. Every validation message lives here, and each
 * names its input and says what is accepted. An absent or empty input takes its default here too,
 * because local runners do not apply action.yml's defaults.
 */
import { resolve } from 'node:path'
import { EVALUATION_STATUSES, ID_MAX, ID_MIN, type EvaluationStatus } from '../adaline/schema.js'
import type { CancelMode } from '../github/event.js'
import { isLoopback } from '../secrets/loopback.js'
import { Secrets } from '../secrets/redact.js'
import { INPUT_NAMING, emptyPolicy, type Policy, type SettingNaming } from '../judge/policy.js'
import { templateProblem } from '../adaline/links.js'
import { MAX_DATE_MS, isDateTime } from '../format.js'

export interface Settings {
  /** Workspace API key; masked before anything is printed. */
  apiKey: string
  /** Prompts whose evaluations are listed, in input order, without repeats. */
  promptIds: string[]
  /** Only evaluations of this evaluator. */
  evaluatorId?: string
  /** Only evaluations on this dataset. */
  datasetId?: string
  /** Listed statuses; empty means all. */
  statuses: EvaluationStatus[]
  /** Only evaluations created at or after this time (Unix ms). */
  createdAfter?: number
  /**
   * When created-after was a duration back from now (24h): that duration, so that the listing can
   * count it back from Adaline's clock, on which evaluations are dated, rather than the runner's.
   */
  createdAfterAgoMs?: number
  /** Gate rules; the empty policy only reports. */
  policy: Policy
  /** Which events cancel superseded evaluations. */
  cancelSuperseded: CancelMode
  /** Run IDs that are never cancelled. */
  keepRunIds: ReadonlySet<string>
  /**
   * Pinned baselines, in input order without repeats: each replaces the automatic baseline of the
   * judged evaluations of its evaluator and dataset. Empty: each judged evaluation's baseline is
   * the newest completed evaluation of its prompt, evaluator and dataset submitted before it.
   */
  baselineRunIds: string[]
  /** Report what would be cancelled, cancel nothing. */
  dryRun: boolean
  /** Fail the step when the gate fails. */
  failOnGate: boolean
  /** API root, without a trailing slash. */
  baseUrl: URL
  /** Asked only where the event payload lacks a fact, and to write the PR comment. */
  githubToken?: string
  /** Start one evaluation per prompt for this commit; they are the judged set. */
  start: boolean
  /** How long to wait for the judged evaluations to finish (ms); undefined: don't wait. */
  waitMs?: number
  /** Cancel the evaluations this run started when the runner stops the step. */
  cancelOnAbort: boolean
  /** When to write the sticky pull request comment. */
  comment: 'off' | 'on' | 'on-failure'
  /** The most requests a minute this run makes to Adaline; undefined: as 429s teach. */
  maxRequestsPerMinute?: number
  /**
   * Where to write the JUnit XML report, relative to the working directory; undefined: not
   * written, and the row results it lists are not fetched.
   */
  junitFile?: string
  /** Where to write the JSON report (the command's --format json); undefined: not written. */
  reportFile?: string
  /** Where to write the OpenMetrics text for GitLab's metrics report; undefined: not written. */
  metricsFile?: string
  /**
   * A URL template ({promptId}, {runId}, {evaluatorId}) that links each evaluation in the summary
   * and comment to Adaline's app; undefined: no links.
   */
  evaluationUrl?: string
}

/** The inputs that name a report file, and the Settings field each fills. */
export const REPORT_FILE_INPUTS = {
  'junit-file': 'junitFile',
  'report-file': 'reportFile',
  'metrics-file': 'metricsFile'
} as const
export type ReportFileInput = keyof typeof REPORT_FILE_INPUTS

export const DEFAULT_BASE_URL = 'https://api.adaline.ai/v2'

/**
 * The shortest api-key taken. Real keys are far longer (the fake API's are 41 characters); at 20,
 * a key split in two halves leaves each long enough (SECRET_RUN) to be found and redacted.
 */
export const API_KEY_MIN = 20
/** RFC 6750's b64token: what a bearer credential is made of. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * How a face names its inputs in messages: the action by input name (`api-key`), the command by
 * its flag or variable (`--prompt-id`, `ADALINE_API_KEY`); and how its user passes the key.
 */
export interface Naming extends SettingNaming {
  /** after "is required: ", when there is no key */
  keyRequired: string
  /** the last sentence when the value is not a key */
  wholeKey: string
}

/** The action's naming: its inputs as action.yml spells them. */
export const ACTION_NAMING: Naming = {
  ...INPUT_NAMING,
  keyRequired:
    'pass a workspace API key from a secret, e.g. api-key: ${{ secrets.ADALINE_API_KEY }}. On pull requests from forks secrets are empty.',
  wholeKey: 'Pass the whole key from a secret, e.g. api-key: ${{ secrets.ADALINE_API_KEY }}'
}

/** What is wrong and what is accepted, without the input's own name, as a face words it. */
type Detail = string | ((naming: Naming) => string)

/**
 * A bad input: the message names the input and says what it accepts. `message` is worded for the
 * action; a face with other names asks `describe(itsNaming)`.
 */
export class InputError extends Error {
  readonly #detail: Detail

  constructor(
    readonly input: string,
    detail: Detail
  ) {
    super(`Input ${input} ${typeof detail === 'string' ? detail : detail(ACTION_NAMING)}`)
    this.#detail = detail
    this.name = 'InputError'
  }

  /** what is wrong and what is accepted, without the input's name, as the action words it */
  get detail(): string {
    return this.detailFor(ACTION_NAMING)
  }

  /** the input's name and what is wrong, as `naming` words them: `--wait is "soon"; accepted: …` */
  describe(naming: Naming): string {
    return `${naming.nameOf(this.input)} ${this.detailFor(naming)}`
  }

  private detailFor(naming: Naming): string {
    return typeof this.#detail === 'string' ? this.#detail : this.#detail(naming)
  }
}

export interface ReadOptions {
  /** Unix ms, for durations such as created-after: 24h */
  now: number
  /** Called with each secret before anything else happens. */
  mask: (secret: string) => void
}

/** Reads and checks every input; `getInput` returns '' for an absent input. */
export async function readSettings(
  getInput: (name: string) => string,
  { now, mask }: ReadOptions
): Promise<Settings> {
  const read = (name: string) => getInput(name).trim()
  const apiKey = read('api-key')
  const githubToken = read('github-token') || undefined
  // A value too short to be a key is refused unmasked: masked, its few characters would turn
  // every line that holds them into ***, this error's included. It is never printed.
  const tooShort = apiKey.length > 0 && apiKey.length < API_KEY_MIN
  if (apiKey && !tooShort) mask(apiKey)
  if (githubToken) mask(githubToken)
  if (!apiKey) {
    throw new InputError('api-key', naming => `is required: ${naming.keyRequired}`)
  }
  if (/\s/.test(apiKey))
    throw new InputError('api-key', 'contains white space: pass the key alone, without "Bearer"')
  // A bearer credential is a b64token (RFC 6750): letters, digits and - . _ ~ + /, then = padding.
  // Nothing else can go in the Authorization header, and no escape (%, \, &, ") can then hide
  // part of the key from the redaction.
  if (tooShort || !BEARER_TOKEN.test(apiKey)) {
    throw new InputError(
      'api-key',
      naming =>
        `is not a workspace API key: a key is ${API_KEY_MIN} or more letters, digits and - . _ ~ + / characters (the value is not shown). ${naming.wholeKey}`
    )
  }

  try {
    return await readChecked(read, getInput, now, apiKey, githubToken)
  } catch (error) {
    // An error quotes the bad value; a secret pasted into the wrong input must not be quoted whole
    // or in part, where the runner's mask (exact matches only) would miss a prefix.
    const secrets = [apiKey, githubToken].filter((s): s is string => Boolean(s))
    if (error instanceof InputError && quotesSecret(error.detail, secrets)) {
      throw new InputError(
        error.input,
        naming =>
          `holds the ${naming.nameOf('api-key')} or ${naming.nameOf('github-token')} value, which is not shown here: check what is passed to it`
      )
    }
    throw error
  }
}

/**
 * Whether text gives a secret away as redaction counts it: any SECRET_RUN characters of one in a
 * row, in any case or encoding.
 */
function quotesSecret(text: string, secrets: string[]): boolean {
  const known = new Secrets()
  secrets.forEach(secret => known.add(secret))
  return known.holds(text)
}

async function readChecked(
  read: (name: string) => string,
  getInput: (name: string) => string,
  now: number,
  apiKey: string,
  githubToken: string | undefined
): Promise<Settings> {
  const promptIds = [...new Set(list(read('prompt-id')))]
  if (promptIds.length === 0)
    throw new InputError(
      'prompt-id',
      'is required: give one or more prompt IDs, separated by commas or newlines'
    )
  promptIds.forEach(id => checkId('prompt-id', id))

  const evaluatorId = read('evaluator-id') || undefined
  if (evaluatorId) checkId('evaluator-id', evaluatorId)
  const datasetId = read('dataset-id') || undefined
  if (datasetId) checkId('dataset-id', datasetId)

  const statuses = [...new Set(list(read('status')).map(s => s.toLowerCase()))]
  for (const status of statuses) {
    if (!(EVALUATION_STATUSES as readonly string[]).includes(status)) {
      throw new InputError(
        'status',
        `has "${clip(status)}"; accepted: ${EVALUATION_STATUSES.join(', ')} (several separated by commas), or empty for all`
      )
    }
  }

  const keepRunIds = new Set(list(read('keep-run-ids')))
  keepRunIds.forEach(id => checkId('keep-run-ids', id))

  // checked here, before any request: a malformed pin is refused at once
  const baselineRunIds = [...new Set(list(read('baseline-run-id')))]
  baselineRunIds.forEach(id => checkId('baseline-run-id', id))
  // each pin is one request per prompt before anything else, and stands for one evaluator and dataset
  if (baselineRunIds.length > MAX_PINS)
    throw new InputError(
      'baseline-run-id',
      `has ${baselineRunIds.length} run IDs; at most ${MAX_PINS}: pin one completed evaluation per evaluator and dataset judged`
    )
  const start = parseBoolean('start', read('start'), false)
  // a started evaluation's evaluator and dataset are known only once it is billed: the pin is
  // checked against evaluator-id and dataset-id before the start instead
  const unchecked = [
    ...(evaluatorId ? [] : (['evaluator-id'] as const)),
    ...(datasetId ? [] : (['dataset-id'] as const))
  ]
  if (start && baselineRunIds.length > 0 && unchecked.length > 0)
    throw new InputError('baseline-run-id', naming => {
      const names = unchecked.map(input => naming.nameOf(input)).join(' and ')
      const what = unchecked.map(input => input.replace('-id', '')).join(' and ')
      return `needs ${names} when ${naming.nameOf('start')} starts the judged evaluations: set ${unchecked.length > 1 ? 'them' : 'it'} to the pinned run's ${what}, so that the pin is checked before a billed start`
    })

  const policy = await readPolicy(getInput('policy'))
  const files = readReportFiles(read)

  return {
    apiKey,
    promptIds,
    evaluatorId,
    datasetId,
    statuses: statuses as EvaluationStatus[],
    createdAfter: parseCreatedAfter(read('created-after'), now),
    createdAfterAgoMs: durationBack(read('created-after')),
    policy,
    cancelSuperseded: oneOf('cancel-superseded', read('cancel-superseded') || 'never', [
      'never',
      'force-push',
      'new-commit'
    ]),
    keepRunIds,
    baselineRunIds,
    dryRun: parseBoolean('dry-run', read('dry-run'), false),
    failOnGate: parseBoolean('fail-on-gate', read('fail-on-gate'), true),
    baseUrl: parseBaseUrl(read('base-url') || DEFAULT_BASE_URL),
    githubToken,
    start,
    waitMs: parseWait(read('wait')),
    cancelOnAbort: parseBoolean('cancel-on-abort', read('cancel-on-abort'), true),
    comment: oneOf('comment', read('comment') || 'off', ['off', 'on', 'on-failure']),
    maxRequestsPerMinute: parseRequestsPerMinute(read('max-requests-per-minute')),
    evaluationUrl: parseEvaluationUrl(read('evaluation-url')),
    ...files
  }
}

/**
 * The report files asked for. The paths are checked only for what is wrong whatever the disk
 * holds: a folder's path, a NUL, two reports in one file. Whether one can be written is known when
 * it is written, once the verdict is.
 */
function readReportFiles(
  read: (name: string) => string
): Pick<Settings, 'junitFile' | 'reportFile' | 'metricsFile'> {
  const files: Pick<Settings, 'junitFile' | 'reportFile' | 'metricsFile'> = {}
  const taken = new Map<string, ReportFileInput>()
  for (const [input, field] of Object.entries(REPORT_FILE_INPUTS) as [
    ReportFileInput,
    (typeof REPORT_FILE_INPUTS)[ReportFileInput]
  ][]) {
    const path = read(input)
    if (path === '') continue
    if (path.includes('\0'))
      throw new InputError(input, 'holds a NUL character, which no file path can hold')
    if (/[/\\]$/.test(path) || /(^|[/\\])\.{1,2}$/.test(path)) {
      throw new InputError(
        input,
        `is "${clip(path)}", a folder; give a file path such as reports/adaline.${EXTENSION[input]}`
      )
    }
    const same = taken.get(resolve(path))
    if (same !== undefined)
      throw new InputError(
        input,
        naming => `names the same file as ${naming.nameOf(same)}: give each report its own file`
      )
    taken.set(resolve(path), input)
    files[field] = path
  }
  return files
}

const EXTENSION: Record<ReportFileInput, string> = {
  'junit-file': 'xml',
  'report-file': 'json',
  'metrics-file': 'txt'
}

/** The gate policy; the YAML parser is loaded only when a policy is given. */
async function readPolicy(text: string): Promise<Policy> {
  if (text.trim() === '') return emptyPolicy()
  const { PolicyError, parsePolicy } = await import('../judge/policy-yaml.js')
  try {
    return parsePolicy(text)
  } catch (error) {
    if (error instanceof PolicyError) throw new InputError('policy', error.message)
    throw error
  }
}

/** The longest a GitHub-hosted job may run. */
const MAX_WAIT_MS = 6 * 3_600_000

/** Pinned baselines, at most: one per evaluator and dataset judged, and a request each per prompt. */
export const MAX_PINS = 50

/** A duration such as 90s, 30m, 1h; empty or 0 means don't wait. */
function parseWait(value: string): number | undefined {
  if (value === '' || value === '0') return undefined
  const match = /^(\d+(?:\.\d+)?)\s*([smh])$/i.exec(value)
  const ms = match ? Number(match[1]) * (UNIT_MS[match[2]!.toLowerCase()] ?? 0) : NaN
  if (!(ms > 0) || ms > MAX_WAIT_MS) {
    throw new InputError(
      'wait',
      `is "${clip(value)}"; accepted: a duration up to 6h such as 90s, 30m or 1h, or empty for no wait`
    )
  }
  return ms
}

/** More than 100 a second is no cap any API key is given. */
const MAX_REQUESTS_PER_MINUTE = 6_000

/** A whole number of requests a minute, 1 to 6,000; empty means no cap (the 429s alone teach). */
function parseRequestsPerMinute(value: string): number | undefined {
  if (value === '') return undefined
  const n = /^\d+$/.test(value) ? Number(value) : NaN
  if (!(n >= 1 && n <= MAX_REQUESTS_PER_MINUTE)) {
    throw new InputError(
      'max-requests-per-minute',
      `is "${clip(value)}"; accepted: a whole number of requests a minute from 1 to ${MAX_REQUESTS_PER_MINUTE} (this run's share of the workspace's limit), or empty to slow down only when Adaline answers 429`
    )
  }
  return n
}

/** An http(s) URL template with only the known placeholders; empty means no links. */
function parseEvaluationUrl(value: string): string | undefined {
  if (value === '') return undefined
  const problem = templateProblem(value)
  if (problem) throw new InputError('evaluation-url', problem)
  return value
}

/** Splits on commas and newlines, dropping blanks. */
function list(value: string): string[] {
  return value
    .split(/[,\n]/)
    .map(item => item.trim())
    .filter(Boolean)
}

function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 39)}…` : value
}

function checkId(input: string, id: string): void {
  if (id.length < ID_MIN || id.length > ID_MAX || /[\s/?#%\\]/.test(id)) {
    throw new InputError(
      input,
      `has "${clip(id)}", which is not an Adaline ID: IDs are ${ID_MIN} to ${ID_MAX} characters without spaces or slashes`
    )
  }
}

function oneOf<T extends string>(input: string, value: string, options: readonly T[]): T {
  const lower = value.toLowerCase()
  if ((options as readonly string[]).includes(lower)) return lower as T
  throw new InputError(input, `is "${clip(value)}"; accepted: ${options.join(', ')}`)
}

function parseBoolean(input: string, value: string, fallback: boolean): boolean {
  if (value === '') return fallback
  if (/^(true|yes|on)$/i.test(value)) return true
  if (/^(false|no|off)$/i.test(value)) return false
  throw new InputError(input, `is "${clip(value)}"; accepted: true or false`)
}

const UNIT_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000
}

/** ISO 8601, Unix ms, or a duration back from now such as 90m, 24h, 7d. */
export function parseCreatedAfter(value: string, now: number): number | undefined {
  return parseTime('created-after', value, now)
}

/** The duration a time such as 24h counts back from now; undefined for any other form. */
function durationBack(value: string): number | undefined {
  const duration = DURATION_BACK.exec(value)
  return duration ? Number(duration[1]) * (UNIT_MS[duration[2]!.toLowerCase()] ?? 0) : undefined
}

const DURATION_BACK = /^(\d+(?:\.\d+)?)\s*([smhdw])$/i

/** A point in time given as ISO 8601, Unix ms, or a duration back from now; '' is undefined. */
export function parseTime(input: string, value: string, now: number): number | undefined {
  if (value === '') return undefined
  const accepted =
    'accepted: an ISO 8601 time (2026-11-01T00:00:00Z), Unix milliseconds, or a duration back from now (90m, 24h, 7d)'
  if (/^\d+$/.test(value)) {
    const ms = Number(value)
    if (ms < 100_000_000_000) {
      throw new InputError(
        input,
        `is ${value}, which reads as Unix seconds; give milliseconds (${value}000). ${accepted}`
      )
    }
    if (!isDateTime(ms)) {
      throw new InputError(
        input,
        `is ${clip(value)}, beyond the last time a date can hold (${MAX_DATE_MS} ms, in the year 275760). ${accepted}`
      )
    }
    return ms
  }
  const back = durationBack(value)
  if (back !== undefined) return Math.max(0, now - back)
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i.test(value)) {
    const time = Date.parse(value)
    if (!Number.isNaN(time)) return time
  }
  throw new InputError(input, `is "${clip(value)}"; ${accepted}`)
}

function parseBaseUrl(value: string): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new InputError(
      'base-url',
      `is "${clip(value)}", which is not a URL; the default is ${DEFAULT_BASE_URL}`
    )
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new InputError(
      'base-url',
      `uses http:// for ${url.hostname}; the API key is only sent over https://, or http:// to a loopback address (127.0.0.1, localhost, [::1])`
    )
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new InputError('base-url', `must be an https:// URL such as ${DEFAULT_BASE_URL}`)
  }
  // an empty query or fragment ("…/v2?", "…/v2#") is none to URL, but would still end the path
  if (url.username || url.password || url.search || url.hash || /[?#]/.test(value)) {
    throw new InputError('base-url', 'must not carry credentials, a query or a fragment')
  }
  url.pathname = url.pathname.replace(/\/+$/, '')
  return url
}

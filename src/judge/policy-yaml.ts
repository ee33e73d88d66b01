/**
 * Reads the `policy` input's YAML into a Policy, with one message per mistake. A module of its own
 * so that the YAML parser, a large part of the bundle, is loaded only by runs that set a policy.
 */
import { parseDocument } from 'yaml'
import { EVALUATION_STATUSES, type EvaluationStatus } from '../adaline/schema.js'
import { emptyPolicy, type Limits, type Policy } from './policy.js'

export class PolicyError extends Error {}

type Kind = 'count' | 'rate' | 'amount'
const LIMIT_KINDS: Record<keyof Limits, Kind> = {
  'max-fail-runs': 'count',
  'max-unknown-runs': 'count',
  'max-failed-rows': 'count',
  'max-tokens': 'count',
  'max-fail-rate': 'rate',
  'min-pass-rate': 'rate',
  'max-cost': 'amount',
  'max-avg-latency': 'amount',
  'max-pass-rate-drop': 'rate',
  'max-new-failures': 'count'
}
const SETTING_KEYS = ['allow-status', 'on-empty', 'scope', 'significance'] as const
const KNOWN_KEYS = [...Object.keys(LIMIT_KINDS), ...SETTING_KEYS]

/** Parses the policy YAML. Empty text is the empty policy: report only, gate skipped. */
export function parsePolicy(text: string): Policy {
  // read as a Map: a key such as "constructor" or "__proto__" is a key like any other, never a
  // property every object has
  let document: unknown
  try {
    const parsed = parseDocument(text)
    // a tag the policy does not read (!!js/function, !!binary) is a mistake, not a warning on stderr
    const [problem] = [...parsed.errors, ...parsed.warnings]
    if (problem) throw problem
    document = parsed.toJS({ mapAsMap: true })
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0]
    throw new PolicyError(`is not valid YAML: ${reason}`)
  }
  const policy = emptyPolicy()
  if (document == null) return policy
  if (!(document instanceof Map)) {
    throw new PolicyError('must be a YAML mapping of rules, such as "max-fail-runs: 0"')
  }
  for (const [key, value] of document as Map<unknown, unknown>) {
    if (typeof key === 'string' && Object.hasOwn(LIMIT_KINDS, key)) {
      const name = key as keyof Limits
      policy.limits[name] = parseLimit(name, LIMIT_KINDS[name], value)
    } else if (key === 'allow-status') {
      policy.allowStatus = parseStatuses(value)
    } else if (key === 'on-empty') {
      policy.onEmpty = oneOf(key, value, ['fail', 'pass'])
    } else if (key === 'scope') {
      policy.scope = oneOf(key, value, ['latest', 'all'])
    } else if (key === 'significance') {
      policy.significance = parseSignificance(value)
    } else {
      const shown = typeof key === 'string' ? `an unknown key "${key}"` : 'a key that is not text'
      throw new PolicyError(`has ${shown}; known keys: ${KNOWN_KEYS.join(', ')}`)
    }
  }
  return policy
}

function parseLimit(key: string, kind: Kind, value: unknown): number {
  if (kind === 'rate') {
    const rate = parseRate(value)
    if (rate === undefined) {
      throw new PolicyError(`${key} must be a rate from 0 to 1 or a percentage such as "5%"`)
    }
    return rate
  }
  // -0 is 0: a limit is never written "-0"
  const number = typeof value === 'number' ? value + 0 : NaN
  if (kind === 'count' && (!Number.isInteger(number) || number < 0)) {
    throw new PolicyError(`${key} must be a whole number of 0 or more`)
  }
  if (!Number.isFinite(number) || number < 0) {
    throw new PolicyError(`${key} must be a number of 0 or more`)
  }
  return number
}

/** A level above 0 and at most 1: at 0 no drop could ever be significant, and the rules would never break. */
function parseSignificance(value: unknown): number {
  const level = parseRate(value)
  if (level === undefined || level === 0) {
    throw new PolicyError(
      'significance must be a level above 0 and at most 1, or a percentage such as "5%" (the chance of calling noise a regression)'
    )
  }
  return level
}

function parseRate(value: unknown): number | undefined {
  let rate: number | undefined
  if (typeof value === 'number') rate = value
  else if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value)
    if (match) rate = Number(match[1]) / 100
  }
  return rate !== undefined && rate >= 0 && rate <= 1 ? rate + 0 : undefined
}

function parseStatuses(value: unknown): EvaluationStatus[] {
  const list = typeof value === 'string' ? value.split(',').map(s => s.trim()) : value
  const known: readonly string[] = EVALUATION_STATUSES
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every(item => typeof item === 'string' && known.includes(item))
  ) {
    throw new PolicyError(`allow-status must be a list of: ${EVALUATION_STATUSES.join(', ')}`)
  }
  return [...new Set(list as EvaluationStatus[])]
}

function oneOf<T extends string>(key: string, value: unknown, options: readonly T[]): T {
  if (typeof value === 'string' && (options as readonly string[]).includes(value)) return value as T
  throw new PolicyError(`${key} must be one of: ${options.join(', ')}`)
}

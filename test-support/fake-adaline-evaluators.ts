/**
 * The evaluators the fake Adaline lists for a prompt (`GET /prompts/{promptId}/evaluators`): by
 * default those its evaluations use, each with a realistic title; or the list a test sets.
 */
import * as v from 'valibot'
import { evaluatorSchema, type Evaluation, type Evaluator } from '../src/adaline/schema.js'
import { hash32 } from './fake-adaline-lifecycle.js'

/** Titles like those teams give their evaluators; an evaluator a test does not name gets one. */
export const EVALUATOR_TITLES = [
  'Helpfulness (LLM judge)',
  'Answers in valid JSON',
  'Tone matches brand guide',
  'Category matches the expected label',
  'Grounded in the retrieved context',
  'No personal data in the reply',
  'Reply under 120 words',
  'Cites the help-center article',
  'Refuses out-of-scope requests',
  'Same language as the customer'
] as const

/** An evaluator as a test gives it: its ID, and whichever other fields it cares about. */
export type EvaluatorFields = Partial<Evaluator> & { id: string }

const HOUR = 3_600_000
const DAY = 24 * HOUR
/** Creation time of an evaluator no evaluation uses (the data helpers' base time, less 30 days). */
const UNUSED_CREATED_AT = 1_750_000_000_000 - 30 * DAY

/**
 * Distinct titles for the IDs, in order: each the title its ID hashes to, or the next one not yet
 * taken; past the list's end, numbered.
 */
function titlesFor(ids: readonly string[], taken: Set<string>): Map<string, string> {
  const titles = new Map<string, string>()
  for (const id of ids) {
    const start = hash32(id) % EVALUATOR_TITLES.length
    let title: string | undefined
    for (let i = 0; i < EVALUATOR_TITLES.length && title === undefined; i++) {
      const candidate = EVALUATOR_TITLES[(start + i) % EVALUATOR_TITLES.length]!
      if (!taken.has(candidate)) title = candidate
    }
    title ??= `${EVALUATOR_TITLES[start]} #${taken.size + 1}`
    taken.add(title)
    titles.set(id, title)
  }
  return titles
}

/**
 * The evaluators a prompt's evaluations use (and `alsoIds`, e.g. the evaluator an evaluation
 * started without one would run), in order of first use: each with a title, the dataset of its
 * newest evaluation, active, created a few days before its first use. Deterministic, so a listing
 * names an evaluator the same way every time, and a new evaluator leaves the others' titles alone.
 */
export function evaluatorsOf(
  promptId: string,
  evaluations: readonly Evaluation[],
  alsoIds: readonly (string | undefined)[] = []
): Evaluator[] {
  const uses = new Map<string, { first: number; newest: Evaluation | undefined }>()
  for (const evaluation of evaluations) {
    const at = evaluation.timeline.submittedAt
    const use = uses.get(evaluation.evaluatorId)
    if (!use) {
      uses.set(evaluation.evaluatorId, { first: at, newest: evaluation })
      continue
    }
    use.first = Math.min(use.first, at)
    if (!use.newest || at >= use.newest.timeline.submittedAt) use.newest = evaluation
  }
  for (const id of alsoIds) {
    if (id !== undefined && !uses.has(id)) {
      uses.set(id, { first: UNUSED_CREATED_AT + 30 * DAY, newest: undefined })
    }
  }
  const ordered = [...uses.entries()].sort(
    ([a, x], [b, y]) => x.first - y.first || (a < b ? -1 : a > b ? 1 : 0)
  )
  const titles = titlesFor(
    ordered.map(([id]) => id),
    new Set()
  )
  return ordered.map(([id, { first, newest }]) => {
    const h = hash32(`evaluator:${id}`)
    const createdAt = Math.max(0, first - (1 + (h % 14)) * DAY)
    const updatedAt = Math.min(first, createdAt + ((h >>> 8) % 48) * HOUR)
    return v.parse(evaluatorSchema, {
      id,
      promptId,
      title: titles.get(id)!,
      datasetId: newest?.datasetId ?? null,
      status: 'active',
      createdAt,
      updatedAt
    })
  })
}

/**
 * The evaluators a test sets, completed: fields it leaves out come from `derived` (what the
 * prompt's evaluations say of the same evaluator), else a title not yet used and defaults. Each
 * is checked against the evaluator schema; an ID given twice or another prompt's ID is refused.
 */
export function completeEvaluators(
  promptId: string,
  given: readonly EvaluatorFields[],
  derived: readonly Evaluator[]
): Evaluator[] {
  const ids = new Set<string>()
  for (const fields of given) {
    if (ids.has(fields.id)) throw new Error(`duplicate evaluator id ${fields.id}`)
    ids.add(fields.id)
    if (fields.promptId !== undefined && fields.promptId !== promptId) {
      throw new Error(
        `evaluator ${fields.id} belongs to prompt ${fields.promptId}, not ${promptId}`
      )
    }
  }
  const known = new Map(derived.map(evaluator => [evaluator.id, evaluator]))
  const untitled = given.filter(f => f.title === undefined && !known.has(f.id)).map(f => f.id)
  const taken = new Set<string>()
  for (const f of given) {
    const title = f.title ?? known.get(f.id)?.title
    if (title !== undefined) taken.add(title)
  }
  const titles = titlesFor(untitled, taken)
  return given.map(fields => {
    const base = known.get(fields.id) ?? {
      id: fields.id,
      promptId,
      title: titles.get(fields.id),
      datasetId: null,
      status: 'active',
      createdAt: UNUSED_CREATED_AT,
      updatedAt: UNUSED_CREATED_AT
    }
    const parsed = v.safeParse(evaluatorSchema, { ...base, ...fields, promptId })
    if (!parsed.success) {
      throw new Error(`invalid evaluator for the fake: ${parsed.issues[0].message}`)
    }
    return parsed.output
  })
}

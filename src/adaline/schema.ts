/**
 * The shapes of Adaline v2 answers, checked before use so that a wrong answer ends with an error
 * that names the endpoint and the field instead of a verdict computed from garbage.
 */
// valibot: the checks zod made, in a small fraction of its bundle and start-up (every run loads this)
import * as v from 'valibot'

export const EVALUATION_STATUSES = [
  'queued',
  'running',
  'completed',
  'failed',
  'cancelled',
  'cancelling'
] as const
export type EvaluationStatus = (typeof EVALUATION_STATUSES)[number]

/** Statuses in which an evaluation still costs money and can be cancelled. */
export const IN_FLIGHT: readonly EvaluationStatus[] = ['queued', 'running']

/** Statuses of an evaluation someone has already cancelled. */
export const BEING_CANCELLED: readonly EvaluationStatus[] = ['cancelling', 'cancelled']

/** Every Adaline ID is a string of 20 to 80 characters. */
export const ID_MIN = 20
export const ID_MAX = 80
export const MAX_PAGE_SIZE = 200

const id = v.pipe(v.string(), v.minLength(ID_MIN), v.maxLength(ID_MAX))
// JSON.parse turns 1e400 into Infinity: a figure must be finite, a count a safe integer
const count = v.pipe(v.number(), v.safeInteger(), v.minValue(0))
const amount = v.pipe(v.number(), v.finite(), v.minValue(0))
const time = v.nullish(amount)

// Objects that drop what they do not name: a field Adaline adds later must not break the action,
// and must not reach anything that walks or prints an answer (an unknown field nested 100,000
// deep overflows the stack of every recursive walk, JSON.stringify's included).
export const evaluationSchema = v.object({
  runId: id,
  evaluatorId: id,
  status: v.picklist(EVALUATION_STATUSES),
  progress: v.object({
    totalRows: count,
    completedRows: count,
    failedRows: count,
    percent: v.pipe(v.number(), v.finite(), v.minValue(0), v.maxValue(100))
  }),
  metrics: v.object({
    passRuns: count,
    failRuns: count,
    unknownRuns: count,
    totalCost: amount,
    totalLatency: amount,
    totalTokenCount: count
  }),
  timeline: v.object({
    submittedAt: amount,
    startedAt: time,
    finishedAt: time
  }),
  datasetId: v.nullish(id)
})
export type Evaluation = v.InferOutput<typeof evaluationSchema>

const paginationSchema = v.object({
  limit: v.optional(count),
  returned: v.optional(count),
  hasMore: v.boolean(),
  nextCursor: v.nullish(v.pipe(v.string(), v.minLength(1)))
})

export const evaluationPageSchema = v.object({
  evaluations: v.array(evaluationSchema),
  pagination: paginationSchema
})

/** Adaline's error bodies: `{error:{code,message}}`, or `{error:"text"}` on older endpoints. */
export const errorBodySchema = v.object({
  error: v.union([
    v.string(),
    v.object({ code: v.optional(v.string()), message: v.optional(v.string()) })
  ])
})

/** A shape an answer is checked against. */
export type Shape<T> = v.GenericSchema<unknown, T>

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string }

/**
 * The value, if it has the shape; otherwise its first problem named by its path under `prefix`:
 * "evaluations[3].metrics.passRuns: Invalid type: Expected number but received "7"".
 */
export function checkShape<T>(shape: Shape<T>, value: unknown, prefix: string): Checked<T> {
  const result = v.safeParse(shape, value)
  if (result.success) return { ok: true, value: result.output }
  const issue = result.issues[0]
  const path = (issue.path ?? []).reduce<string>(
    (text, { key }) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    prefix
  )
  return { ok: false, problem: `${path}: ${issue.message}` }
}

export const GRADES = ['pass', 'fail', 'unknown'] as const
export type Grade = (typeof GRADES)[number]

/** One row's result in an evaluation: what the failing-rows report shows. */
const text = v.pipe(v.string(), v.minLength(1))
/**
 * A row's values are the user's data, of any shape: kept to ROW_VALUE_DEPTH levels, deeper ones
 * replaced by a marker, so that no walk or JSON.stringify of them can overflow the stack.
 */
export const ROW_VALUE_DEPTH = 8
const rowValue = v.pipe(
  v.unknown(),
  v.transform(value => withinDepth(value, ROW_VALUE_DEPTH))
)

/** The value with what lies deeper than `depth` levels replaced by "…". Pure. */
export function withinDepth(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value
  if (depth <= 0) return '…'
  if (Array.isArray(value)) return value.map(item => withinDepth(item, depth - 1))
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, withinDepth(item, depth - 1)])
  )
}

export const resultSchema = v.object({
  id: text,
  rowId: text,
  grade: v.picklist(GRADES),
  score: v.nullish(v.pipe(v.number(), v.finite())),
  reason: v.nullish(v.string()),
  cost: v.nullish(amount),
  latency: v.nullish(amount),
  tokenCount: v.nullish(count),
  createdAt: v.nullish(amount),
  row: v.nullish(v.object({ values: v.record(v.string(), rowValue) }))
})
export type Result = v.InferOutput<typeof resultSchema>

export const resultPageSchema = v.object({
  results: v.array(resultSchema),
  pagination: paginationSchema
})

/** Evaluator titles are 1..200 characters (Adaline v2). */
export const TITLE_MAX = 200

/**
 * One evaluator of a prompt, from `GET /prompts/{promptId}/evaluators`: what gives a report its
 * names. Only the ID and title are needed, so the other fields may be absent or null.
 */
export const evaluatorSchema = v.looseObject({
  id,
  promptId: id,
  title: v.pipe(v.string(), v.minLength(1), v.maxLength(TITLE_MAX)),
  datasetId: v.nullish(id),
  status: v.nullish(v.string()),
  createdAt: time,
  updatedAt: time
})
export type Evaluator = v.InferOutput<typeof evaluatorSchema>

export const evaluatorPageSchema = v.looseObject({
  evaluators: v.array(evaluatorSchema),
  pagination: paginationSchema
})

/**
 * An evaluator as the client reads a listing: its ID, its prompt and its title, whatever the
 * title holds (names.ts cleans it). One that does not fit is left out of its page alone, so a
 * single odd evaluator (an empty or 10 kB title, no ID) costs its own name and not the others'.
 */
export const listedEvaluatorSchema = v.object({
  id,
  promptId: v.nullish(v.string()),
  title: v.string()
})
export type ListedEvaluator = v.InferOutput<typeof listedEvaluatorSchema>

/** A page of evaluators as the client reads it: each item checked on its own. */
export const evaluatorListingSchema = v.object({
  evaluators: v.array(v.unknown()),
  pagination: paginationSchema
})

/**
 * The shapes of Adaline v2 answers, checked before use so that a wrong answer ends with an error
 * that names the endpoint and the field instead of a verdict computed from garbage.
 */
import * as z from 'zod/mini'
import { en } from 'zod/locales'

// zod/mini: the same checks for a fraction of classic zod's start-up; English issue messages.
z.config(en())

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

/** Every Adaline ID is a string of 20 to 80 characters. */
export const ID_MIN = 20
export const ID_MAX = 80
export const MAX_PAGE_SIZE = 200

const id = z.string().check(z.minLength(ID_MIN), z.maxLength(ID_MAX))
const count = z.int().check(z.nonnegative())
const amount = z.number().check(z.nonnegative())
const time = z.nullish(amount)

// Loose objects: a field Adaline adds later must not break the action.
export const evaluationSchema = z.looseObject({
  runId: id,
  evaluatorId: id,
  status: z.enum(EVALUATION_STATUSES),
  progress: z.looseObject({
    totalRows: count,
    completedRows: count,
    failedRows: count,
    percent: z.number().check(z.gte(0), z.lte(100))
  }),
  metrics: z.looseObject({
    passRuns: count,
    failRuns: count,
    unknownRuns: count,
    totalCost: amount,
    totalLatency: amount,
    totalTokenCount: count
  }),
  timeline: z.looseObject({
    submittedAt: amount,
    startedAt: time,
    finishedAt: time
  }),
  datasetId: z.nullish(id)
})
export type Evaluation = z.infer<typeof evaluationSchema>

export const evaluationPageSchema = z.looseObject({
  evaluations: z.array(z.unknown()),
  pagination: z.looseObject({
    limit: z.optional(count),
    returned: z.optional(count),
    hasMore: z.boolean(),
    nextCursor: z.nullish(z.string().check(z.minLength(1)))
  })
})

/** Adaline's error bodies: `{error:{code,message}}`, or `{error:"text"}` on older endpoints. */
export const errorBodySchema = z.object({
  error: z.union([
    z.string(),
    z.looseObject({ code: z.optional(z.string()), message: z.optional(z.string()) })
  ])
})

/** "evaluations[3].metrics.passRuns: expected number" — the first problem, named by its path. */
export function describeIssue(error: z.core.$ZodError, prefix: string): string {
  const issue = error.issues[0]
  if (!issue) return `${prefix}: invalid`
  const path = issue.path.reduce<string>(
    (text, key) =>
      typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key),
    prefix
  )
  return `${path}: ${issue.message}`
}

export const GRADES = ['pass', 'fail', 'unknown'] as const
export type Grade = (typeof GRADES)[number]

/** One row's result in an evaluation: what the failing-rows report shows. */
export const resultSchema = z.looseObject({
  id: z.string().check(z.minLength(1)),
  rowId: z.string().check(z.minLength(1)),
  grade: z.enum(GRADES),
  score: z.nullish(z.number()),
  reason: z.nullish(z.string()),
  cost: z.nullish(amount),
  latency: z.nullish(amount),
  tokenCount: z.nullish(count),
  createdAt: z.nullish(amount),
  row: z.nullish(z.looseObject({ values: z.record(z.string(), z.unknown()) }))
})
export type Result = z.infer<typeof resultSchema>

export const resultPageSchema = z.looseObject({
  results: z.array(resultSchema),
  pagination: evaluationPageSchema.shape.pagination
})

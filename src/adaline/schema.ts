/**
 * The shapes of Adaline v2 answers, checked before use so that a wrong answer ends with an error
 * that names the endpoint and the field instead of a verdict computed from garbage.
 */
import { z } from 'zod'

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

const id = z.string().min(ID_MIN).max(ID_MAX)
const count = z.number().int().nonnegative()
const amount = z.number().nonnegative()
const time = z.number().nonnegative().nullable().optional()

// Loose objects: a field Adaline adds later must not break the action.
export const evaluationSchema = z.looseObject({
  runId: id,
  evaluatorId: id,
  status: z.enum(EVALUATION_STATUSES),
  progress: z.looseObject({
    totalRows: count,
    completedRows: count,
    failedRows: count,
    percent: z.number().min(0).max(100)
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
    submittedAt: z.number().nonnegative(),
    startedAt: time,
    finishedAt: time
  }),
  datasetId: id.nullable().optional()
})
export type Evaluation = z.infer<typeof evaluationSchema>

export const evaluationPageSchema = z.looseObject({
  evaluations: z.array(z.unknown()),
  pagination: z.looseObject({
    limit: z.number().int().nonnegative().optional(),
    returned: z.number().int().nonnegative().optional(),
    hasMore: z.boolean(),
    nextCursor: z.string().min(1).nullable().optional()
  })
})

/** Adaline's error bodies: `{error:{code,message}}`, or `{error:"text"}` on older endpoints. */
export const errorBodySchema = z.object({
  error: z.union([
    z.string(),
    z.looseObject({ code: z.string().optional(), message: z.string().optional() })
  ])
})

/** "evaluations[3].metrics.passRuns: expected number" — the first problem, named by its path. */
export function describeIssue(error: z.ZodError, prefix: string): string {
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
  id: z.string().min(1),
  rowId: z.string().min(1),
  grade: z.enum(GRADES),
  score: z.number().nullable().optional(),
  reason: z.string().nullable().optional(),
  cost: z.number().nonnegative().nullable().optional(),
  latency: z.number().nonnegative().nullable().optional(),
  tokenCount: z.number().int().nonnegative().nullable().optional(),
  createdAt: z.number().nonnegative().nullable().optional(),
  row: z
    .looseObject({ values: z.record(z.string(), z.unknown()) })
    .nullable()
    .optional()
})
export type Result = z.infer<typeof resultSchema>

export const resultPageSchema = z.looseObject({
  results: z.array(resultSchema),
  pagination: evaluationPageSchema.shape.pagination
})

/** Stand-in evaluations for unit tests of the pure parts. */
import type { Evaluation, EvaluationStatus } from '../src/adaline/schema.js'
import type { Listed } from '../src/judge/judged-set.js'

export const PROMPT = 'prompt-aaaaaaaaaaaaaaaaaaaa'
export const OTHER_PROMPT = 'prompt-bbbbbbbbbbbbbbbbbbbb'
export const EVALUATOR = 'evaluator-aaaaaaaaaaaaaaaa'
export const OTHER_EVALUATOR = 'evaluator-bbbbbbbbbbbbbbbb'
export const DATASET = 'dataset-aaaaaaaaaaaaaaaaaaa'

let sequence = 0

export interface EvaluationFields {
  runId?: string
  evaluatorId?: string
  datasetId?: string
  status?: EvaluationStatus
  submittedAt?: number
  pass?: number
  fail?: number
  unknown?: number
  failedRows?: number
  cost?: number
  latency?: number
  tokens?: number
}

export function evaluation(fields: EvaluationFields = {}): Evaluation {
  sequence += 1
  const { pass = 8, fail = 1, unknown = 1 } = fields
  const total = pass + fail + unknown
  return {
    runId: fields.runId ?? `run-${String(sequence).padStart(16, '0')}`,
    evaluatorId: fields.evaluatorId ?? EVALUATOR,
    datasetId: fields.datasetId ?? DATASET,
    status: fields.status ?? 'completed',
    progress: {
      totalRows: total,
      completedRows: total,
      failedRows: fields.failedRows ?? 0,
      percent: 100
    },
    metrics: {
      passRuns: pass,
      failRuns: fail,
      unknownRuns: unknown,
      totalCost: fields.cost ?? 0.25,
      totalLatency: fields.latency ?? 10_000,
      totalTokenCount: fields.tokens ?? 5_000
    },
    timeline: {
      submittedAt: fields.submittedAt ?? 1_700_000_000_000 + sequence,
      startedAt: null,
      finishedAt: null
    }
  }
}

export function listed(fields: EvaluationFields = {}, promptId = PROMPT): Listed {
  const value = evaluation(fields)
  return { promptId, evaluation: value }
}

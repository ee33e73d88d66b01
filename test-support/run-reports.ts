/**
 * RunReports built without a run, as the engine builds them (totals and verdict by judge/), for the
 * tests of the report builders.
 */
import type { Evaluation } from '../src/adaline/schema.js'
import { BaselineIndex, type Listed } from '../src/judge/judged-set.js'
import { totals } from '../src/judge/metrics.js'
import { parsePolicy } from '../src/judge/policy-yaml.js'
import { judge } from '../src/judge/policy.js'
import type { RunReport } from '../src/run/run-report.js'
import { fakeId } from './fake-adaline.js'

/** The judged evaluations of prompt 1. */
export function judgedOf(evaluations: Evaluation[], promptId = fakeId('prm', 1)): Listed[] {
  return evaluations.map(evaluation => ({ promptId, evaluation }))
}

/**
 * A report on `judged` under the policy's YAML, each baseline given by judged run ID; `extra`
 * overrides any field.
 */
export function reportOf(
  judged: Listed[],
  policyYaml = '',
  options: { baselines?: Map<string, Evaluation>; extra?: Partial<RunReport> } = {}
): RunReport {
  const evaluations = judged.map(item => item.evaluation)
  const metrics = totals(evaluations)
  const policy = parsePolicy(policyYaml)
  const baselines = new Map(
    [...(options.baselines ?? [])].map(([runId, evaluation]) => {
      const promptId = judged.find(item => item.evaluation.runId === runId)?.promptId ?? ''
      return [runId, { promptId, evaluation }] as const
    })
  )
  const promptIds = [...new Set(judged.map(item => item.promptId))]
  return {
    promptIds,
    scope: policy.scope,
    dryRun: false,
    verdict: judge(evaluations, metrics, policy, {
      baselines: new Map([...baselines].map(([runId, item]) => [runId, item.evaluation]))
    }),
    metrics,
    gathered: {
      listedCount: judged.length,
      listedByStatus: { completed: judged.length },
      judged,
      superseded: [],
      baselines: new BaselineIndex(2),
      pages: 1
    },
    decision: { act: false, reason: 'cancel-superseded is never' },
    cancel: { cancelled: [], finished: [], failed: [] },
    started: [],
    baselines,
    failingRows: new Map(),
    policy,
    timing: { startedAt: 1_760_000_000_000, finishedAt: 1_760_000_012_345 },
    ...options.extra
  }
}

/** What the JSON report adds to each judged evaluation, beyond the API's fields. */
const ADDED_FIELDS = [
  'promptId',
  'evaluatorTitle',
  'passRate',
  'avgLatencyMs',
  'baseline',
  'failingRows',
  'comparison'
]

/**
 * The JSON report's judged evaluations with only the API's fields, as the `evaluations` output
 * gives them.
 */
export function apiFieldsOf(evaluations: Record<string, unknown>[]): Record<string, unknown>[] {
  return evaluations.map(evaluation =>
    Object.fromEntries(Object.entries(evaluation).filter(([key]) => !ADDED_FIELDS.includes(key)))
  )
}

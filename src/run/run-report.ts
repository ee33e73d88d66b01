/** What one run produces, for the faces and the report builders: the verdict and all it rests on. */
import type { Result } from '../adaline/schema.js'
import type { CancelMode, SupersedeDecision } from '../github/event.js'
import type { Listed } from '../judge/judged-set.js'
import type { Metrics } from '../judge/metrics.js'
import type { Policy, Scope, Verdict } from '../judge/policy.js'
import type { Comparison } from '../judge/regressions.js'
import type { CancelOutcome } from './cancel.js'
import type { Gathered } from './gather.js'
import type { FetchedResults } from './results-cache.js'
import type { WaitOutcome } from './wait.js'

export interface RunReport {
  promptIds: string[]
  scope: Scope
  dryRun: boolean
  verdict: Verdict
  metrics: Metrics
  /** the listing; `judged` as last seen (after a wait), or the started evaluations */
  gathered: Gathered
  decision: SupersedeDecision
  /** the cancel-superseded mode the run had (the engine always sets it): the summary tells why nothing was cancelled only when it was not never */
  cancelSuperseded?: CancelMode
  cancel: CancelOutcome
  /** run IDs this run started */
  started: string[]
  /** set when the run waited */
  wait?: WaitOutcome
  /** each judged evaluation's baseline, by run ID */
  baselines: Map<string, Listed>
  /** the policy compares with baselines (max-pass-rate-drop): say so even when none was found */
  comparesWithBaseline?: boolean
  /**
   * each judged evaluation with a baseline compared row by row, or why not, by judged run ID:
   * only when the policy sets max-new-failures or significance
   */
  comparisons?: Map<string, Comparison>
  /** the baselines pinned by baseline-run-id, run IDs in input order (empty: none pinned) */
  pinnedBaselines?: string[]
  /** failing and unknown rows, by run ID */
  failingRows: Map<string, Result[]>
  /** every row result of each judged evaluation, by run ID: only when a JUnit file is asked for */
  rowResults?: Map<string, FetchedResults>
  /** evaluator titles by evaluator ID, where the evaluators listing gave them (run/names.ts) */
  evaluatorTitles?: ReadonlyMap<string, string>
  /** the evaluation-url template, when set: the summary links each evaluation by it */
  evaluationUrl?: string
  /** the policy judged by (the engine always sets it; a report built by hand may not) */
  policy?: Policy
  /** when the run started and ended, Unix ms (the engine always sets it) */
  timing?: { startedAt: number; finishedAt: number }
}

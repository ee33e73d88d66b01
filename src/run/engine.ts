/**
 * The pipeline both faces run (the action in action/main.ts, the command in cli/cli.ts): from
 * settings and a supersede decision to a judged report. It creates the run's context, calls each
 * stage in order, and carries what one stage found to the next.
 */
import type { SupersedeDecision } from '../github/event.js'
import type { Naming, Settings } from '../inputs/settings.js'
import type { Listed } from '../judge/judged-set.js'
import type { Comparison } from '../judge/regressions.js'
import { checkFigures, totals } from '../judge/metrics.js'
import { brokeARule } from '../judge/checks.js'
import { judge } from '../judge/policy.js'
import { supersedeRule } from '../judge/supersede.js'
import { ABORT_TRANSPORT, type Abortable } from './abort.js'
import { baselinesStage } from './baselines.js'
import { cancelStage, type CancelOutcome } from './cancel.js'
import { comparesRows, comparisonsStage } from './comparisons.js'
import { createContext, type Log } from './context.js'
import { gatherStage } from './gather.js'
import { pinnedBaselines, pinsStage } from './pins.js'
import { resultsStage } from './results.js'
import { namesStage } from './names.js'
import { rowsStage } from './rows.js'
import type { RunReport } from './run-report.js'
import { startStage } from './start.js'
import { OwnStarts } from './started.js'
import { waitStage, type WaitOutcome } from './wait.js'

/**
 * The engine, and what an abort asks of it: settleStarts stops new starts and waits for those under
 * way; cancelStarted cancels, on the abort's own transport, what this run started and was queued or
 * running when last seen, adopted ones left alone.
 */
export interface Engine extends Abortable {
  /** Runs plan → API → judgement under the given supersede decision. */
  evaluate(decision: SupersedeDecision): Promise<RunReport>
  /** The run IDs this run started so far, for the `started` output when the run fails. */
  startedRunIds(): string[]
  /** The superseded evaluations' cancels, once made, for the `cancel-failed` output when the run fails. */
  supersededCancels(): CancelOutcome | undefined
}

/** The engine of one run; `naming` is how the face's messages name its settings (inputs or flags). */
export function createEngine(settings: Settings, log: Log, naming: Naming): Engine {
  const context = createContext(settings, log, ABORT_TRANSPORT, naming)
  const starts = new OwnStarts(context)
  let supersededCancels: CancelOutcome | undefined

  async function evaluate(decision: SupersedeDecision): Promise<RunReport> {
    const startedAt = Date.now()
    log.info(
      `Superseded evaluations: ${decision.act ? '' : 'nothing to cancel: '}${decision.reason}`
    )
    // a pin that is no completed evaluation is refused before anything is listed or cancelled
    const pins = await pinsStage(context)
    const gathered = await gatherStage(context, supersedeRule(decision, settings))
    // the judged set is known now unless the run starts it: a pin that stands for none of it (or is
    // one of it) is refused before anything is cancelled
    if (!settings.start) pinnedBaselines(pins, gathered.judged)
    const cancel = (supersededCancels = await cancelStage(context, gathered.superseded))
    try {
      let judged = gathered.judged
      if (settings.start) judged = await startStage(context, starts)
      const wait =
        settings.waitMs === undefined
          ? undefined
          : await waitStage(context, judged, settings.waitMs, item => starts.remember(item))
      if (wait) judged = wait.items
      const baselines = await baselinesStage(context, gathered, judged, pins)
      // row by row only when the policy reads it: it costs ceil(rows / 200) requests a side
      const comparisons = comparesRows(settings.policy)
        ? await comparisonsStage(context, judged, baselines)
        : undefined
      const { verdict, metrics } = judgeRun(judged, baselines, wait, comparisons)
      for (const warning of verdict.warnings) log.warning(warning)
      // every row only for a JUnit file; fetched first, so that the failing rows come from them
      const rowResults = settings.junitFile ? await resultsStage(context, judged) : undefined
      const rows = await rowsStage(context, judged, brokeARule(verdict.checks))
      const evaluatorTitles = await namesStage(context, judged)
      return {
        promptIds: settings.promptIds,
        scope: settings.policy.scope,
        dryRun: settings.dryRun,
        verdict,
        metrics,
        gathered: { ...gathered, judged },
        decision,
        cancelSuperseded: settings.cancelSuperseded,
        cancel,
        started: starts.runIds(),
        wait,
        baselines,
        comparesWithBaseline:
          settings.policy.limits['max-pass-rate-drop'] !== undefined || comparisons !== undefined,
        comparisons,
        pinnedBaselines: pins.map(pin => pin.evaluation.runId),
        failingRows: rows,
        rowResults,
        evaluatorTitles,
        policy: settings.policy,
        evaluationUrl: settings.evaluationUrl,
        timing: { startedAt, finishedAt: Date.now() }
      }
    } catch (error) {
      await starts.cancelAfterError()
      throw error
    }
  }

  /** The totals of the judged evaluations and the policy's verdict on them. */
  function judgeRun(
    judged: Listed[],
    baselines: Map<string, Listed>,
    wait: WaitOutcome | undefined,
    comparisons: Map<string, Comparison> | undefined
  ) {
    const evaluations = judged.map(item => item.evaluation)
    checkFigures([...evaluations, ...[...baselines.values()].map(item => item.evaluation)])
    const metrics = totals(evaluations)
    const verdict = judge(evaluations, metrics, settings.policy, {
      baselines: new Map([...baselines].map(([runId, item]) => [runId, item.evaluation])),
      waitedMs: wait?.waitedMs,
      waitTimedOut: (wait?.timedOut.length ?? 0) > 0,
      comparisons,
      naming
    })
    return { verdict, metrics }
  }

  return {
    evaluate,
    settleStarts: () => starts.settle(),
    cancelStarted: () => starts.cancelOwn(context.abortClient),
    starts: () => starts.soFar(),
    startedRunIds: () => starts.runIds(),
    supersededCancels: () => supersededCancels
  }
}

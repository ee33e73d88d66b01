/**
 * The pinned baselines of the `baseline-run-id` input: each looked up before anything else the run
 * does, refused unless it is a completed evaluation of a listed prompt, and later matched with the
 * judged evaluations of its evaluator and dataset, whose automatic baseline it replaces.
 */
import { ApiError } from '../adaline/http.js'
import { InputError } from '../inputs/settings.js'
import type { Listed } from '../judge/judged-set.js'
import type { RunContext } from './context.js'
import { plural } from '../format.js'

const INPUT = 'baseline-run-id'

/** The pinned evaluations, as the API answers them, in input order. */
export async function pinsStage(context: RunContext): Promise<Listed[]> {
  const { settings, client, log } = context
  const pins: Listed[] = []
  for (const runId of settings.baselineRunIds) {
    let found: Listed | undefined
    for (const promptId of settings.promptIds) {
      try {
        found = { promptId, evaluation: await client.getEvaluation(promptId, runId) }
        break
      } catch (error) {
        // another prompt's evaluation is a 404 under this one: try the next prompt
        if (!(error instanceof ApiError) || error.status !== 404) throw error
      }
    }
    if (!found)
      throw new InputError(
        INPUT,
        naming =>
          `has ${runId}, which is no evaluation of the ${settings.promptIds.length > 1 ? 'prompts' : 'prompt'} in ${naming.nameOf('prompt-id')}: pin the run ID of a completed evaluation of a listed prompt`
      )
    if (found.evaluation.status !== 'completed')
      throw new InputError(
        INPUT,
        `has ${runId}, which is ${found.evaluation.status}, not completed: pin a completed evaluation (its rows are all graded)`
      )
    // the judged evaluations are of evaluator-id and dataset-id when set: a pin of others stands for none
    for (const [input, wanted, has] of [
      ['evaluator-id', settings.evaluatorId, found.evaluation.evaluatorId],
      ['dataset-id', settings.datasetId, found.evaluation.datasetId ?? undefined]
    ] as const)
      if (wanted !== undefined && has !== wanted)
        throw new InputError(
          INPUT,
          naming =>
            `has ${runId}, of ${input === 'evaluator-id' ? 'evaluator' : 'dataset'} ${has ?? '(none)'}, but ${naming.nameOf(input)} is ${wanted}: pin a completed evaluation of the ${input === 'evaluator-id' ? 'evaluator' : 'dataset'} judged`
        )
    const twin = pins.find(pin => sameGroup(pin, found))
    if (twin)
      throw new InputError(
        INPUT,
        `has ${twin.evaluation.runId} and ${runId}, both of evaluator ${found.evaluation.evaluatorId} and ${datasetOf(found)}: pin one baseline per evaluator and dataset`
      )
    pins.push(found)
  }
  if (pins.length > 0)
    log.info(
      `Pinned ${plural(pins.length, 'baseline')} (${INPUT}): ${pins.map(pin => pin.evaluation.runId).join(', ')}.`
    )
  return pins
}

/**
 * Each judged evaluation's pinned baseline, by judged run ID. A pin that stands for no judged
 * evaluation (another evaluator or dataset) is an error naming the input, unless nothing was
 * judged. Pure.
 */
export function pinnedBaselines(
  pins: readonly Listed[],
  judged: readonly Listed[]
): Map<string, Listed> {
  const byRunId = new Map<string, Listed>()
  for (const pin of pins) {
    const stands = judged.filter(
      item => sameGroup(item, pin) && item.evaluation.runId !== pin.evaluation.runId
    )
    if (stands.length === 0 && judged.some(item => item.evaluation.runId === pin.evaluation.runId))
      throw new InputError(
        INPUT,
        `has ${pin.evaluation.runId}, which is the judged evaluation itself: pin an earlier completed evaluation of the same evaluator and dataset`
      )
    if (stands.length === 0 && judged.length > 0)
      throw new InputError(
        INPUT,
        `has ${pin.evaluation.runId}, of evaluator ${pin.evaluation.evaluatorId} and ${datasetOf(pin)}, which no judged evaluation has: pin a completed evaluation of the same evaluator and dataset as the judged one`
      )
    for (const item of stands) byRunId.set(item.evaluation.runId, pin)
  }
  return byRunId
}

function sameGroup(a: Listed, b: Listed): boolean {
  return (
    a.promptId === b.promptId &&
    a.evaluation.evaluatorId === b.evaluation.evaluatorId &&
    (a.evaluation.datasetId ?? null) === (b.evaluation.datasetId ?? null)
  )
}

function datasetOf({ evaluation }: Listed): string {
  return evaluation.datasetId ? `dataset ${evaluation.datasetId}` : 'no dataset'
}

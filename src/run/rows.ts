/**
 * The failing and unknown rows of the judged evaluations, so a reviewer sees why without opening
 * Adaline. Only what the report shows is fetched: a few evaluations (those with the most failing
 * runs), one section of rows each, failing rows first and unknown ones only for the room left.
 * Rows explain a verdict and never decide it, so a failure to fetch them is a warning.
 */
import type { AdalineClient } from '../adaline/client.js'
import { ApiError } from '../adaline/http.js'
import type { Result } from '../adaline/schema.js'
import type { Listed } from '../judge/judged-set.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import type { RunContext } from './context.js'

/** At most this many evaluations get a section of rows. */
export const MAX_EVALUATIONS_WITH_ROWS = 5
/** Rows in one evaluation's section: failing ones, then unknown ones in the room left. */
export const ROWS_PER_EVALUATION = 20

export interface RowsOptions {
  limit: AdaptiveLimit
  warn: (message: string) => void
  /**
   * an evaluation's rows as the run fetched them already (then no request): every row result, or
   * at least those `shownRows` takes from them
   */
  fetched?: (runId: string) => Result[] | undefined
  /** run IDs of the evaluations that broke a rule, whose rows come first */
  first?: ReadonlySet<string>
}

/**
 * The judged evaluations whose rows are shown: those with failing or unknown runs, first those
 * that broke a rule (`first`), then the most failing runs (then the most unknown runs, then as
 * judged). Pure.
 */
export function evaluationsWithRows(
  judged: readonly Listed[],
  first: ReadonlySet<string> = new Set()
): Listed[] {
  const broke = (item: Listed) => (first.has(item.evaluation.runId) ? 1 : 0)
  return judged
    .map((item, index) => ({ item, index }))
    .filter(({ item: { evaluation: e } }) => e.metrics.failRuns + e.metrics.unknownRuns > 0)
    .sort(
      (a, b) =>
        broke(b.item) - broke(a.item) ||
        b.item.evaluation.metrics.failRuns - a.item.evaluation.metrics.failRuns ||
        b.item.evaluation.metrics.unknownRuns - a.item.evaluation.metrics.unknownRuns ||
        a.index - b.index
    )
    .slice(0, MAX_EVALUATIONS_WITH_ROWS)
    .map(({ item }) => item)
}

/**
 * The run's rows stage: the failing and unknown rows that explain the verdict, by run ID, those
 * of the evaluations that broke a rule (`first`) first.
 */
export function rowsStage(
  context: RunContext,
  judged: Listed[],
  first: ReadonlySet<string> = new Set()
): Promise<Map<string, Result[]>> {
  return failingRows(context.client, judged, {
    limit: context.limit,
    warn: context.log.warning,
    fetched: runId => context.results.shown(runId),
    first
  })
}

/** Failing then unknown rows, by run ID, of the evaluations whose rows are shown. */
export async function failingRows(
  client: AdalineClient,
  judged: Listed[],
  options: RowsOptions
): Promise<Map<string, Result[]>> {
  const fetched = await mapWithin(
    options.limit,
    evaluationsWithRows(judged, options.first),
    async ({ promptId, evaluation }): Promise<[string, Result[]]> => {
      const { runId, metrics } = evaluation
      const fetched = options.fetched?.(runId)
      if (fetched) return [runId, shownRows(fetched)]
      try {
        const fail =
          metrics.failRuns > 0
            ? await client.listResults(promptId, runId, 'fail', ROWS_PER_EVALUATION)
            : []
        // unknown rows only fill the room the failing ones leave
        const room = ROWS_PER_EVALUATION - fail.length
        const unknown =
          metrics.unknownRuns > 0 && room > 0
            ? await client.listResults(promptId, runId, 'unknown', room)
            : []
        return [runId, [...fail, ...unknown]]
      } catch (error) {
        if (!(error instanceof ApiError)) throw error
        options.warn(`Could not fetch the failing rows of ${runId}: ${error.message}`)
        return [runId, []]
      }
    }
  )
  return new Map(fetched.filter(([, rows]) => rows.length > 0))
}

/**
 * The rows the requests above would give, taken from every row result in the API's order; the
 * same again when given its own answer. Pure.
 */
export function shownRows(results: readonly Result[]): Result[] {
  const fail = results.filter(result => result.grade === 'fail').slice(0, ROWS_PER_EVALUATION)
  const unknown = results
    .filter(result => result.grade === 'unknown')
    .slice(0, ROWS_PER_EVALUATION - fail.length)
  return [...fail, ...unknown]
}

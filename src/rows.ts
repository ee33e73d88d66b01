/**
 * The failing and unknown rows of the judged evaluations, so a reviewer sees why without opening
 * Adaline. Capped: a few evaluations, a few rows each. Rows explain a verdict and never decide
 * it, so a failure to fetch them is a warning.
 */
import type { AdalineClient } from './adaline/client.js'
import { ApiError } from './adaline/http.js'
import type { Result } from './adaline/schema.js'
import { AdaptiveLimit, mapWithin } from './concurrency.js'
import type { Listed } from './select.js'

/** At most this many evaluations get their rows fetched, newest first. */
export const MAX_EVALUATIONS_WITH_ROWS = 10
export const MAX_FAIL_ROWS = 20
export const MAX_UNKNOWN_ROWS = 10

export interface RowsOptions {
  limit: AdaptiveLimit
  warn: (message: string) => void
}

/** Failing then unknown rows, by run ID, of the judged evaluations that have any. */
export async function failingRows(
  client: AdalineClient,
  judged: Listed[],
  options: RowsOptions
): Promise<Map<string, Result[]>> {
  const withFailures = judged
    .filter(({ evaluation: { metrics } }) => metrics.failRuns + metrics.unknownRuns > 0)
    .slice(0, MAX_EVALUATIONS_WITH_ROWS)
  const fetched = await mapWithin(
    options.limit,
    withFailures,
    async ({ promptId, evaluation }): Promise<[string, Result[]]> => {
      try {
        const fail =
          evaluation.metrics.failRuns > 0
            ? await client.listResults(promptId, evaluation.runId, 'fail', MAX_FAIL_ROWS)
            : []
        const unknown =
          evaluation.metrics.unknownRuns > 0
            ? await client.listResults(promptId, evaluation.runId, 'unknown', MAX_UNKNOWN_ROWS)
            : []
        return [evaluation.runId, [...fail, ...unknown]]
      } catch (error) {
        if (!(error instanceof ApiError)) throw error
        options.warn(`Could not fetch the failing rows of ${evaluation.runId}: ${error.message}`)
        return [evaluation.runId, []]
      }
    }
  )
  return new Map(fetched.filter(([, rows]) => rows.length > 0))
}

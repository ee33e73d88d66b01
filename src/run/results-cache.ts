/**
 * Every row result of evaluations (every grade, with the rows' values), fetched once per run and
 * kept: the JUnit report asks for those of the judged evaluations, and a later purpose (pairing
 * rows with a baseline's) asks for more run IDs and gets what was fetched already without a request.
 * Rows no later purpose needs whole are let go of (`release`), but for the few a report shows:
 * 200,000 row results kept to the end of a run cost about 150 MiB.
 */
import type { AdalineClient } from '../adaline/client.js'
import { ApiError } from '../adaline/http.js'
import type { Evaluation, Result } from '../adaline/schema.js'
import { formatCount } from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { mapWithin, type AdaptiveLimit } from './concurrency.js'

/** The most row results fetched for one evaluation: 50 pages of 200. */
export const RESULTS_CAP = 10_000

/** What was fetched of one evaluation's row results. */
export type FetchedResults =
  | {
      ok: true
      /** in the API's order, at most `cap` of them */
      results: Result[]
      /** results past the cap, not fetched: 0 when `results` is every one */
      leftOut: number
      /** the cap they were fetched under */
      cap: number
    }
  | {
      ok: false
      /** why not, naming the endpoint */
      problem: string
    }

export interface ResultsAnswer {
  /** by run ID, for each evaluation asked for */
  byRunId: Map<string, FetchedResults>
  /** requests (pages) this ask made; what was kept from an earlier ask made none */
  requests: number
}

/** The run's row results, fetched at most once per evaluation (unless asked again with a higher cap). */
export class ResultsCache {
  private readonly kept = new Map<string, Promise<FetchedResults>>()
  /** what `kept` came to, once it came */
  private readonly settled = new Map<string, FetchedResults>()
  /** what `release` kept of evaluations let go of */
  private readonly released = new Map<string, Result[]>()

  constructor(
    private readonly client: AdalineClient,
    private readonly limit: AdaptiveLimit
  ) {}

  /**
   * The row results of these evaluations, at most `cap` each: those kept from an earlier ask when
   * they were fetched whole or under a cap as high, the others fetched now, within the run's bound
   * on requests in flight. A failure is kept too, so that a run does not ask a failing endpoint
   * again for each purpose.
   */
  async fetch(items: readonly Listed[], cap = RESULTS_CAP): Promise<ResultsAnswer> {
    // this ask's own requests: asks may run at once, and one that waits for another's pages made none
    const made = { requests: 0 }
    const answers = await mapWithin(this.limit, items, async item => {
      const { runId } = item.evaluation
      let entry = this.kept.get(runId)
      if (entry === undefined || !covers(await entry, cap)) {
        this.released.delete(runId)
        entry = this.fetchOne(item, cap, made).then(fetched => {
          this.settled.set(runId, fetched)
          return fetched
        })
        this.kept.set(runId, entry)
      }
      return [runId, await entry] as const
    })
    return { byRunId: new Map(answers), requests: made.requests }
  }

  /** Every row result of the evaluation, when they were fetched already, all of them; else undefined. */
  whole(runId: string): Result[] | undefined {
    const fetched = this.settled.get(runId)
    return fetched?.ok && fetched.leftOut === 0 ? fetched.results : undefined
  }

  /**
   * The rows a report can show of the evaluation without a request: every row result while they
   * are kept whole, what `release` kept once let go of; else undefined.
   */
  shown(runId: string): Result[] | undefined {
    return this.whole(runId) ?? this.released.get(runId)
  }

  /**
   * Lets go of the evaluation's row results, keeping `keep(results)` when they were every one (a
   * report's few rows); a later ask fetches them again. A failure is kept, so that it is not
   * asked again. For when no later purpose of the run needs them whole.
   */
  release(runId: string, keep: (results: readonly Result[]) => Result[]): void {
    const fetched = this.settled.get(runId)
    if (!fetched?.ok) return
    if (fetched.leftOut === 0) this.released.set(runId, keep(fetched.results))
    this.settled.delete(runId)
    this.kept.delete(runId)
  }

  private async fetchOne(
    { promptId, evaluation }: Listed,
    cap: number,
    made: { requests: number }
  ): Promise<FetchedResults> {
    const results: Result[] = []
    let more = false
    try {
      for await (const page of this.client.listAllResults(promptId, evaluation.runId, cap)) {
        made.requests += 1
        results.push(...page.results)
        more = page.hasMore
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      return { ok: false, problem: error.message }
    }
    return {
      ok: true,
      results,
      leftOut: more ? leftOut(evaluation.metrics, results.length) : 0,
      cap
    }
  }
}

/** Whether what was kept answers an ask under `cap`. */
function covers(entry: FetchedResults, cap: number): boolean {
  return !entry.ok || entry.leftOut === 0 || entry.cap >= cap
}

/**
 * How many results lie past the cap: the evaluation's runs less those fetched. The API said more
 * follow, so at least one, whatever the metrics say.
 */
function leftOut(
  metrics: { passRuns: number; failRuns: number; unknownRuns: number },
  fetched: number
): number {
  return Math.max(1, metrics.passRuns + metrics.failRuns + metrics.unknownRuns - fetched)
}

/**
 * How a completed evaluation's whole results listing disagrees with what the evaluation says of
 * itself, or undefined: fewer or more distinct rows than its run counts (a listing that ended early,
 * rowIds repeated in place of missing rows), fewer than its progress counts completed, or other
 * grades than its metrics. Such rows are partial data: no comparison stands on them. Pure.
 */
export function disagreesWithEvaluation(
  results: readonly Result[],
  { runId, metrics, progress }: Evaluation
): string | undefined {
  const { passRuns, failRuns, unknownRuns } = metrics
  const promised = passRuns + failRuns + unknownRuns
  const distinct = new Set(results.map(result => result.rowId)).size
  if (distinct !== promised)
    return `the results of ${runId} list ${formatCount(distinct)} distinct rows, but its metrics count ${formatCount(promised)} graded runs (${distinct < promised ? 'the listing ended early' : 'the listing disagrees with the metrics'})`
  if (distinct < progress.completedRows)
    return `the results of ${runId} list ${formatCount(distinct)} distinct rows, but its progress counts ${formatCount(progress.completedRows)} completed rows (the listing or the metrics fell short)`
  if (results.length !== promised) return undefined
  const count = (grade: Result['grade']) => results.filter(r => r.grade === grade).length
  if (count('pass') !== passRuns || count('fail') !== failRuns || count('unknown') !== unknownRuns)
    return `the grades in the results of ${runId} (${count('pass')} pass, ${count('fail')} fail, ${count('unknown')} unknown) disagree with its metrics (${passRuns} pass, ${failRuns} fail, ${unknownRuns} unknown)`
  return undefined
}

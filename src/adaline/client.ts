/** The Adaline v2 endpoints the action uses, over the one transport in http.ts. */
import { monotonicNow } from './clock.js'
import { formatTime } from '../format.js'
import { ApiError, type Http, type NameOf } from './http.js'
import {
  MAX_PAGE_SIZE,
  evaluationPageSchema,
  evaluationSchema,
  checkShape,
  evaluatorListingSchema,
  listedEvaluatorSchema,
  resultPageSchema,
  type Evaluation,
  type EvaluationStatus,
  type ListedEvaluator,
  type Grade,
  type Result
} from './schema.js'

export interface ListFilters {
  status?: EvaluationStatus
  evaluatorId?: string
  datasetId?: string
  /** Unix ms */
  createdAfter?: number
  /** Unix ms */
  createdBefore?: number
  /** by submission time; the API's default order is not documented */
  sort?: 'createdAt:asc' | 'createdAt:desc'
}

export interface ListedPage {
  /** 1-based */
  page: number
  /** each evaluation as the answer schema kept it: the fields the action knows, no others */
  items: { evaluation: Evaluation }[]
  /** whether the API said more pages follow */
  hasMore: boolean
}

/**
 * A listing longer than this many pages (200,000 evaluations, twice the 100,000 the benchmark
 * lists) is taken as an API that loops: at 10,000 pages a never-ending cursor cost 10,000 requests.
 */
export const DEFAULT_MAX_PAGES = 1_000

/** Empty pages in a row that still say hasMore before the listing is taken as looping. */
export const MAX_EMPTY_PAGES_IN_A_ROW = 10

export interface ResultPage {
  /** 1-based */
  page: number
  results: Result[]
  /** whether the API said more results follow (past `max` too) */
  hasMore: boolean
}

export interface EvaluatorPage {
  /** 1-based */
  page: number
  /** those of the page that have an ID and a title (of any text), in the API's order */
  evaluators: ListedEvaluator[]
  /** items of the page left out: no ID, or no title */
  skipped: number
  /** whether the API said more pages follow */
  hasMore: boolean
}

export interface ClientOptions {
  /** the most pages one listing may take; default DEFAULT_MAX_PAGES */
  maxPages?: number
  /** how messages name prompt-id and created-after (http.ts's NameOf); the inputs' names if not given */
  nameOf?: NameOf
}

export interface AdalineClient {
  listEvaluations(promptId: string, filters: ListFilters): AsyncGenerator<ListedPage>
  cancelEvaluation(promptId: string, runId: string): Promise<Evaluation>
  /** Starts (and bills) an evaluation; a failure that may have started one is marked ambiguous. */
  createEvaluation(
    promptId: string,
    scope: { evaluatorId?: string; datasetId?: string }
  ): Promise<Evaluation>
  /** One evaluation; `deadlineMs` bounds the request, retries included, below the client's. */
  getEvaluation(promptId: string, runId: string, deadlineMs?: number): Promise<Evaluation>
  /** The first `limit` results of one grade, with their rows' values. */
  listResults(promptId: string, runId: string, grade: Grade, limit: number): Promise<Result[]>
  /**
   * Every result of one evaluation, every grade, with their rows' values, in pages of 200 (one
   * request each), until the API has no more or `max` results came.
   */
  listAllResults(promptId: string, runId: string, max: number): AsyncGenerator<ResultPage>
  /**
   * A prompt's evaluators (their titles name them in reports), in pages of 200 by cursor;
   * `deadlineAt` is on the monotonic clock (clock.ts's monotonicNow).
   */
  listEvaluators(promptId: string, options?: { deadlineAt?: number }): AsyncGenerator<EvaluatorPage>
}

export function createClient(http: Http, options: ClientOptions = {}): AdalineClient {
  const { maxPages = DEFAULT_MAX_PAGES, nameOf = (input: string) => input } = options
  const promptNotFound = (promptId: string) =>
    `Prompt ${promptId} was not found: check ${nameOf('prompt-id')} and that the key's workspace owns it.`
  return {
    async *listEvaluations(promptId, filters) {
      const path = `/prompts/${encodeURIComponent(promptId)}/evaluations`
      const trail = new CursorTrail(
        `GET ${path}`,
        maxPages,
        `If it is really that long, narrow it with ${nameOf('created-after')}.`
      )
      let cursor: string | undefined
      for (let page = 1; ; page += 1) {
        const body = await http({
          method: 'GET',
          path,
          query: { ...filters, limit: MAX_PAGE_SIZE, cursor },
          schema: evaluationPageSchema,
          notFound: promptNotFound(promptId)
        })
        body.evaluations.forEach(evaluation => withinFilters(evaluation, filters, `GET ${path}`))
        // as the schema keeps them: the fields the action knows, for the `evaluations` output too
        const items = body.evaluations.map(evaluation => ({ evaluation }))
        const { hasMore, nextCursor } = body.pagination
        yield { page, items, hasMore }
        if (!hasMore) return
        cursor = trail.next(page, items.length, nextCursor)
      }
    },

    async *listAllResults(promptId, runId, max) {
      const path = `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}/results`
      // a cap keeps the pages bounded; the trail still stops a cursor that repeats or never comes
      const trail = new CursorTrail(`GET ${path}`, maxPages, '')
      let cursor: string | undefined
      let fetched = 0
      for (let page = 1; fetched < max; page += 1) {
        const limit = Math.min(MAX_PAGE_SIZE, max - fetched)
        const body = await http({
          method: 'GET',
          path,
          query: { expand: 'row', limit, cursor },
          schema: resultPageSchema,
          notFound: `Results of evaluation ${runId} of prompt ${promptId} were not found.`
        })
        // a page longer than asked for is cut: the cap holds whatever the API sends
        const results = body.results.slice(0, limit)
        fetched += results.length
        const { hasMore, nextCursor } = body.pagination
        yield { page, results, hasMore: hasMore || results.length < body.results.length }
        if (!hasMore) return
        cursor = trail.next(page, results.length, nextCursor)
      }
    },

    async *listEvaluators(promptId, { deadlineAt } = {}) {
      const path = `/prompts/${encodeURIComponent(promptId)}/evaluators`
      const trail = new CursorTrail(`GET ${path}`, maxPages, '')
      let cursor: string | undefined
      for (let page = 1; ; page += 1) {
        const body = await http({
          method: 'GET',
          path,
          query: { limit: MAX_PAGE_SIZE, cursor },
          schema: evaluatorListingSchema,
          deadlineMs:
            deadlineAt === undefined ? undefined : Math.max(1, deadlineAt - monotonicNow()),
          notFound: `Prompt ${promptId} was not found when listing its evaluators.`
        })
        const evaluators: ListedEvaluator[] = []
        for (const item of body.evaluators) {
          const checked = checkShape(listedEvaluatorSchema, item, 'evaluator')
          if (checked.ok) evaluators.push(checked.value)
        }
        const { hasMore, nextCursor } = body.pagination
        yield { page, evaluators, skipped: body.evaluators.length - evaluators.length, hasMore }
        if (!hasMore) return
        cursor = trail.next(page, body.evaluators.length, nextCursor)
      }
    },

    async createEvaluation(promptId, { evaluatorId, datasetId }) {
      return http({
        method: 'POST',
        path: `/prompts/${encodeURIComponent(promptId)}/evaluations`,
        body: { ...(evaluatorId ? { evaluatorId } : {}), ...(datasetId ? { datasetId } : {}) },
        schema: evaluationSchema,
        idempotent: false,
        notFound: promptNotFound(promptId)
      })
    },

    async getEvaluation(promptId, runId, deadlineMs) {
      const path = `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}`
      const evaluation = await http({
        method: 'GET',
        path,
        deadlineMs,
        schema: evaluationSchema,
        notFound: `Evaluation ${runId} of prompt ${promptId} was not found.`
      })
      return theOneAsked(runId, evaluation, `GET ${path}`)
    },

    async listResults(promptId, runId, grade, limit) {
      const body = await http({
        method: 'GET',
        path: `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}/results`,
        query: { grade, expand: 'row', limit: Math.min(limit, MAX_PAGE_SIZE) },
        schema: resultPageSchema,
        notFound: `Results of evaluation ${runId} of prompt ${promptId} were not found.`
      })
      return body.results.slice(0, limit)
    },

    async cancelEvaluation(promptId, runId) {
      const path = `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}/cancel`
      const evaluation = await http({
        method: 'POST',
        path,
        schema: evaluationSchema,
        // stops billing: sent even when the rate limit has held the run back past its budget
        urgent: true,
        notFound: `Evaluation ${runId} of prompt ${promptId} was not found.`
      })
      return theOneAsked(runId, evaluation, `POST ${path}`)
    }
  }
}

/**
 * The guards of a listing that pages by cursor: a page that says hasMore without a cursor, a cursor
 * seen before, empty pages without end and more pages than any real listing has each end it with
 * an ApiError, instead of a loop that never ends.
 */
class CursorTrail {
  private readonly seen = new Set<string>()
  private emptyInARow = 0

  constructor(
    private readonly endpoint: string,
    private readonly maxPages: number,
    /** what to do about a listing that long, for the message */
    private readonly hint: string
  ) {}

  /** The cursor of the page after `page`, which held `items` items and said hasMore. */
  next(page: number, items: number, nextCursor: string | null | undefined): string {
    const { endpoint } = this
    if (!nextCursor)
      throw new ApiError(`${endpoint} said hasMore without a nextCursor on page ${page}`, endpoint)
    if (this.seen.has(nextCursor))
      throw new ApiError(
        `${endpoint} repeated a cursor on page ${page}: the listing would never end`,
        endpoint
      )
    this.emptyInARow = items === 0 ? this.emptyInARow + 1 : 0
    if (this.emptyInARow >= MAX_EMPTY_PAGES_IN_A_ROW)
      throw new ApiError(
        `${endpoint} sent ${this.emptyInARow} empty pages in a row that said hasMore (to page ${page}): the listing would never end`,
        endpoint
      )
    if (page >= this.maxPages)
      throw new ApiError(
        `${endpoint} still said hasMore after ${this.maxPages} pages of ${MAX_PAGE_SIZE}: taken as a listing that never ends.${this.hint ? ` ${this.hint}` : ''}`,
        endpoint
      )
    this.seen.add(nextCursor)
    return nextCursor
  }
}

/**
 * A listing that answers what its filters leave out (another status, evaluator or dataset, a time
 * outside the window) would have it judged or cancelled as if it had been asked for. A time on the
 * window's edge passes: whether the API's bounds are inclusive is not documented.
 */
function withinFilters(evaluation: Evaluation, filters: ListFilters, endpoint: string): void {
  const { status, evaluatorId, datasetId, createdAfter, createdBefore } = filters
  const { submittedAt } = evaluation.timeline
  const outside =
    status !== undefined && evaluation.status !== status
      ? `status ${evaluation.status}, not ${status}`
      : evaluatorId !== undefined && evaluation.evaluatorId !== evaluatorId
        ? `evaluator ${evaluation.evaluatorId}, not ${evaluatorId}`
        : datasetId !== undefined &&
            evaluation.datasetId != null &&
            evaluation.datasetId !== datasetId
          ? `dataset ${evaluation.datasetId}, not ${datasetId}`
          : createdAfter !== undefined && submittedAt < createdAfter
            ? `submitted at ${formatTime(submittedAt)}, before createdAfter ${formatTime(createdAfter)}`
            : createdBefore !== undefined && submittedAt > createdBefore
              ? `submitted at ${formatTime(submittedAt)}, after createdBefore ${formatTime(createdBefore)}`
              : undefined
  if (outside === undefined) return
  throw new ApiError(
    `${endpoint} answered with evaluation ${evaluation.runId} (${outside}), which the filters asked for leave out. Nothing is judged or cancelled on a listing that ignores its filters; check that base-url is Adaline's v2 API.`,
    endpoint
  )
}

/** An answer about another evaluation than the one asked for would be judged as if it were that one. */
function theOneAsked(runId: string, evaluation: Evaluation, endpoint: string): Evaluation {
  if (evaluation.runId !== runId) {
    throw new ApiError(
      `${endpoint} answered with evaluation ${evaluation.runId}, not the one asked for.`,
      endpoint
    )
  }
  return evaluation
}

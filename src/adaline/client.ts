/** The Adaline v2 endpoints the action uses, over the one transport in http.ts. */
import { ApiError, type Http } from './http.js'
import {
  MAX_PAGE_SIZE,
  describeIssue,
  evaluationPageSchema,
  evaluationSchema,
  resultPageSchema,
  type Evaluation,
  type EvaluationStatus,
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
  items: { evaluation: Evaluation; raw: unknown }[]
}

/** A listing longer than this many pages (2 million evaluations) is taken as a looping API. */
export const MAX_PAGES = 10_000

export interface AdalineClient {
  listEvaluations(promptId: string, filters: ListFilters): AsyncGenerator<ListedPage>
  cancelEvaluation(promptId: string, runId: string): Promise<Evaluation>
  /** Starts (and bills) an evaluation; a failure that may have started one is marked ambiguous. */
  createEvaluation(
    promptId: string,
    scope: { evaluatorId?: string; datasetId?: string }
  ): Promise<Evaluation>
  getEvaluation(promptId: string, runId: string): Promise<Evaluation>
  /** The first `limit` results of one grade, with their rows' values. */
  listResults(promptId: string, runId: string, grade: Grade, limit: number): Promise<Result[]>
}

export function createClient(http: Http): AdalineClient {
  return {
    async *listEvaluations(promptId, filters) {
      const path = `/prompts/${encodeURIComponent(promptId)}/evaluations`
      const endpoint = `GET ${path}`
      const seen = new Set<string>()
      let cursor: string | undefined
      for (let page = 1; ; page += 1) {
        const body = await http({
          method: 'GET',
          path,
          query: { ...filters, limit: MAX_PAGE_SIZE, cursor },
          schema: evaluationPageSchema,
          notFound: `Prompt ${promptId} was not found: check the prompt-id input and that the key's workspace owns it.`
        })
        const items = body.evaluations.map((raw, index) => {
          const parsed = evaluationSchema.safeParse(raw)
          if (!parsed.success) {
            throw new ApiError(
              `${endpoint} answered in an unexpected shape: ${describeIssue(parsed.error, `evaluations[${index}]`)}`,
              endpoint
            )
          }
          return { evaluation: parsed.data, raw }
        })
        yield { page, items }
        const { hasMore, nextCursor } = body.pagination
        if (!hasMore) return
        if (!nextCursor)
          throw new ApiError(
            `${endpoint} said hasMore without a nextCursor on page ${page}`,
            endpoint
          )
        if (seen.has(nextCursor))
          throw new ApiError(
            `${endpoint} repeated a cursor on page ${page}: the listing would never end`,
            endpoint
          )
        if (page >= MAX_PAGES)
          throw new ApiError(
            `${endpoint} went on past ${MAX_PAGES} pages: the listing would never end`,
            endpoint
          )
        seen.add(nextCursor)
        cursor = nextCursor
      }
    },

    async createEvaluation(promptId, { evaluatorId, datasetId }) {
      return http({
        method: 'POST',
        path: `/prompts/${encodeURIComponent(promptId)}/evaluations`,
        body: { ...(evaluatorId ? { evaluatorId } : {}), ...(datasetId ? { datasetId } : {}) },
        schema: evaluationSchema,
        idempotent: false,
        notFound: `Prompt ${promptId} was not found: check the prompt-id input and that the key's workspace owns it.`
      })
    },

    async getEvaluation(promptId, runId) {
      return http({
        method: 'GET',
        path: `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}`,
        schema: evaluationSchema,
        notFound: `Evaluation ${runId} of prompt ${promptId} was not found.`
      })
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
      return http({
        method: 'POST',
        path: `/prompts/${encodeURIComponent(promptId)}/evaluations/${encodeURIComponent(runId)}/cancel`,
        schema: evaluationSchema,
        notFound: `Evaluation ${runId} of prompt ${promptId} was not found.`
      })
    }
  }
}

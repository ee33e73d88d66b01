/**
 * The evaluators' titles, so that a report names each evaluation by what it checks rather than by
 * an ID: one listing per prompt of the judged evaluations, read only until every evaluator the
 * report shows is found. Names explain and never decide, so a listing that fails, loops, runs long
 * or hangs is a warning and the report keeps the IDs; a title is cleaned before any report sees it.
 */
import stripAnsi from 'strip-ansi'
import { monotonicNow } from '../adaline/clock.js'
import { ApiError } from '../adaline/http.js'
import { MAX_PAGE_SIZE, TITLE_MAX } from '../adaline/schema.js'
import { formatCount, plural } from '../format.js'
import type { Listed } from '../judge/judged-set.js'
import { mapWithin } from './concurrency.js'
import type { RunContext } from './context.js'

/**
 * Pages of evaluators read per prompt, at most: 2,000 evaluators. A prompt has a handful; a listing
 * longer than this is not worth the requests for names the report can do without.
 */
export const MAX_EVALUATOR_PAGES = 10

/** The most the names stage may take, all its requests and retries together: names never hold a run up. */
export const NAMES_DEADLINE_MS = 30_000

/** The run's names stage: evaluator titles by evaluator ID, for the evaluators in the report. */
export async function namesStage(
  context: RunContext,
  judged: readonly Listed[],
  deadlineMs = NAMES_DEADLINE_MS
): Promise<Map<string, string>> {
  const { client, limit, log } = context
  const wanted = new Map<string, Set<string>>()
  for (const { promptId, evaluation } of judged) {
    const ids = wanted.get(promptId) ?? new Set<string>()
    ids.add(evaluation.evaluatorId)
    wanted.set(promptId, ids)
  }
  const titles = new Map<string, string>()
  if (wanted.size === 0) return titles
  const deadlineAt = monotonicNow() + deadlineMs
  let pages = 0
  let failed = 0
  await mapWithin(limit, [...wanted], async ([promptId, ids]) => {
    // an evaluator listed twice keeps its first title; one of another prompt names nothing here
    const seen = new Set<string>()
    try {
      for await (const page of client.listEvaluators(promptId, { deadlineAt })) {
        pages += 1
        for (const evaluator of page.evaluators) {
          if (evaluator.promptId && evaluator.promptId !== promptId) continue
          if (seen.has(evaluator.id)) continue
          seen.add(evaluator.id)
          const title = cleanTitle(evaluator.title)
          if (ids.has(evaluator.id) && title) titles.set(evaluator.id, title)
        }
        if ([...ids].every(id => seen.has(id))) break
        if (page.hasMore && page.page >= MAX_EVALUATOR_PAGES) {
          log.warning(
            `Stopped listing the evaluators of prompt ${promptId} after ${plural(page.page, 'page')} (${formatCount(MAX_EVALUATOR_PAGES * MAX_PAGE_SIZE)} evaluators); the report names the others by evaluator ID.`
          )
          break
        }
      }
    } catch (error) {
      if (!(error instanceof ApiError)) throw error
      failed += 1
      log.warning(
        `Could not list the evaluators of prompt ${promptId}; the report names its evaluations by evaluator ID: ${error.message}`
      )
    }
  })
  const evaluators = new Set([...wanted.values()].flatMap(ids => [...ids])).size
  log.info(
    `Evaluator names: ${titles.size} of ${plural(evaluators, 'evaluator')} named from ${plural(pages, 'page')} of evaluators (${plural(wanted.size, 'prompt')}${failed > 0 ? `, ${failed} failed` : ''})`
  )
  return titles
}

// C0 and C1 controls, DEL, line and paragraph separators, and the bidi controls, which could make
// a title read otherwise than it is wherever it is shown
// eslint-disable-next-line no-control-regex -- stripping control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g

/**
 * A title as every report may show it: escape sequences (colours, OSC 8 links) removed whole,
 * other control and bidi characters a space, on one line, at most TITLE_MAX characters; undefined
 * when nothing readable is left, so the evaluator keeps its ID. Each report still escapes it for
 * its own format. Pure.
 */
export function cleanTitle(title: string): string | undefined {
  const value = stripAnsi(title.length > 4 * TITLE_MAX ? title.slice(0, 4 * TITLE_MAX) : title)
    .replace(CONTROLS, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  if (value === '') return undefined
  const chars = Array.from(value)
  return chars.length > TITLE_MAX ? `${chars.slice(0, TITLE_MAX - 1).join('')}…` : value
}

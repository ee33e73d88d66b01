/**
 * The benchmark's workloads: the fake Adaline API with a latency per request and one prompt's
 * evaluations, and the action's inputs and event for each scenario.
 */
import type { Evaluation } from '../src/adaline/schema.js'
import { PUSH_TIME } from '../test-support/events.js'
import { FakeAdaline, fakeId, makeEvaluation } from '../test-support/fake-adaline.js'

export const PROMPT = fakeId('prm_bench', 1)
/** when the force-push of the cancel scenarios landed */

/** Completed evaluations with passing runs only, so the action fetches no failing rows. */
export function completedEvaluations(count: number): Evaluation[] {
  return Array.from({ length: count }, (_, i) =>
    makeEvaluation({ n: i + 1, status: 'completed', pass: 10, fail: 0, unknown: 0 })
  )
}

/** Running evaluations submitted in the hour before the push: all superseded by it. */
export function runningBeforePush(count: number): Evaluation[] {
  return Array.from({ length: count }, (_, i) =>
    makeEvaluation({ n: i + 1, status: 'running', submittedAt: PUSH_TIME - 3_600_000 + i })
  )
}

/** The fake API answering every request after `latencyMs`, holding PROMPT's evaluations. */
export async function startApi(latencyMs: number, evaluations: Evaluation[]): Promise<FakeAdaline> {
  const api = await FakeAdaline.start({ latencyMs })
  api.addPrompt(PROMPT, evaluations)
  return api
}

export function actionInputs(
  api: FakeAdaline,
  extra: Record<string, string> = {}
): Record<string, string> {
  return { 'api-key': api.apiKey, 'prompt-id': PROMPT, 'base-url': api.url, ...extra }
}

/** The requests that listed evaluations (as opposed to cancels or single reads). */
export function isListRequest({ method, path }: { method: string; path: string }): boolean {
  return method === 'GET' && path.endsWith('/evaluations')
}

/** The names stage's requests: a prompt's evaluators. */
export function isEvaluatorsRequest({ method, path }: { method: string; path: string }): boolean {
  return method === 'GET' && path.endsWith('/evaluators')
}

export function isCancelRequest({ method, path }: { method: string; path: string }): boolean {
  return method === 'POST' && path.endsWith('/cancel')
}

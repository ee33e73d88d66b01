/**
 * Links into Adaline's app from the `evaluation-url` template: Adaline documents no deep-link
 * format, so a team gives its own, with {promptId}, {runId} and {evaluatorId} placeholders.
 */

/** The placeholders a template may hold, each filled with the evaluation's ID, URL-encoded. */
export const EVALUATION_URL_PLACEHOLDERS = ['promptId', 'runId', 'evaluatorId'] as const

/** A template longer than this is no deep link: refused, so one input cannot flood every report. */
export const TEMPLATE_MAX = 2_000

export interface EvaluationIds {
  promptId: string
  runId: string
  evaluatorId: string
}

/**
 * What is wrong with a template, or undefined when it is an http(s) URL whose only braces are the
 * known placeholders.
 */
export function templateProblem(template: string): string | undefined {
  if (template.length > TEMPLATE_MAX)
    return `is ${template.length} characters long; at most ${TEMPLATE_MAX}`
  const encoded = template.match(/%7B(promptId|runId|evaluatorId)%7D/i)
  if (encoded)
    return `has "${encoded[0]}", a placeholder with its braces percent-encoded: write {${encoded[1]}}`
  const unknown = template
    .replace(/\{(promptId|runId|evaluatorId)\}/g, '')
    .match(/\{[^{}]*\}?|\}/)?.[0]
  if (unknown !== undefined)
    return `has "${unknown.slice(0, 40)}", which is not a placeholder; accepted: ${EVALUATION_URL_PLACEHOLDERS.map(p => `{${p}}`).join(', ')}`
  let url: URL
  try {
    url = new URL(fillTemplate(template, { promptId: 'p', runId: 'r', evaluatorId: 'e' }))
  } catch {
    return 'is not a URL: give an https:// address with {promptId}, {runId} or {evaluatorId} placeholders, or leave it empty for no links'
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `uses ${url.protocol.replace(/:$/, '')}; give an https:// (or http://) address`
  if (url.username || url.password) return 'must not carry credentials'
  // an ID from the API must never choose where a link leads: placeholders go after the host
  const other = new URL(fillTemplate(template, { promptId: 'q', runId: 's', evaluatorId: 'f' }))
  if (other.origin !== url.origin)
    return 'has a placeholder in its scheme, host or port: put {promptId}, {runId} and {evaluatorId} in the path, query or fragment of a fixed https:// address'
  return undefined
}

/** The template with each placeholder replaced by its ID, URL-encoded. */
export function fillTemplate(template: string, ids: EvaluationIds): string {
  return template.replace(/\{(promptId|runId|evaluatorId)\}/g, (_, name: keyof EvaluationIds) =>
    encodeURIComponent(ids[name])
  )
}

/**
 * What a metrics file must be for GitLab's metrics report and Prometheus readers: every line in
 * the OpenMetrics grammar the builder writes, and the samples as GitLab's own line rule keeps them.
 * Used by the builder's tests and the end-to-end tests of the metrics-file input.
 */

// prometheus.io/docs/concepts/data_model (no colons: those are for recording rules)
const NAME = '[a-zA-Z_][a-zA-Z0-9_]*'
const LABEL_NAME = '(?!__)[a-zA-Z_][a-zA-Z0-9_]*'
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"'
const LABEL = `${LABEL_NAME}=${LABEL_VALUE}`
const SAMPLE = new RegExp(`^(${NAME})(?:\\{${LABEL}(?:,${LABEL})*\\})? (\\d+(?:\\.\\d+)?)$`, 'u')
const TYPE = new RegExp(`^# TYPE (${NAME}) gauge$`)
const UNIT = new RegExp(`^# UNIT (${NAME}) ([a-z]+)$`)
const HELP = new RegExp(`^# HELP (${NAME}) [^\\\\#\\n]+$`)

/** Each line that breaks the OpenMetrics grammar this builder writes, with why. */
export function grammarProblems(text: string): string[] {
  const problems: string[] = []
  if (!text.endsWith('\n# EOF\n')) problems.push('does not end with "# EOF" and a newline')
  let family = ''
  const lines = text.slice(0, -1).split('\n')
  lines.forEach((line, i) => {
    const type = TYPE.exec(line)
    const unit = UNIT.exec(line)
    const help = HELP.exec(line)
    const sample = SAMPLE.exec(line)
    if (type) family = type[1] ?? ''
    else if (unit) {
      if (unit[1] !== family || !family.endsWith(`_${unit[2]}`))
        problems.push(`line ${i + 1}: unit not the suffix of its family: ${line}`)
    } else if (help) {
      if (help[1] !== family) problems.push(`line ${i + 1}: HELP for another family: ${line}`)
    } else if (sample) {
      if (sample[1] !== family) problems.push(`line ${i + 1}: sample outside its family: ${line}`)
    } else if (!(line === '# EOF' && i === lines.length - 1)) {
      problems.push(`line ${i + 1}: not OpenMetrics: ${JSON.stringify(line)}`)
    }
  })
  return problems
}

/**
 * The samples as GitLab's metrics report keeps them (ee/lib/gitlab/ci/parsers/metrics/generic.rb:
 * each line cut at its first `#`, split like a shell with Ruby's Shellwords.shellsplit, the first
 * word the key and the second the value). Throws where GitLab would fail the whole report.
 */
export function gitlabReading(text: string): Map<string, string> {
  const metrics = new Map<string, string>()
  for (const line of text.split(/(?<=\n)/)) {
    const [name, ...values] = shellsplit(line.replace(/#[^\n]*/, ''))
    if (name === undefined || values.length === 0) continue
    metrics.set(name, values[0] as string)
  }
  return metrics
}

/** Ruby 3.1's Shellwords.shellsplit, ported (its \s is ASCII whitespace, its /m dot takes LF). */
function shellsplit(line: string): string[] {
  const words: string[] = []
  let field = ''
  const token =
    /[ \t\n\v\f\r]*(?:([^ \t\n\v\f\r\\'"]+)|'([^']*)'|"((?:[^"\\]|\\[^])*)"|(\\[^]?)|([^ \t\n\v\f\r]))([ \t\n\v\f\r]|$)?/y
  let match: RegExpExecArray | null
  while (token.lastIndex < line.length && (match = token.exec(line)) !== null) {
    const [, word, single, double, escape, garbage, separator] = match
    if (garbage !== undefined) throw new Error(`Unmatched quote: ${JSON.stringify(line)}`)
    field +=
      word ??
      single ??
      double?.replace(/\\([$`"\\\n])/g, '$1') ??
      (escape ?? '').replace(/\\([^])/g, '$1')
    if (separator !== undefined) {
      words.push(field)
      field = ''
    }
    if (match[0] === '') break
  }
  return words
}

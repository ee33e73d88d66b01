/**
 * The Markdown summary as a person reads it in a terminal: escapeMarkdown's references undone, and
 * the mermaid pie, which only GitHub draws, drawn as one bar of pass / fail / unknown runs.
 */
export function markdownForTerminal(markdown: string): string {
  return markdown
    .replace(/```mermaid\npie[^\n]*\n((?:\s+"[^"]+" : \d+\n)+)```/g, (_, slices: string) =>
      runBar(
        [...slices.matchAll(/"([^"]+)" : (\d+)/g)].map(([, name, value]) => ({
          name: name!,
          value: Number(value)
        }))
      )
    )
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
}

const BAR_WIDTH = 40
const MARKS = ['█', '▒', '░']

/** `Runs: ████████▒▒░ pass 66 · fail 12 · unknown 2` (█ pass, ▒ fail, ░ unknown). */
function runBar(slices: { name: string; value: number }[]): string {
  const total = slices.reduce((sum, { value }) => sum + value, 0)
  const bar = slices
    .map(({ value }, i) =>
      (MARKS[i] ?? '·').repeat(total > 0 ? Math.round((value / total) * BAR_WIDTH) : 0)
    )
    .join('')
  const legend = slices
    .map(({ name, value }, i) => `${MARKS[i] ?? '·'} ${name.toLowerCase()} ${value}`)
    .join(' · ')
  return `Runs: ${bar}  ${legend}`
}

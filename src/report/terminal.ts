/** The Markdown summary as a person reads it in a terminal: escapeMarkdown's references undone. */
export function markdownForTerminal(markdown: string): string {
  return markdown.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
}

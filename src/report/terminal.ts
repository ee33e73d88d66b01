/** The Markdown summary as a person reads it in a terminal: escapes and entities undone. */
export function markdownForTerminal(markdown: string): string {
  return markdown
    .replace(/\\([\\`*_[\]<>&|!~$])/g, '$1')
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
}

/**
 * What a run must never print: the secrets it was given, and, in the Actions log, API text that
 * the runner would read as a workflow command. Both faces print through this.
 */
export class Secrets {
  private readonly known: string[] = []

  add(secret: string): void {
    if (secret && !this.known.includes(secret)) this.known.push(secret)
  }

  /** The text with every known secret replaced by ***. */
  redact(text: string): string {
    return this.known.reduce((out, secret) => out.split(secret).join('***'), text)
  }
}

/**
 * A message as one line of the Actions log that is shown, never obeyed. The runner reads a line
 * that starts with "::" (after white space) as a command, and "##[" anywhere as an old-style one;
 * a zero-width space between the two characters keeps them readable and inert. API text is the
 * only way such a line can reach the log: the engine's own messages are single lines.
 */
export function inertLogLine(message: string): string {
  return message
    .replace(/\r\n|[\r\n\u2028\u2029]/g, ' ⏎ ')
    .replace(/^(\s*):(?=:)/, '$1:\u200b')
    .replace(/#(?=#\[)/g, '#\u200b')
}

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
 * Text whose lines the runner shows, never obeys. It reads a line that starts with "::" (after
 * white space, as .NET's TrimStart counts it: NEL included) as a command, and "##[" anywhere in a
 * line as an old-style one; a zero-width space between the two characters keeps them readable and
 * inert. For output that is meant to have several lines, such as the command's report.
 */
export function inertLines(text: string): string {
  return text.replace(/^([\s\u0085]*):(?=:)/gm, '$1:\u200b').replace(/#(?=#\[)/g, '#\u200b')
}

/**
 * A message as one line of the Actions log: line breaks folded, so that API text cannot start a
 * line of its own, and inert as above. The engine's own messages are single lines.
 */
export function inertLogLine(message: string): string {
  return inertLines(message.replace(/\r\n|[\r\n\u2028\u2029]/g, ' ⏎ '))
}

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

  /**
   * Whether JSON text may spell a secret: it holds one as written, or an escape (\u005f, \/) that
   * could spell one. Most answers have neither and need no walk through redactValue.
   */
  mightSpell(json: string): boolean {
    return json.includes('\\') || this.known.some(secret => json.includes(secret))
  }

  /**
   * A parsed answer with every string in it (keys included) redacted. Done where answers come in,
   * so no later cut (a summary cell cut to 120 characters) or escape (_ as &#95;) can turn a secret
   * into text that no longer matches it but still gives it away.
   */
  redactValue(value: unknown): unknown {
    if (this.known.length === 0) return value
    if (typeof value === 'string') return this.redact(value)
    if (Array.isArray(value)) return value.map(item => this.redactValue(item))
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [this.redact(key), this.redactValue(item)])
      )
    }
    return value
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

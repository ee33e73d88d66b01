/**
 * What a run must never print: the secrets it was given, in any form that gives one away, and, in
 * the Actions log, API text that the runner would read as a workflow command. Both faces print
 * through this.
 */

/**
 * The shortest run of a secret's characters that gives part of it away. A longer secret is found
 * by any such run, so that a half in one field and a half in another are each found.
 */
export const SECRET_RUN = 8

/** The longest line the log takes: API text (an error message) can be megabytes long. */
export const LOG_LINE_LIMIT = 2_000

/**
 * One window length of the search: the folded windows of every form of every secret that long,
 * and the Q-grams within them. A window holds a Q-gram at each of its first `length - Q + 1`
 * positions, so reading the text's Q-grams that far apart meets every window: most of a text is
 * never looked at twice.
 */
interface Windows {
  length: number
  /** the Q-gram length: GRAM, or less for a secret shorter than SECRET_RUN */
  q: number
  /** hashes of the Q-grams of the windows */
  grams: Set<number>
  /** a byte for each gram hash's low 16 bits: most grams of a text are ruled out by it alone */
  filter: Uint8Array
  /** each window, and whether it tells on its own (see windowsOf) */
  texts: Map<string, boolean>
}

/** A span of the original text, and whether its window tells on its own. */
type Span = [start: number, end: number, telling: boolean]

/** A text to search and, for a decoded one, the span of the original text each character came from. */
interface View {
  text: string
  from?: Int32Array
  to?: Int32Array
}

export class Secrets {
  private readonly known: string[] = []
  private windows: Windows[] | undefined

  add(secret: string): void {
    if (secret && !this.known.includes(secret)) {
      this.known.push(secret)
      this.windows = undefined
    }
  }

  /**
   * The text with every span that gives a secret away replaced by ***: a run of SECRET_RUN of its
   * characters in any case, in base64 (either alphabet, at any alignment) or hex, as written or
   * behind escapes (%41, \u0041, \x41, &#65;, &#x41;, up to three layers). Linear in the text.
   */
  redact(text: string): string {
    const spans = this.find(text)
    return spans.length === 0 ? text : cover(text, spans)
  }

  /** Whether the text gives a secret away, as redact() would find it. */
  holds(text: string): boolean {
    return this.find(text).length > 0
  }

  /**
   * Whether JSON text may spell a secret: it holds one in any form, or a JSON escape (\u005f, \/)
   * that could spell one once parsed. Most answers have neither and need no walk through
   * redactValue.
   */
  mightSpell(json: string): boolean {
    return json.includes('\\') || this.holds(json)
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

  /** The spans of the text that give a secret away, in order, overlapping and touching ones as one. */
  private find(text: string): [number, number][] {
    if (this.known.length === 0 || text.length === 0) return []
    this.windows ??= windowsOf(this.known)
    const spans: Span[] = []
    for (let view: View | undefined = { text }, round = 0; view; round += 1) {
      for (const windows of this.windows) search(view, windows, spans)
      view = round < MAX_UNESCAPES ? unescaped(view) : undefined
    }
    return merged(spans)
  }
}

/**
 * The forms of a secret that the runner's mask (exact matches only) should also hide: its other
 * cases, its base64 at each alignment in both alphabets (the characters that depend on it alone),
 * its hex, and its percent-encodings.
 */
export function encodedForms(secret: string): string[] {
  const forms = [
    secret.toLowerCase(),
    secret.toUpperCase(),
    encodeURIComponent(secret),
    percentEncoded(secret, 'upper'),
    percentEncoded(secret, 'lower'),
    ...(secret.length >= SECRET_RUN
      ? [...base64Forms(secret), hex(secret), hex(secret).toUpperCase()]
      : [])
  ]
  return [...new Set(forms)].filter(form => form !== secret && form.length >= SECRET_RUN)
}

/**
 * A line of the log cut to `limit` characters, with a note of how much was left out. The
 * summary cuts API text likewise.
 */
export function clipLine(text: string, limit = LOG_LINE_LIMIT): string {
  if (text.length <= limit) return text
  let end = limit
  // never half of a surrogate pair
  if (/[\uDC00-\uDFFF]/.test(text[end] ?? '')) end -= 1
  return `${text.slice(0, end)}… (${(text.length - end).toLocaleString('en-US')} more characters not shown)`
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

// ---- the search ------------------------------------------------------------------------------

const BASE = 31
/** The gram length: a window of SECRET_RUN is met by reading every (SECRET_RUN - GRAM + 1)th gram. */
const GRAM = 4
/** Layers of escapes undone: %2541 is %41 once undone, A twice. */
const MAX_UNESCAPES = 3

/** ASCII letters in lower case: a secret echoed in another case still gives it away. */
function fold(code: number): number {
  return code >= 65 && code <= 90 ? code + 32 : code
}

function foldText(text: string): string {
  return text.replace(/[A-Z]+/g, letters => letters.toLowerCase())
}

/** The hash of the folded `q` characters of `text` at `at`. */
function gramAt(text: string, at: number, q: number): number {
  let hash = 0
  for (let i = at; i < at + q; i += 1) hash = (Math.imul(hash, BASE) + fold(text.charCodeAt(i))) | 0
  return hash
}

/** Every form a secret is searched in, with the run of it that gives it away. */
function searchedForms(secret: string): { form: string; run: number }[] {
  if (secret.length < SECRET_RUN) return [{ form: secret, run: secret.length }]
  return [
    { form: secret, run: SECRET_RUN },
    ...base64Forms(secret).map(form => ({ form, run: SECRET_RUN })),
    // two hex digits a character: the same run of the secret
    { form: hex(secret), run: 2 * SECRET_RUN }
  ]
}

function windowsOf(secrets: string[]): Windows[] {
  const byLength = new Map<number, Windows>()
  for (const secret of secrets) {
    for (const { form, run } of searchedForms(secret)) {
      let windows = byLength.get(run)
      if (!windows) {
        const q = Math.min(GRAM, run)
        windows = {
          length: run,
          q,
          grams: new Set(),
          filter: new Uint8Array(1 << 16),
          texts: new Map()
        }
        byLength.set(run, windows)
      }
      const all: string[] = []
      for (let i = 0; i + run <= form.length; i += 1) all.push(foldText(form.slice(i, i + run)))
      // A window of one repeated character (00000000) says little of the secret, and alone would
      // hide every such run in the text (run_00000000000000000001): it counts only next to one
      // that tells, unless the secret has no other.
      const repeated = (window: string) => /^(.)\1*$/s.test(window)
      const anyTelling = all.some(window => !repeated(window))
      for (const window of all) {
        const telling = !anyTelling || !repeated(window)
        windows.texts.set(window, telling || (windows.texts.get(window) ?? false))
        for (let i = 0; i + windows.q <= window.length; i += 1) {
          const gram = gramAt(window, i, windows.q)
          windows.grams.add(gram)
          windows.filter[gram & 0xffff] = 1
        }
      }
    }
  }
  return [...byLength.values()]
}

/** Adds the spans of the original text where the view holds a window. */
function search(view: View, windows: Windows, spans: Span[]): void {
  const { text, from, to } = view
  const { length, q, grams, filter, texts } = windows
  const stride = length - q + 1
  for (let at = 0; at + q <= text.length; at += stride) {
    const gram = gramAt(text, at, q)
    if (filter[gram & 0xffff] === 0 || !grams.has(gram)) continue
    // the windows that would hold this gram
    const last = Math.min(at, text.length - length)
    for (let start = Math.max(0, at - stride + 1); start <= last; start += 1) {
      const telling = texts.get(foldText(text.slice(start, start + length)))
      if (telling === undefined) continue
      spans.push(
        from && to
          ? [from[start]!, to[start + length - 1]!, telling]
          : [start, start + length, telling]
      )
    }
  }
}

/** The escapes that spell a character: URL, JSON and JavaScript, HTML. */
const ESCAPE =
  /%([0-9a-f]{2})|\\u([0-9a-f]{4})|\\x([0-9a-f]{2})|&#x([0-9a-f]{1,6});?|&#(\d{1,7});?|\\(["\\/])/gi

/** The view with one layer of escapes undone; undefined when it has none. */
function unescaped(view: View): View | undefined {
  const { text } = view
  if (!/[%\\&]/.test(text)) return undefined
  // an escape spells at most two UTF-16 units, in at least two characters: never longer
  const from = new Int32Array(text.length)
  const to = new Int32Array(text.length)
  const pieces: string[] = []
  let length = 0
  let last = 0
  const span = (start: number, end: number) => {
    from[length] = view.from ? view.from[start]! : start
    to[length] = view.to ? view.to[end - 1]! : end
    length += 1
  }
  const keep = (start: number, end: number) => {
    pieces.push(text.slice(start, end))
    for (let i = start; i < end; i += 1) span(i, i + 1)
  }
  ESCAPE.lastIndex = 0
  for (let match = ESCAPE.exec(text); match; match = ESCAPE.exec(text)) {
    const [whole, pct, u, x, hexRef, decRef, plain] = match
    const code =
      plain !== undefined
        ? plain.charCodeAt(0)
        : parseInt((pct ?? u ?? x ?? hexRef ?? decRef)!, decRef !== undefined ? 10 : 16)
    if (code > 0x10ffff) continue
    keep(last, match.index)
    const char = String.fromCodePoint(code)
    pieces.push(char)
    last = match.index + whole.length
    for (let i = 0; i < char.length; i += 1) span(match.index, last)
  }
  if (last === 0) return undefined
  keep(last, text.length)
  return { text: pieces.join(''), from, to }
}

/**
 * The spans in order, overlapping and touching ones as one; a group of spans none of which tells
 * on its own is dropped.
 */
function merged(spans: Span[]): [number, number][] {
  spans.sort((a, b) => a[0] - b[0])
  const groups: [number, number][] = []
  let current: Span | undefined
  for (const [start, end, telling] of spans) {
    if (current && start <= current[1]) {
      current[1] = Math.max(current[1], end)
      current[2] ||= telling
      continue
    }
    if (current?.[2]) groups.push([current[0], current[1]])
    current = [start, end, telling]
  }
  if (current?.[2]) groups.push([current[0], current[1]])
  return groups
}

/** The text with each span, in order and apart, replaced by ***. */
function cover(text: string, spans: [number, number][]): string {
  let out = ''
  let done = 0
  for (const [start, end] of spans) {
    out += `${text.slice(done, start)}***`
    done = end
  }
  return out + text.slice(done)
}

// ---- the forms -------------------------------------------------------------------------------

/**
 * The secret's base64 inside a longer blob, which may put its first byte at any of three
 * alignments: for each, in both alphabets, the characters that depend on the secret's bytes alone.
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  const forms: string[] = []
  for (const align of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(align), bytes])
    // the leading characters hold bits of the bytes before; the last one, of the byte after
    const head = [0, 2, 3][align]!
    const tail = padded.length % 3 === 0 ? 0 : 1
    for (const alphabet of ['base64', 'base64url'] as const) {
      const text = padded.toString(alphabet).replace(/=+$/, '')
      forms.push(text.slice(head, text.length - tail))
    }
  }
  return forms
}

function hex(secret: string): string {
  return Buffer.from(secret, 'utf8').toString('hex')
}

function percentEncoded(secret: string, letters: 'upper' | 'lower'): string {
  const text = [...Buffer.from(secret, 'utf8')]
    .map(byte => `%${byte.toString(16).padStart(2, '0')}`)
    .join('')
  return letters === 'upper' ? text.toUpperCase() : text
}

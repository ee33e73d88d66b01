/**
 * A secret in the forms a careless or hostile API might echo it, and an independent check of
 * whether a text gives any part of it away: by decoding the text (base64 runs at every offset,
 * percent, hex, case), not by the encoded forms src/secrets/redact.ts searches for. Used by the redaction
 * tests and the end-to-end hostile-answer tests.
 */

/** The shortest run of a secret that counts as giving part of it away. */
export const RUN = 8

/** Bytes around the secret, so that its base64 starts at the alignment `prefix.length % 3`. */
export function base64Blob(
  secret: string,
  prefix: Buffer,
  suffix: Buffer,
  alphabet: 'base64' | 'base64url'
): string {
  return Buffer.concat([prefix, Buffer.from(secret), suffix]).toString(alphabet)
}

/** Every byte percent-encoded. */
export function percentAll(secret: string, letters: 'upper' | 'lower'): string {
  const text = [...Buffer.from(secret)].map(b => `%${b.toString(16).padStart(2, '0')}`).join('')
  return letters === 'upper' ? text.toUpperCase() : text
}

/** The transformed echoes of the issue, by name: each gives the secret away in full. */
export function transformedForms(secret: string): Record<string, string> {
  const half = Math.floor(secret.length / 2)
  return {
    'lower case': secret.toLowerCase(),
    'upper case': secret.toUpperCase(),
    'base64 in a blob, aligned': base64Blob(
      secret,
      Buffer.from('{"k":"'),
      Buffer.from('"}'),
      'base64'
    ),
    'base64 in a blob, 1 byte off': base64Blob(
      secret,
      Buffer.from('k='),
      Buffer.from(';'),
      'base64'
    ),
    'base64url in a blob, 2 bytes off': base64Blob(
      secret,
      Buffer.from('\u00ff\u00fek:'),
      Buffer.from('\u00fb'),
      'base64url'
    ),
    'percent-encoded, upper-case hex': percentAll(secret, 'upper'),
    'percent-encoded, lower-case hex': percentAll(secret, 'lower'),
    'percent-encoded twice': percentAll(secret, 'upper').replace(/%/g, '%25'),
    hex: Buffer.from(secret).toString('hex'),
    'split in two': `${secret.slice(0, half)} | ${secret.slice(half)}`,
    'in a redirect host': `https://${secret.toLowerCase()}.evil.example/next`
  }
}

/** Whether `text` holds RUN characters of `secret` in a row, in any case, after any decoding. */
export function givesAway(text: string, secret: string): boolean {
  const runs = new Set<string>()
  const folded = secret.toLowerCase()
  for (let i = 0; i + RUN <= folded.length; i += 1) runs.add(folded.slice(i, i + RUN))
  if (secret.length < RUN) runs.add(folded)
  const holds = (candidate: string) => {
    const lower = candidate.toLowerCase()
    for (const run of runs) if (lower.includes(run)) return true
    return false
  }
  return decodings(text).some(holds)
}

/**
 * The text, with its JSON string escapes undone, percent-decoded up to three times, and each of
 * those with base64 and hex runs decoded.
 */
function decodings(text: string): string[] {
  const json = text
    .replace(/\\u([0-9a-f]{4})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\(["\\/])/g, '$1')
  const layers = json === text ? [text] : [text, json]
  for (let i = 0; i < 3; i += 1) {
    const last = layers[layers.length - 1]!
    const next = last.replace(/%([0-9a-f]{2})/gi, (_, h: string) =>
      String.fromCharCode(parseInt(h, 16))
    )
    if (next === last) break
    layers.push(next)
  }
  const out = [...layers]
  for (const layer of layers) {
    for (const run of layer.match(/[A-Za-z0-9+/_-]{8,}/g) ?? []) {
      for (let offset = 0; offset < 4; offset += 1) {
        out.push(Buffer.from(run.slice(offset), 'base64').toString('latin1'))
        out.push(Buffer.from(run.slice(offset), 'base64url').toString('latin1'))
      }
    }
    for (const run of layer.match(/[0-9a-f]{16,}/gi) ?? []) {
      for (const offset of [0, 1])
        out.push(Buffer.from(run.slice(offset), 'hex').toString('latin1'))
    }
  }
  return out
}

/**
 * Reads an answer's body within a cap, counted on the wire and again after decoding (gzip,
 * deflate, br), so that no answer (a compression bomb, a body without end) can exhaust the
 * runner's memory. node-fetch's `size` option counts decoded bytes only, and its own decoding
 * cannot be watched on the wire, so the transport asks for the raw body and decodes it here with
 * node:zlib.
 */
import { Transform, pipeline, type Readable } from 'node:stream'
import zlib from 'node:zlib'

/** 16 MiB: a page of 200 evaluations is well under 1 MiB, so no real answer comes near it. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024

/** The content codings read, as `accept-encoding` offers them. */
export const ACCEPTED_ENCODINGS = 'gzip, deflate, br'

/** An answer whose body passed the cap: it will not pass on another try. */
export class BodyTooLarge extends Error {
  constructor(
    /** what passed the cap, e.g. "its Content-Length (20 MiB)" */
    readonly what: string
  ) {
    super(`${what} is over the ${formatBytes(MAX_BODY_BYTES)} an answer may have`)
    this.name = 'BodyTooLarge'
  }
}

/** An answer whose body cannot be read as sent: an unknown coding, or one that does not decode. */
export class BodyUndecodable extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BodyUndecodable'
  }
}

/** The body stopped before its end: the connection was cut, reset or timed out mid-body. */
export class BodyCut extends Error {
  constructor(
    /** what the stream failed with: a premature close, a reset, an abort at the timeout */
    readonly error: unknown
  ) {
    super(`its body was cut off (${(error as { code?: string })?.code ?? 'the stream failed'})`)
    this.name = 'BodyCut'
  }
}

/** What the transport needs of an answer: its headers and its raw (not decoded) body. */
export interface RawAnswer {
  headers: { get(name: string): string | null }
  body: Readable | null
}

/**
 * The decoded body, at most `maxBytes` on the wire and after decoding. A Content-Length over the
 * cap is refused before a byte is read; a body that passes it is cut off there.
 */
export async function readBody(answer: RawAnswer, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const { body } = answer
  if (!body) return Buffer.alloc(0)
  const declared = Number(answer.headers.get('content-length') ?? '')
  if (declared > maxBytes) {
    body.destroy()
    throw new BodyTooLarge(`its Content-Length (${formatBytes(declared)})`)
  }
  let decoding: Decoding | undefined
  try {
    decoding = decoderFor(answer.headers.get('content-encoding'))
  } catch (error) {
    body.destroy()
    throw error
  }
  let wireBytes = 0
  const wire = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      wireBytes += chunk.length
      if (wireBytes > maxBytes) done(new BodyTooLarge('its body on the wire'))
      else done(null, chunk)
    }
  })
  // pipeline destroys every stage when one fails or the reader stops, which closes the connection
  const decoded: Readable = decoding
    ? pipeline(body, wire, decoding.decoder, () => undefined)
    : pipeline(body, wire, () => undefined)
  const chunks: Buffer[] = []
  let size = 0
  try {
    for await (const chunk of decoded as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size > maxBytes)
        throw new BodyTooLarge(`its body decoded (${decoding?.coding ?? 'not encoded'})`)
      chunks.push(chunk)
    }
  } catch (error) {
    decoded.destroy()
    body.destroy()
    if (error instanceof BodyTooLarge) throw error
    const code = (error as { code?: string })?.code ?? ''
    // zlib's own errors: the bytes arrived but are not what their coding says
    // (brotli's are ERR__ERROR_FORMAT_… and the like: a corrupt body is no cut one, and will not pass)
    if (code.startsWith('Z_') || code.startsWith('ERR__ERROR_') || code.startsWith('ERR_BROTLI'))
      throw new BodyUndecodable(
        `its body does not decode as ${decoding?.coding} (${(error as Error).message})`
      )
    throw new BodyCut(error)
  }
  return Buffer.concat(chunks, size)
}

interface Decoding {
  coding: 'gzip' | 'deflate' | 'br'
  decoder: zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress
}

/**
 * A decoder for the answer's content-encoding, or none for an unencoded body. One coding at most:
 * layered codings are no real API's answer, and each layer would multiply a bomb. The header is
 * never quoted: it came from the server, and could hold anything, the key included.
 */
function decoderFor(header: string | null): Decoding | undefined {
  const codings = (header ?? '')
    .split(',')
    .map(coding => coding.trim().toLowerCase())
    .filter(coding => coding !== '' && coding !== 'identity')
  if (codings.length === 0) return undefined
  const [coding] = codings
  if (codings.length === 1) {
    if (coding === 'gzip' || coding === 'x-gzip')
      return { coding: 'gzip', decoder: zlib.createGunzip() }
    // HTTP's deflate is the zlib format (RFC 9110 §8.4.1.2)
    if (coding === 'deflate' || coding === 'x-deflate')
      return { coding: 'deflate', decoder: zlib.createInflate() }
    if (coding === 'br') return { coding: 'br', decoder: zlib.createBrotliDecompress() }
  }
  throw new BodyUndecodable(
    `its body has a content-encoding the action does not read (it asks for ${ACCEPTED_ENCODINGS} only)`
  )
}

/** 16 MiB, 20.5 MiB, 900 bytes. */
export function formatBytes(bytes: number): string {
  const mib = bytes / (1024 * 1024)
  if (mib >= 1) return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`
  return `${bytes} bytes`
}

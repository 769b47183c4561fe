import { createHash, type Hash } from 'node:crypto'
import { Transform, type TransformCallback } from 'node:stream'
import { S3Error } from './errors.js'
import { EMPTY_SHA256, chunkStringToSign, hmacHex, sha256Hex, signaturesEqual, trailerStringToSign } from './sigv4.js'

export interface ChunkedOptions {
  /** STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: kSigning and the seed the chunk signatures chain from. */
  signed?: { key: Buffer, amzDate: string, scope: string, seed: string }
  /** The *-TRAILER modes. */
  trailer: boolean
  /** Lowercase name from x-amz-trailer, e.g. 'x-amz-checksum-crc32'. */
  declaredTrailer?: string
  /** x-amz-decoded-content-length when sent. */
  decodedLength?: number
}

// DoS limits (as s3s): a chunk-size line, and the whole trailer block.
const MAX_LINE = 1024
const MAX_TRAILERS = 16 * 1024
const TRAILER_SIGNATURE = 'x-amz-trailer-signature'

// Error codes, as AWS answers them:
//   IncompleteBody         the body ends early, or decodes to other than x-amz-decoded-content-length
//   InvalidRequest         malformed framing (size line, missing CRLF after data, bytes after the end), limits exceeded
//   SignatureDoesNotMatch  a chunk or trailer signature is missing or wrong
//   MalformedTrailerError  an unparsable trailer line, trailers where none were announced, declared trailer absent
const incomplete = (message: string): S3Error => new S3Error('IncompleteBody', message)
const malformed = (message: string): S3Error => new S3Error('InvalidRequest', message)
const badTrailer = (): S3Error => new S3Error('MalformedTrailerError', 'The request contained trailing data that was not well-formed or did not conform to our published schema.')
const badSignature = (message: string): S3Error => new S3Error('SignatureDoesNotMatch', message)

type State = 'size' | 'data' | 'crlf' | 'trailer' | 'done'

/**
 * Decodes an aws-chunked body to its payload. Payload bytes are pushed as slices of the input
 * (no copies) as they arrive, before their chunk's signature can be checked: the consumer must not
 * commit anything until the stream ends without error. Trailers fill `.trailers` before 'end'.
 */
class ChunkDecoder extends Transform {
  /** Trailers by lowercase name, trimmed values (x-amz-trailer-signature excluded). */
  readonly trailers = new Map<string, string>()
  private readonly options: ChunkedOptions
  private state: State = 'size'
  private line: Buffer[] = []
  private lineLength = 0
  private trailerBytes = 0
  private remaining = 0
  private crlfSeen = 0
  private decoded = 0
  private previous: string
  private chunkSignature = ''
  private hash: Hash | undefined
  private trailerSignature: string | undefined

  constructor (options: ChunkedOptions) {
    super()
    this.options = options
    this.previous = options.signed?.seed ?? ''
  }

  override _transform (input: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      let pos = 0
      while (pos < input.length) pos = this.step(input, pos)
      callback()
    } catch (err) {
      callback(err as Error)
    }
  }

  override _flush (callback: TransformCallback): void {
    try {
      // Lenient: the last trailer line may lack its newline, and the final blank line may be missing.
      if (this.state === 'trailer' && this.lineLength > 0) this.onTrailerLine(this.takeLine())
      if (this.state === 'trailer') this.finish()
      if (this.state !== 'done') throw incomplete('The request body terminated unexpectedly')
      callback()
    } catch (err) {
      callback(err as Error)
    }
  }

  /** Consumes input from `pos` in the current state; returns the new position. */
  private step (input: Buffer, pos: number): number {
    switch (this.state) {
      case 'size': return this.readLine(input, pos, line => this.onSizeLine(line))
      case 'data': return this.readData(input, pos)
      case 'crlf': return this.readCrlf(input, pos)
      case 'trailer': return this.readLine(input, pos, line => this.onTrailerLine(line))
      case 'done': throw malformed('Unexpected data after the end of the aws-chunked body')
    }
  }

  /** Gathers a line across inputs: line fragments are all that is ever buffered, within the limits. */
  private readLine (input: Buffer, pos: number, onLine: (line: string) => void): number {
    const newline = input.indexOf(0x0a, pos)
    const end = newline === -1 ? input.length : newline
    this.line.push(input.subarray(pos, end))
    this.lineLength += end - pos
    if (this.state === 'trailer') {
      this.trailerBytes += end - pos + (newline === -1 ? 0 : 1)
      if (this.trailerBytes > MAX_TRAILERS) throw malformed('The trailers exceed 16 KiB')
    } else if (this.lineLength > MAX_LINE) {
      throw malformed('A chunk header exceeds 1 KiB')
    }
    if (newline === -1) return input.length
    onLine(this.takeLine())
    return newline + 1
  }

  private takeLine (): string {
    const line = Buffer.concat(this.line, this.lineLength).toString('latin1')
    this.line = []
    this.lineLength = 0
    return line.endsWith('\r') ? line.slice(0, -1) : line
  }

  /** `<hex-size>[;chunk-signature=<sig>][;other extensions]` */
  private onSizeLine (line: string): void {
    const [sizeText = '', ...extensions] = line.split(';')
    const size = sizeText.trim()
    if (!/^[0-9a-fA-F]{1,12}$/.test(size)) throw malformed('Invalid aws-chunked chunk size')
    if (this.options.signed !== undefined) {
      const signature = extensions.map(e => /^\s*chunk-signature=([0-9a-fA-F]{64})\s*$/.exec(e)?.[1]).find(s => s !== undefined)
      if (signature === undefined) throw badSignature('A chunk signature is missing or malformed')
      this.chunkSignature = signature.toLowerCase()
      this.hash = createHash('sha256')
    }
    this.remaining = parseInt(size, 16)
    if (this.remaining > 0) {
      this.state = 'data'
      return
    }
    this.verifyChunk(EMPTY_SHA256)
    if (this.options.decodedLength !== undefined && this.decoded !== this.options.decodedLength) {
      throw incomplete('The decoded body length does not match x-amz-decoded-content-length')
    }
    this.state = 'trailer'
  }

  private readData (input: Buffer, pos: number): number {
    const n = Math.min(this.remaining, input.length - pos)
    const slice = input.subarray(pos, pos + n)
    this.decoded += n
    if (this.options.decodedLength !== undefined && this.decoded > this.options.decodedLength) {
      throw incomplete('The decoded body is longer than x-amz-decoded-content-length')
    }
    this.hash?.update(slice)
    this.push(slice)
    this.remaining -= n
    if (this.remaining === 0) {
      if (this.hash !== undefined) this.verifyChunk(this.hash.digest('hex'))
      this.state = 'crlf'
      this.crlfSeen = 0
    }
    return pos + n
  }

  private readCrlf (input: Buffer, pos: number): number {
    if (input[pos] !== (this.crlfSeen === 0 ? 0x0d : 0x0a)) throw malformed('Chunk data is not followed by CRLF')
    if (++this.crlfSeen === 2) this.state = 'size'
    return pos + 1
  }

  /** Checks the current chunk's signature against the chain (signed modes only). */
  private verifyChunk (dataHash: string): void {
    const signed = this.options.signed
    if (signed === undefined) return
    const expected = hmacHex(signed.key, chunkStringToSign(signed.amzDate, signed.scope, this.previous, dataHash))
    if (!signaturesEqual(expected, this.chunkSignature)) throw badSignature('A chunk signature does not match')
    this.previous = this.chunkSignature
  }

  private onTrailerLine (line: string): void {
    if (line.trim() === '') {
      this.finish()
      return
    }
    const colon = line.indexOf(':')
    if (!this.options.trailer || colon <= 0) throw badTrailer()
    const name = line.slice(0, colon).trim().toLowerCase()
    const value = line.slice(colon + 1).trim()
    if (name === TRAILER_SIGNATURE) this.trailerSignature = value.toLowerCase()
    else if (this.options.declaredTrailer !== undefined && name !== this.options.declaredTrailer) throw badTrailer()
    else this.trailers.set(name, value)
  }

  /** End of the trailer block: the declared trailer must be there, and in signed mode its signature right. */
  private finish (): void {
    const declared = this.options.declaredTrailer
    if (declared !== undefined && !this.trailers.has(declared)) throw badTrailer()
    const signed = this.options.signed
    if (signed !== undefined && this.options.trailer) {
      if (this.trailerSignature === undefined) throw badSignature('The trailer signature is missing')
      const canonical = [...this.trailers.keys()].sort().map(name => `${name}:${this.trailers.get(name)!}\n`).join('')
      const expected = hmacHex(signed.key, trailerStringToSign(signed.amzDate, signed.scope, this.previous, sha256Hex(canonical)))
      if (!signaturesEqual(expected, this.trailerSignature)) throw badSignature('The trailer signature does not match')
    }
    this.state = 'done'
  }
}

/** An aws-chunked decoder (§3.1–3.2 of the protocol notes) whose output is the payload alone. */
export function createChunkDecoder (options: ChunkedOptions): Transform & { trailers: Map<string, string> } {
  return new ChunkDecoder(options)
}

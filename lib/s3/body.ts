import { createHash } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { Transform, type Readable, type TransformCallback } from 'node:stream'
import type { ChecksumAlgorithm, Checksums } from '../index.js'
import { createChunkDecoder } from './chunked.js'
import type { Call } from './call.js'
import { S3Error } from './errors.js'
import { checksumAlgorithmOf } from './headers.js'
import { verifyIntegrity } from './integrity.js'
import { header } from './request.js'
import type { V4Auth } from './sigv4.js'

/** A request body decoded to the object's bytes, with what it declares about them. */
export interface Payload {
  body: Readable
  /** Decoded length, when the request states it. */
  length?: number
  /** The checksum named by `x-amz-trailer`, and the trailer's value once the body has ended. */
  trailer?: { algorithm: ChecksumAlgorithm, checksums: () => Checksums | undefined }
}

const HEX_SHA256 = /^[0-9a-f]{64}$/

/**
 * Decode a request body as its `x-amz-content-sha256` says: a hex SHA-256 is checked while the
 * bytes stream (XAmzContentSHA256Mismatch before anything is committed), UNSIGNED-PAYLOAD passes
 * through, and STREAMING-* bodies are unframed from aws-chunked, their chunk signatures and
 * trailer checked on the way.
 */
export function payloadOf (req: IncomingMessage, auth: V4Auth | undefined): Payload {
  const mode = header(req.headers, 'x-amz-content-sha256') ?? auth?.payloadHash
  const contentLength = lengthOf(header(req.headers, 'content-length'), 'Content-Length')
  if (mode === undefined || !mode.startsWith('STREAMING-')) {
    if (contentLength === undefined && header(req.headers, 'transfer-encoding') === undefined) {
      throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.')
    }
    const body = mode !== undefined && HEX_SHA256.test(mode) ? follow(req, sha256Check(mode)) : req
    return contentLength === undefined ? { body } : { body, length: contentLength }
  }
  return chunkedPayload(req, mode, auth)
}

function chunkedPayload (req: IncomingMessage, mode: string, auth: V4Auth | undefined): Payload {
  const signed = mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
  const trailer = mode.endsWith('-TRAILER')
  if (!signed && mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') {
    throw new S3Error('NotImplemented', `The payload signing mode ${mode} is not implemented.`)
  }
  if (signed && auth === undefined) throw new S3Error('InvalidRequest', 'Signed streaming payloads need a SigV4 Authorization header.')
  const decodedLength = lengthOf(header(req.headers, 'x-amz-decoded-content-length'), 'x-amz-decoded-content-length')
  const declared = header(req.headers, 'x-amz-trailer')?.trim().toLowerCase()
  let algorithm: ChecksumAlgorithm | undefined
  if (declared !== undefined && declared !== '') {
    if (!declared.startsWith('x-amz-checksum-')) throw new S3Error('InvalidRequest', `The trailer ${declared} is not supported.`)
    algorithm = checksumAlgorithmOf(declared.slice('x-amz-checksum-'.length))
  }
  const decoder = createChunkDecoder({
    trailer,
    ...(signed && auth !== undefined ? { signed: { key: auth.key, amzDate: auth.amzDate, scope: auth.scope, seed: auth.signature } } : {}),
    ...(declared === undefined || declared === '' ? {} : { declaredTrailer: declared }),
    ...(decodedLength === undefined ? {} : { decodedLength })
  })
  const body = follow(req, decoder)
  const payload: Payload = { body }
  if (decodedLength !== undefined) payload.length = decodedLength
  if (algorithm !== undefined && declared !== undefined) {
    const name = declared
    const alg = algorithm
    payload.trailer = {
      algorithm: alg,
      checksums: () => {
        const value = decoder.trailers.get(name)
        return value === undefined ? undefined : { [alg]: value }
      }
    }
  }
  return payload
}

/** Pipe the request into `stage`, which fails if the request does (a client gone mid-body). */
function follow<T extends Transform> (req: IncomingMessage, stage: T): T {
  // The consumer attaches only after an await, or never when the request is refused first: a
  // failure before then must not be an unhandled 'error' (a crash). It stays on the stream
  // (`errored`), and reading it later still throws it.
  stage.on('error', () => {})
  req.on('error', err => stage.destroy(err))
  req.on('close', () => {
    if (!req.complete) stage.destroy(new S3Error('IncompleteBody', 'The request body ended before the length it declared.'))
  })
  return req.pipe(stage)
}

function lengthOf (value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^\d{1,16}$/.test(value)) throw new S3Error('InvalidArgument', `${name} is not a valid length.`, { ArgumentName: name, ArgumentValue: value })
  return Number(value)
}

/** Pass bytes through, and fail before the end if they do not hash to `expected`. */
function sha256Check (expected: string): Transform {
  const hash = createHash('sha256')
  return new Transform({
    transform (chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      hash.update(chunk)
      callback(null, chunk)
    },
    flush (callback: TransformCallback) {
      const actual = hash.digest('hex')
      if (actual === expected) callback()
      else {
        callback(new S3Error('XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.', {
          ClientComputedContentSHA256: expected, S3ComputedContentSHA256: actual
        }))
      }
    }
  })
}

/**
 * A small request body (an XML or JSON document) as text: read whole up to `limit` bytes and
 * checked against its digests, one of which S3 requires of some requests (`required`).
 */
export async function smallBody (call: Pick<Call, 'req' | 'identity'>, limit: number, required: boolean): Promise<string> {
  const payload = payloadOf(call.req, call.identity?.v4)
  const bytes = await readSmall(payload.body, limit)
  verifyIntegrity(call.req.headers, bytes, payload.trailer?.checksums(), required)
  return bytes.toString('utf8')
}

/** Read a small body whole, refusing more than `limit` bytes. */
export async function readSmall (body: Readable, limit: number): Promise<Buffer> {
  const pieces: Buffer[] = []
  let size = 0
  // Past the limit reading just stops, the body left as it is: destroying it, when it is the
  // request itself, would close the connection before the error could be sent. The error goes out
  // with `connection: close`, which ends the rest.
  for await (const piece of body.iterator({ destroyOnReturn: false })) {
    const buf = piece as Buffer
    size += buf.length
    if (size > limit) throw new S3Error('MaxMessageLengthExceeded', 'Your request was too big.')
    pieces.push(buf)
  }
  return Buffer.concat(pieces)
}

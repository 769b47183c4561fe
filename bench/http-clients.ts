/**
 * The two S3 clients of the HTTP scenarios, behind one small interface, each pointed at one server:
 *
 * - the AWS SDK (`@aws-sdk/client-s3`, path style), what applications use; it spends 1.5-2.5 ms of
 *   CPU of its own per request, so on 2 cores it bounds what it measures;
 * - a lean client: undici's connection pool with every request signed (SigV4, unsigned payload) by
 *   the SDK's own signer, `@smithy/signature-v4`, so that the server is what is measured.
 */
import { type Hash, type Hmac, createHash, createHmac } from 'node:crypto'
import type { Readable } from 'node:stream'
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { SignatureV4 } from '@smithy/signature-v4'
import type { SourceData } from '@smithy/types'
import { Pool } from 'undici'
import type { Server } from './http-server.js'
import { BUCKET, drain } from './stores.js'

// The SDK's notice that its 2027 releases will need Node 22 would land in the middle of the figures.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

/** Region both servers are signed for: spacebox's default, and one s3rver takes. */
const REGION = 'us-east-1'

export interface Client {
  /** PUT an object; a stream body must hold exactly `length` bytes. */
  put: (key: string, body: Buffer | Readable, length: number) => Promise<void>
  /** GET an object, its body read to the end; resolves to its length. */
  get: (key: string) => Promise<number>
  /** The first ListObjectsV2 page of up to `maxKeys`; resolves to the number of keys on it. */
  list: (maxKeys: number) => Promise<number>
  close: () => Promise<void>
}

/**
 * How the SDK is configured: its defaults (a CRC32 checksum on every put, sent as an aws-chunked
 * trailer, and checked on gets), or checksums only where an operation requires them, which is
 * what s3rver can take.
 */
export type SdkChecksums = 'defaults' | 'when required'

export function sdkClient (server: Server, checksums: SdkChecksums): Client {
  const s3 = new S3Client({
    endpoint: server.url,
    region: REGION,
    forcePathStyle: true,
    credentials: server.credentials,
    ...(checksums === 'when required' ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {})
  })
  return {
    put: async (key, body, length) => {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ContentLength: length }))
    },
    get: async key => {
      const { Body } = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
      return await drain(Body as Readable)
    },
    list: async maxKeys => (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: maxKeys }))).Contents?.length ?? 0,
    close: async () => { s3.destroy() }
  }
}

/** node:crypto's SHA-256 and HMAC-SHA-256 in the shape the signer asks for. */
class Sha256 {
  readonly #hash: Hash | Hmac
  constructor (secret?: SourceData) {
    this.#hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret))
  }

  update (data: SourceData): void { this.#hash.update(bytes(data)) }
  async digest (): Promise<Uint8Array> { return this.#hash.digest() }
}

function bytes (data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data)
}

/**
 * Lean: one undici pool of up to `connections` keep-alive connections to the server. The keys
 * and query values of the scenarios are plain ASCII, so paths go out as they are signed.
 */
export function leanClient (server: Server, connections: number): Client {
  const url = new URL(server.url)
  const pool = new Pool(url.origin, { connections })
  const signer = new SignatureV4({ credentials: server.credentials, region: REGION, service: 's3', sha256: Sha256, uriEscapePath: false })

  /** Sign and send; resolves to the response's body once its status is known to be a success. */
  const send = async (method: 'GET' | 'PUT', path: string, query: Record<string, string>, body?: Buffer | Readable, length?: number) => {
    const signed = await signer.sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: Number(url.port),
      path,
      query,
      // The body is not hashed: UNSIGNED-PAYLOAD, as over TLS, costs neither side a SHA-256 pass.
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }
    })
    const search = new URLSearchParams(query).toString()
    const headers = length === undefined ? signed.headers : { ...signed.headers, 'content-length': String(length) }
    const response = await pool.request({ method, path: search === '' ? path : `${path}?${search}`, headers, body: body ?? null })
    if (response.statusCode >= 300) throw new Error(`${method} ${path}: ${response.statusCode} ${await response.body.text()}`)
    return response.body
  }

  return {
    put: async (key, body, length) => { await (await send('PUT', `/${BUCKET}/${key}`, {}, body, length)).dump() },
    get: async key => {
      let length = 0
      for await (const chunk of await send('GET', `/${BUCKET}/${key}`, {})) length += (chunk as Buffer).length
      return length
    },
    list: async maxKeys => {
      const xml = await (await send('GET', `/${BUCKET}`, { 'list-type': '2', 'max-keys': String(maxKeys) })).text()
      let keys = 0
      for (let at = xml.indexOf('<Key>'); at >= 0; at = xml.indexOf('<Key>', at + 5)) keys++
      return keys
    },
    close: async () => { await pool.close() }
  }
}

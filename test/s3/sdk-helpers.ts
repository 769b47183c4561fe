import { createHash } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import { crc32 } from 'node:zlib'
import type { Test } from 'tap'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Served } from './helpers.js'

// References written from the algorithms' definitions (bytewise tables), independent of the
// engine's code: a checksum the SDK and the server agree on must also be the one defined.
const CRC32C_TABLE = Array.from({ length: 256 }, (_, i) => {
  let c = i
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
  return c >>> 0
})

function crc32c (data: Uint8Array): number {
  let crc = 0xffffffff
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

// CRC64NVME, reflected polynomial 0x9A6C9329AC4BC9B5, as high and low 32-bit halves.
const CRC64_TABLE = Array.from({ length: 256 }, (_, i) => {
  let hi = 0
  let lo = i
  for (let k = 0; k < 8; k++) {
    const carry = lo & 1
    lo = ((lo >>> 1) | (hi << 31)) >>> 0
    hi >>>= 1
    if (carry !== 0) { hi = (hi ^ 0x9a6c9329) >>> 0; lo = (lo ^ 0xac4bc9b5) >>> 0 }
  }
  return [hi, lo] as const
})

function crc64nvme (data: Uint8Array): Buffer {
  let hi = 0xffffffff
  let lo = 0xffffffff
  for (const byte of data) {
    const [thi, tlo] = CRC64_TABLE[(lo ^ byte) & 0xff]!
    lo = (((lo >>> 8) | (hi << 24)) ^ tlo) >>> 0
    hi = ((hi >>> 8) ^ thi) >>> 0
  }
  const out = Buffer.alloc(8)
  out.writeUInt32BE((hi ^ 0xffffffff) >>> 0, 0)
  out.writeUInt32BE((lo ^ 0xffffffff) >>> 0, 4)
  return out
}

export type Algorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256'

/** base64 of the big-endian digest of `data`, as S3 writes x-amz-checksum-*. */
export function checksum (algorithm: Algorithm, data: Uint8Array): string {
  const out = Buffer.alloc(4)
  switch (algorithm) {
    case 'CRC32':
      out.writeUInt32BE(crc32(data))
      return out.toString('base64')
    case 'CRC32C':
      out.writeUInt32BE(crc32c(data))
      return out.toString('base64')
    case 'CRC64NVME':
      return crc64nvme(data).toString('base64')
    case 'SHA1':
      return createHash('sha1').update(data).digest('base64')
    case 'SHA256':
      return createHash('sha256').update(data).digest('base64')
  }
}

export function md5Hex (data: Uint8Array): string {
  return createHash('md5').update(data).digest('hex')
}

export function md5Base64 (data: Uint8Array): string {
  return createHash('md5').update(data).digest('base64')
}

/** Deterministic pseudo-random bytes (fast, and different in every 4-byte word). */
export function pattern (size: number, seed = 1): Buffer {
  const buf = Buffer.alloc(size)
  let x = seed >>> 0 || 1
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    buf.writeUInt32LE(x, i)
  }
  return buf
}

interface SdkError { name?: string, message?: string, Code?: string, $metadata?: { httpStatusCode?: number } }

/**
 * The SDK rejects with S3's error code as `name` and the HTTP status in `$metadata`. A body-less
 * error (any HEAD, a 304) has no code: the SDK names only a 404 (NotFound); pass `null` then.
 */
export async function rejects (t: Test, promise: Promise<unknown>, name: string | null, status: number, msg = name ?? String(status)): Promise<SdkError | undefined> {
  try {
    await promise
  } catch (err) {
    const e = err as SdkError
    if (name !== null) t.equal(e.name, name, `${msg}: error name`)
    t.equal(e.$metadata?.httpStatusCode, status, `${msg}: HTTP status`)
    return e
  }
  t.fail(`${msg}: expected ${name ?? 'an error'} (${status}), the request succeeded`)
  return undefined
}

export interface Seen { method: string, url: string, headers: IncomingHttpHeaders }

/** Every request the server receives, as it arrived (Expect: 100-continue ones included). */
export function watch (s: Served): Seen[] {
  const seen: Seen[] = []
  const record = (req: { method?: string, url?: string, headers: IncomingHttpHeaders }): void => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
  }
  s.server.server.prependListener('request', record)
  s.server.server.prependListener('checkContinue', record)
  return seen
}

/** Whether the engine holds `key` (checked past the adapter). */
export async function stored (s: Served, bucket: string, key: string): Promise<boolean> {
  try {
    await s.box.headObject(bucket, key)
    return true
  } catch {
    return false
  }
}

/** Have `client` drop a request header the SDK would send (as clients that never send it do). */
export function withoutHeader (client: S3Client, name: string): void {
  // Build step, low priority: after the checksum middleware (build, normal) adds its headers,
  // before signing (finalizeRequest).
  client.middlewareStack.add(next => async args => {
    const headers = (args.request as { headers?: Record<string, unknown> }).headers ?? {}
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name) delete headers[key]
    return await next(args)
  }, { step: 'build', priority: 'low', name: `without-${name}` })
}

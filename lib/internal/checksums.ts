import { createHash, type Hash } from 'node:crypto'
import { crc32 } from 'node:zlib'

/** The additional checksums of S3's "flexible checksums" that spacebox computes and verifies. */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const
export type ChecksumAlgorithm = typeof CHECKSUM_ALGORITHMS[number]
/** Checksums by algorithm, each the base64 of the big-endian digest, as S3 transmits them. */
export type Checksums = Partial<Record<ChecksumAlgorithm, string>>

// CRC32C (Castagnoli, reflected 0x82F63B78), slicing by 8: Node has no built-in for it.
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(8 * 256)
  for (let i = 0; i < 256; i++) {
    let c = i
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1
    table[i] = c >>> 0
  }
  for (let i = 0; i < 256; i++) {
    let c = table[i]!
    for (let t = 1; t < 8; t++) {
      c = table[c & 0xff]! ^ (c >>> 8)
      table[t * 256 + i] = c >>> 0
    }
  }
  return table
})()

/** CRC32C of `data`, continuing from `previous` (the CRC of the bytes before it). */
export function crc32c (data: Uint8Array, previous = 0): number {
  const t = CRC32C_TABLE
  let crc = ~previous >>> 0
  let i = 0
  const n = data.length
  for (; i + 8 <= n; i += 8) {
    const a = (crc ^ (data[i]! | data[i + 1]! << 8 | data[i + 2]! << 16 | data[i + 3]! << 24)) >>> 0
    crc = t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^
      t[768 + data[i + 4]!]! ^ t[512 + data[i + 5]!]! ^ t[256 + data[i + 6]!]! ^ t[data[i + 7]!]!
  }
  for (; i < n; i++) crc = t[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8)
  return ~crc >>> 0
}

// CRC64NVME (reflected 0x9A6C9329AC4BC9B5, init and xorout all ones), kept as two 32-bit halves:
// BigInt per byte would be far slower. What AWS CLI v2 sends by default.
const CRC64_POLY = { hi: 0x9a6c9329, lo: 0xac4bc9b5 }
const CRC64_TABLE = (() => {
  const table = new Uint32Array(512) // hi, lo per byte value
  for (let i = 0; i < 256; i++) {
    let hi = 0
    let lo = i
    for (let k = 0; k < 8; k++) {
      const carry = lo & 1
      lo = ((lo >>> 1) | (hi << 31)) >>> 0
      hi = hi >>> 1
      if (carry !== 0) { hi = (hi ^ CRC64_POLY.hi) >>> 0; lo = (lo ^ CRC64_POLY.lo) >>> 0 }
    }
    table[2 * i] = hi
    table[2 * i + 1] = lo
  }
  return table
})()

/** A 64-bit CRC as its two 32-bit halves. */
export interface Crc64 { hi: number, lo: number }

/** CRC64NVME of `data`, continuing from `previous` (the CRC of the bytes before it). */
export function crc64nvme (data: Uint8Array, previous: Crc64 = { hi: 0, lo: 0 }): Crc64 {
  const t = CRC64_TABLE
  let hi = ~previous.hi >>> 0
  let lo = ~previous.lo >>> 0
  for (let i = 0; i < data.length; i++) {
    const index = ((lo ^ data[i]!) & 0xff) * 2
    lo = (((lo >>> 8) | (hi << 24)) ^ t[index + 1]!) >>> 0
    hi = ((hi >>> 8) ^ t[index]!) >>> 0
  }
  return { hi: ~hi >>> 0, lo: ~lo >>> 0 }
}

const CRC_POLYNOMIALS = { CRC32: 0xedb88320, CRC32C: 0x82f63b78 } as const

function gf2Times (matrix: Uint32Array, vector: number): number {
  let sum = 0
  for (let i = 0; vector !== 0; i++, vector >>>= 1) if ((vector & 1) !== 0) sum ^= matrix[i]!
  return sum >>> 0
}

function gf2Square (square: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 32; n++) square[n] = gf2Times(matrix, matrix[n]!)
}

/**
 * The CRC of A followed by B, from the CRCs of A and B and the length of B (the GF(2) method of
 * zlib's crc32_combine), so a multipart object's full-object CRC costs O(parts), not O(bytes).
 */
export function crcCombine (algorithm: 'CRC32' | 'CRC32C', crcA: number, crcB: number, lengthB: number): number {
  if (lengthB <= 0) return crcA
  const odd = new Uint32Array(32)
  odd[0] = CRC_POLYNOMIALS[algorithm]
  for (let n = 1; n < 32; n++) odd[n] = (1 << (n - 1)) >>> 0
  return (shiftByZeros(odd, new Uint32Array(32), gf2Square, gf2Times, crcA, lengthB) ^ crcB) >>> 0
}

/**
 * zlib's crc32_combine loop, for any width: given `odd`, the operator for one zero bit, apply
 * the operator for `length` zero bytes to `crc`, by squaring (two bits, four, a byte, two bytes...).
 */
function shiftByZeros<M, C> (odd: M, even: M, square: (out: M, matrix: M) => void, times: (matrix: M, vector: C) => C, crc: C, length: number): C {
  square(even, odd)
  square(odd, even)
  for (;;) {
    square(even, odd)
    if (length % 2 === 1) crc = times(even, crc)
    length = Math.floor(length / 2)
    if (length === 0) return crc
    square(odd, even)
    if (length % 2 === 1) crc = times(odd, crc)
    length = Math.floor(length / 2)
    if (length === 0) return crc
  }
}

// The same combination for CRC64NVME; a 64-bit operator is 64 rows of (hi, lo).
function gf2Times64 (matrix: Uint32Array, vector: Crc64): Crc64 {
  let hi = 0
  let lo = 0
  for (let half = 0; half < 2; half++) {
    let bits = half === 0 ? vector.lo : vector.hi
    for (let i = half * 32; bits !== 0; i++, bits >>>= 1) {
      if ((bits & 1) !== 0) { hi ^= matrix[2 * i]!; lo ^= matrix[2 * i + 1]! }
    }
  }
  return { hi: hi >>> 0, lo: lo >>> 0 }
}

function gf2Square64 (square: Uint32Array, matrix: Uint32Array): void {
  for (let n = 0; n < 64; n++) {
    const row = gf2Times64(matrix, { hi: matrix[2 * n]!, lo: matrix[2 * n + 1]! })
    square[2 * n] = row.hi
    square[2 * n + 1] = row.lo
  }
}

/** The CRC64NVME of A followed by B, from theirs and the length of B. */
export function crc64Combine (crcA: Crc64, crcB: Crc64, lengthB: number): Crc64 {
  if (lengthB <= 0) return crcA
  const odd = new Uint32Array(128)
  odd[0] = CRC64_POLY.hi
  odd[1] = CRC64_POLY.lo
  for (let n = 1; n < 64; n++) {
    const bit = n - 1 // row n shifts bit n down to bit n - 1
    odd[2 * n] = bit >= 32 ? (1 << (bit - 32)) >>> 0 : 0
    odd[2 * n + 1] = bit < 32 ? (1 << bit) >>> 0 : 0
  }
  const crc = shiftByZeros(odd, new Uint32Array(128), gf2Square64, gf2Times64, crcA, lengthB)
  return { hi: (crc.hi ^ crcB.hi) >>> 0, lo: (crc.lo ^ crcB.lo) >>> 0 }
}

/**
 * The checksum S3 reports for a completed multipart upload: COMPOSITE is the checksum of the
 * concatenated binary part checksums with `-N`; FULL_OBJECT (CRCs only) is the checksum of the
 * whole byte stream, combined from the parts'. Undefined when a part lacks the checksum.
 */
export function multipartChecksum (algorithm: ChecksumAlgorithm, type: 'COMPOSITE' | 'FULL_OBJECT', parts: Array<{ size: number, checksums: Checksums }>): string | undefined {
  const digests: Buffer[] = []
  for (const part of parts) {
    const value = part.checksums[algorithm]
    if (value === undefined) return undefined
    digests.push(Buffer.from(value, 'base64'))
  }
  if (type === 'FULL_OBJECT') {
    if (algorithm === 'CRC64NVME') {
      let crc64: Crc64 = { hi: 0, lo: 0 }
      parts.forEach((part, i) => {
        const digest = digests[i]!
        crc64 = crc64Combine(crc64, { hi: digest.readUInt32BE(0), lo: digest.readUInt32BE(4) }, part.size)
      })
      return crc64Base64(crc64)
    }
    if (algorithm !== 'CRC32' && algorithm !== 'CRC32C') return undefined
    let crc = 0
    parts.forEach((part, i) => { crc = crcCombine(algorithm, crc, digests[i]!.readUInt32BE(0), part.size) })
    return crcBase64(crc)
  }
  const composite = new Digests([algorithm])
  for (const digest of digests) composite.update(digest)
  return `${composite.digest().checksums[algorithm] as string}-${parts.length}`
}

function crc64Base64 (value: Crc64): string {
  const out = Buffer.allocUnsafe(8)
  out.writeUInt32BE(value.hi, 0)
  out.writeUInt32BE(value.lo, 4)
  return out.toString('base64')
}

function crcBase64 (value: number): string {
  const out = Buffer.allocUnsafe(4)
  out.writeUInt32BE(value >>> 0)
  return out.toString('base64')
}

/**
 * The digests of one byte stream, computed in a single pass while it streams: always MD5 (the
 * ETag), plus whichever additional checksums were asked for.
 */
/** The checksum of bytes in hand, base64 as S3 sends it. */
export function checksumOf (algorithm: ChecksumAlgorithm, data: Uint8Array): string {
  const digests = new Digests([algorithm])
  digests.update(data)
  return digests.digest().checksums[algorithm] as string
}

export class Digests {
  readonly #md5 = createHash('md5')
  readonly #hashes: Array<[ChecksumAlgorithm, Hash]> = []
  #crc32: number | undefined
  #crc32c: number | undefined
  #crc64: Crc64 | undefined

  constructor (algorithms: Iterable<ChecksumAlgorithm>) {
    for (const algorithm of new Set(algorithms)) {
      if (algorithm === 'CRC32') this.#crc32 = 0
      else if (algorithm === 'CRC32C') this.#crc32c = 0
      else if (algorithm === 'CRC64NVME') this.#crc64 = { hi: 0, lo: 0 }
      else this.#hashes.push([algorithm, createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256')])
    }
  }

  update (data: Uint8Array): void {
    this.#md5.update(data)
    if (this.#crc32 !== undefined) this.#crc32 = crc32(data, this.#crc32)
    if (this.#crc32c !== undefined) this.#crc32c = crc32c(data, this.#crc32c)
    if (this.#crc64 !== undefined) this.#crc64 = crc64nvme(data, this.#crc64)
    for (const [, hash] of this.#hashes) hash.update(data)
  }

  /** Finish: the binary MD5 and the requested checksums. Call once. */
  digest (): { md5: Buffer, checksums: Checksums } {
    const checksums: Checksums = {}
    if (this.#crc32 !== undefined) checksums.CRC32 = crcBase64(this.#crc32)
    if (this.#crc32c !== undefined) checksums.CRC32C = crcBase64(this.#crc32c)
    if (this.#crc64 !== undefined) checksums.CRC64NVME = crc64Base64(this.#crc64)
    for (const [algorithm, hash] of this.#hashes) checksums[algorithm] = hash.digest('base64')
    return { md5: this.#md5.digest(), checksums }
  }
}

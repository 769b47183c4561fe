import { createHash, type Hash } from 'node:crypto'
import { crc32 } from 'node:zlib'

/** The additional checksums of S3's "flexible checksums" that spacebox computes and verifies. */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const
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

function crcBase64 (value: number): string {
  const out = Buffer.allocUnsafe(4)
  out.writeUInt32BE(value >>> 0)
  return out.toString('base64')
}

/**
 * The digests of one byte stream, computed in a single pass while it streams: always MD5 (the
 * ETag), plus whichever additional checksums were asked for.
 */
export class Digests {
  readonly #md5 = createHash('md5')
  readonly #hashes: Array<[ChecksumAlgorithm, Hash]> = []
  #crc32: number | undefined
  #crc32c: number | undefined

  constructor (algorithms: Iterable<ChecksumAlgorithm>) {
    for (const algorithm of new Set(algorithms)) {
      if (algorithm === 'CRC32') this.#crc32 = 0
      else if (algorithm === 'CRC32C') this.#crc32c = 0
      else this.#hashes.push([algorithm, createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256')])
    }
  }

  update (data: Uint8Array): void {
    this.#md5.update(data)
    if (this.#crc32 !== undefined) this.#crc32 = crc32(data, this.#crc32)
    if (this.#crc32c !== undefined) this.#crc32c = crc32c(data, this.#crc32c)
    for (const [, hash] of this.#hashes) hash.update(data)
  }

  /** Finish: the binary MD5 and the requested checksums. Call once. */
  digest (): { md5: Buffer, checksums: Checksums } {
    const checksums: Checksums = {}
    if (this.#crc32 !== undefined) checksums.CRC32 = crcBase64(this.#crc32)
    if (this.#crc32c !== undefined) checksums.CRC32C = crcBase64(this.#crc32c)
    for (const [algorithm, hash] of this.#hashes) checksums[algorithm] = hash.digest('base64')
    return { md5: this.#md5.digest(), checksums }
  }
}

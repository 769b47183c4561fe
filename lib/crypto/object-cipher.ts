import { hkdfSync } from 'node:crypto'
import { seal, unseal } from './aead.js'

/** Bytes a sealed chunk carries beyond its plaintext: nonce (12) and GCM tag (16). */
export const SEAL_OVERHEAD = 28

/**
 * The data key of one object version. Each chunk is sealed with AES-256-GCM under a fresh nonce,
 * with the version's salt, the segment and the chunk's index as additional data: a chunk moved to
 * another place, another object or another index fails to open.
 */
export class ObjectCipher {
  readonly #key: Buffer
  readonly #salt: string

  constructor (key: Buffer, salt: string) {
    this.#key = key
    this.#salt = salt
  }

  /** A key derived from a bucket key for one object version (HKDF-SHA256, the salt as salt). */
  static derive (bucketKey: Buffer, salt: string): ObjectCipher {
    return new ObjectCipher(Buffer.from(hkdfSync('sha256', bucketKey, salt, 'spacebox object data key', 32)), salt)
  }

  sealChunk (segmentId: string, index: number, plaintext: Uint8Array): Buffer {
    return seal(this.#key, plaintext, this.#aad(`${segmentId}\0${index}`))
  }

  openChunk (segmentId: string, index: number, sealed: Uint8Array): Buffer {
    return unseal(this.#key, sealed, this.#aad(`${segmentId}\0${index}`))
  }

  sealInline (plaintext: Uint8Array): Buffer {
    return seal(this.#key, plaintext, this.#aad('inline'))
  }

  openInline (sealed: Uint8Array): Buffer {
    return unseal(this.#key, sealed, this.#aad('inline'))
  }

  #aad (where: string): Buffer {
    return Buffer.from(`${this.#salt}\0${where}`)
  }
}

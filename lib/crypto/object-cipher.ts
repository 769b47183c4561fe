import { createHmac } from 'node:crypto'
import { seal, unseal } from './aead.js'

/** HKDF's info, then the block counter 1: T(1) is all 32 bytes needed. */
const HKDF_INFO = Buffer.concat([Buffer.from('spacebox object data key'), Buffer.from([1])])

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

  /**
   * A key derived from a bucket key for one object version: HKDF-SHA256 (RFC 5869) with the salt
   * as salt, one block long, written with two HMACs (half the cost of crypto.hkdfSync's key objects).
   */
  static derive (bucketKey: Buffer, salt: string): ObjectCipher {
    const prk = createHmac('sha256', salt).update(bucketKey).digest()
    return new ObjectCipher(createHmac('sha256', prk).update(HKDF_INFO).digest(), salt)
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

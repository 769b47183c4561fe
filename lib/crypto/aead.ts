import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { SpaceboxError } from '../errors.js'

const NONCE = 12
const TAG = 16

/** AES-256-GCM with a fresh random nonce: nonce | tag | ciphertext. `aad` binds where it belongs. */
export function seal (key: Buffer, plaintext: Uint8Array, aad: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(NONCE + TAG + plaintext.length)
  const nonce = randomBytes(NONCE)
  nonce.copy(out, 0)
  const cipher = createCipheriv('aes-256-gcm', key, nonce)
  cipher.setAAD(aad)
  // GCM is a stream mode: update() gives every byte and final() none, so one copy into place.
  cipher.update(plaintext).copy(out, NONCE + TAG)
  cipher.final()
  cipher.getAuthTag().copy(out, NONCE)
  return out
}

/** Open what `seal` made with the same key and `aad`; any alteration is an InternalError. */
export function unseal (key: Buffer, sealed: Uint8Array, aad: Uint8Array): Buffer {
  try {
    if (sealed.length < NONCE + TAG) throw new Error('too short')
    const data = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength)
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, NONCE))
    decipher.setAAD(aad)
    decipher.setAuthTag(data.subarray(NONCE, NONCE + TAG))
    const plaintext = decipher.update(data.subarray(NONCE + TAG))
    decipher.final()
    return plaintext
  } catch (err) {
    throw new SpaceboxError('InternalError', 'Integrity check failed: encrypted data was altered or belongs elsewhere', { cause: err })
  }
}

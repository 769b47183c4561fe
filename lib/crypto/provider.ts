import { randomBytes } from 'node:crypto'
import { SpaceboxError } from '../errors.js'
import { seal, unseal } from './aead.js'

/** What a data key is bound to (an AWS KMS-style encryption context): unwrapping needs the same. */
export type KeyContext = Record<string, string>

export interface DataKey {
  /** The 256-bit key, to use and forget. */
  plaintext: Buffer
  /** The key wrapped under a master key: safe to store. */
  wrapped: Buffer
  masterKeyId: string
}

/**
 * The "KMS": holds master keys and wraps data keys under them. Plug in a real KMS or Vault
 * transit by implementing this; spacebox calls it only to make or unwrap data keys.
 */
export interface KeyProvider {
  /** A fresh data key wrapped under `masterKeyId`, or the provider's current master key. */
  generateDataKey: (context: KeyContext, masterKeyId?: string) => Promise<DataKey>
  /** Unwrap a data key; fails if the wrapping or the context do not match. */
  decrypt: (wrapped: Buffer, context: KeyContext) => Promise<Buffer>
  /** Wrap an existing data key under another master key (master-key rotation). Optional. */
  encrypt?: (plaintext: Buffer, context: KeyContext, masterKeyId?: string) => Promise<DataKey>
}

const WRAP_VERSION = 1

function contextBytes (masterKeyId: string, context: KeyContext): Buffer {
  const entries = Object.entries(context).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
  return Buffer.from(JSON.stringify([masterKeyId, entries]))
}

/**
 * The default provider: 256-bit master keys held in this process, by id. Wrapped keys are
 * version | id length | id | AES-256-GCM(master key, data key), with the id and the context as
 * additional data, so a wrapped key cannot be moved to another context or master key.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly #keys: Map<string, Buffer>
  readonly #current: string

  /** `keys` by id; `current` (default: the last id) wraps new data keys. */
  constructor (keys: Record<string, Buffer>, current?: string) {
    this.#keys = new Map(Object.entries(keys))
    for (const [id, key] of this.#keys) {
      if (key.length !== 32 || id.length === 0 || id.length > 255) throw new RangeError('master keys are 32 bytes, under ids of 1 to 255 characters')
    }
    const ids = [...this.#keys.keys()]
    this.#current = current ?? ids[ids.length - 1] ?? ''
    if (!this.#keys.has(this.#current)) throw new RangeError('the current master key id names no key')
  }

  get currentMasterKeyId (): string {
    return this.#current
  }

  /** The ids of the master keys held, in the order given (never the keys). */
  get masterKeyIds (): string[] {
    return [...this.#keys.keys()]
  }

  async generateDataKey (context: KeyContext, masterKeyId?: string): Promise<DataKey> {
    return await this.encrypt(randomBytes(32), context, masterKeyId)
  }

  async encrypt (plaintext: Buffer, context: KeyContext, masterKeyId = this.#current): Promise<DataKey> {
    const master = this.#master(masterKeyId)
    const id = Buffer.from(masterKeyId)
    const wrapped = Buffer.concat([Buffer.from([WRAP_VERSION, id.length]), id, seal(master, plaintext, contextBytes(masterKeyId, context))])
    return { plaintext, wrapped, masterKeyId }
  }

  async decrypt (wrapped: Buffer, context: KeyContext): Promise<Buffer> {
    const idLength = wrapped[1] ?? 0
    if (wrapped[0] !== WRAP_VERSION || wrapped.length < 2 + idLength) {
      throw new SpaceboxError('InternalError', 'A wrapped key is malformed')
    }
    const masterKeyId = wrapped.toString('utf8', 2, 2 + idLength)
    return unseal(this.#master(masterKeyId), wrapped.subarray(2 + idLength), contextBytes(masterKeyId, context))
  }

  #master (id: string): Buffer {
    const key = this.#keys.get(id)
    if (key === undefined) throw new SpaceboxError('InvalidMasterKey', `The key provider has no master key ${JSON.stringify(id)}`, { detail: { masterKeyId: id } })
    return key
  }
}

/** Counts every call into a provider, for box.stats(). */
export function countingProvider (provider: KeyProvider, counts: { generateDataKey: number, decrypt: number }): KeyProvider {
  const counted: KeyProvider = {
    generateDataKey: async (context, masterKeyId) => { counts.generateDataKey++; return await provider.generateDataKey(context, masterKeyId) },
    decrypt: async (wrapped, context) => { counts.decrypt++; return await provider.decrypt(wrapped, context) }
  }
  const encrypt = provider.encrypt?.bind(provider)
  if (encrypt !== undefined) counted.encrypt = async (plaintext, context, masterKeyId) => { counts.generateDataKey++; return await encrypt(plaintext, context, masterKeyId) }
  return counted
}

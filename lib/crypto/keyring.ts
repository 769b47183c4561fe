import { createHmac } from 'node:crypto'
import { SpaceboxError } from '../errors.js'
import { KEYRING_KEY, type Sublevels } from '../schema/keys.js'
import type { KeyringRecord } from '../schema/records.js'
import type { KeyProvider } from './provider.js'

const CONTEXT = { purpose: 'spacebox-keyring' }

/**
 * The store's keyring key: one data key, wrapped by the provider and kept in `meta`, that seals
 * access-key secrets (SigV4 needs them back, so they cannot be hashed). Unwrapping it at open is
 * also the check that the master key is the right one: a wrong key fails here, not later.
 */
export async function openKeyring (sub: Sublevels, provider: KeyProvider): Promise<Buffer> {
  const record = await sub.meta.get(KEYRING_KEY) as KeyringRecord | undefined
  if (record === undefined) {
    const key = await provider.generateDataKey(CONTEXT)
    await sub.meta.put(KEYRING_KEY, { v: 1, wrapped: key.wrapped.toString('base64'), masterKeyId: key.masterKeyId } satisfies KeyringRecord)
    return key.plaintext
  }
  return await unwrapKeyring(provider, record, 'this store')
}

/** A keyring key as the provider wrapped it, opened; InvalidMasterKey when the provider cannot open it. */
export async function unwrapKeyring (provider: KeyProvider, record: Pick<KeyringRecord, 'wrapped' | 'masterKeyId'>, what: string): Promise<Buffer> {
  try {
    return await provider.decrypt(Buffer.from(record.wrapped, 'base64'), CONTEXT)
  } catch (err) {
    throw new SpaceboxError('InvalidMasterKey', `The master key does not open ${what} (it was created under master key ${record.masterKeyId})`, { cause: err })
  }
}

/**
 * A key for one purpose, derived from the keyring key, so that it is never stored (the key that
 * signs listing tokens). It survives master-key rotation, which re-wraps the keyring key unchanged.
 */
export function deriveKey (keyring: Buffer, purpose: string): Buffer {
  return createHmac('sha256', keyring).update(`spacebox ${purpose}`).digest()
}

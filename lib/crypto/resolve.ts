import { randomBytes } from 'node:crypto'
import { SpaceboxError } from '../errors.js'
import type { OpenOptions } from '../types.js'
import { isKmsKeyName } from './kms-arn.js'
import { keyFileProvider, LOCAL_KEY_ID, parseMasterKey } from './master-key.js'
import { LocalKeyProvider, type KeyProvider } from './provider.js'

/**
 * The key provider of a store, in order: the `keyProvider` option; the `masterKey` option; the
 * SPACEBOX_MASTER_KEY environment variable; for an on-disk store, its key file; for a memory
 * store, a random key. A caller's own database must say which key protects it. Named master keys
 * (`kmsKeys`) are made where they last as long as the data: in the key file on disk, at random in
 * memory. Called with the store's lock held, so the key file has one writer at a time.
 */
export async function resolveProvider (options: OpenOptions, storeIsNew: boolean): Promise<KeyProvider> {
  const named = kmsKeysOf(options.kmsKeys)
  if (options.keyProvider !== undefined) {
    if (named.length > 0) throw new TypeError('kmsKeys are made by the local provider; a keyProvider of your own holds its keys itself')
    return options.keyProvider
  }
  const fromEnv = process.env.SPACEBOX_MASTER_KEY
  const given = options.masterKey !== undefined
    ? parseMasterKey(options.masterKey, 'masterKey')
    : fromEnv !== undefined && fromEnv !== '' ? parseMasterKey(fromEnv, 'SPACEBOX_MASTER_KEY') : undefined
  if (named.length > 0 && options.memory !== true) {
    // A random named key would die with the process while data sealed under it lives on.
    if (options.location === undefined) throw new TypeError('kmsKeys need a memory store or an on-disk store\'s key file; give a db of your own a keyProvider that holds them')
    if (options.masterKey !== undefined) throw new TypeError('kmsKeys are kept in the key file, which masterKey replaces; give a LocalKeyProvider holding them as keyProvider')
    if (given !== undefined) {
      throw new SpaceboxError('InvalidMasterKey', 'Named KMS keys are kept in the store\'s key file, which SPACEBOX_MASTER_KEY replaces: unset it to use the key file')
    }
  }
  if (given !== undefined) return withNamedKeys(given, named)
  if (options.location !== undefined) return await keyFileProvider(options.location, storeIsNew, named)
  if (options.memory === true) return withNamedKeys(randomBytes(32), named)
  throw new TypeError('A store on a caller\'s db needs a masterKey, a keyProvider or SPACEBOX_MASTER_KEY')
}

/** The given key as the store's own, and a random key for each name (gone with the process: memory stores only). */
function withNamedKeys (key: Buffer, named: string[]): LocalKeyProvider {
  const keys: Record<string, Buffer> = { [LOCAL_KEY_ID]: key }
  for (const id of named) if (!Object.hasOwn(keys, id)) keys[id] = randomBytes(32)
  return new LocalKeyProvider(keys, LOCAL_KEY_ID)
}

function kmsKeysOf (value: unknown): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every(name => typeof name === 'string')) throw new TypeError('kmsKeys must be an array of key names')
  const bad = (value as string[]).find(name => !isKmsKeyName(name))
  if (bad !== undefined) throw new RangeError(`kmsKeys: ${JSON.stringify(bad)} is not a key name (1 to 64 letters, digits, - or _, starting with a letter or digit)`)
  return value as string[]
}

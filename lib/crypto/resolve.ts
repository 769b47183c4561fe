import { randomBytes } from 'node:crypto'
import type { OpenOptions } from '../types.js'
import { keyFileProvider, parseMasterKey } from './master-key.js'
import { LocalKeyProvider, type KeyProvider } from './provider.js'

const MASTER_KEY_ID = 'local-1'

/**
 * The key provider of a store, in order: the `keyProvider` option; the `masterKey` option; the
 * SPACEBOX_MASTER_KEY environment variable; for an on-disk store, its key file; for a memory
 * store, a random key. A caller's own database must say which key protects it.
 */
export async function resolveProvider (options: OpenOptions, storeIsNew: boolean): Promise<KeyProvider> {
  if (options.keyProvider !== undefined) return options.keyProvider
  if (options.masterKey !== undefined) return new LocalKeyProvider({ [MASTER_KEY_ID]: parseMasterKey(options.masterKey, 'masterKey') })
  const fromEnv = process.env.SPACEBOX_MASTER_KEY
  if (fromEnv !== undefined && fromEnv !== '') return new LocalKeyProvider({ [MASTER_KEY_ID]: parseMasterKey(fromEnv, 'SPACEBOX_MASTER_KEY') })
  if (options.location !== undefined) return await keyFileProvider(options.location, storeIsNew)
  if (options.memory === true) return new LocalKeyProvider({ [MASTER_KEY_ID]: randomBytes(32) })
  throw new TypeError('A store on a caller\'s db needs a masterKey, a keyProvider or SPACEBOX_MASTER_KEY')
}

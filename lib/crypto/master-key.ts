import { randomBytes } from 'node:crypto'
import { link, open, readFile, unlink } from 'node:fs/promises'
import { SpaceboxError } from '../errors.js'
import { LocalKeyProvider } from './provider.js'

/** A master key given as 32 bytes, or as their base64 or hex. */
export function parseMasterKey (value: Buffer | string, source: string): Buffer {
  const key = typeof value !== 'string'
    ? value
    : /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64')
  if (key.length !== 32) throw new RangeError(`${source} must be a 256-bit key: 32 bytes, or their base64 or hex`)
  return key
}

interface KeyFile {
  current: string
  keys: Record<string, string>
}

/** Where the master key of an on-disk store lives: beside its directory, never in LevelDB's files. */
export function keyFilePath (location: string): string {
  return `${location.replace(/[\\/]+$/, '')}.key`
}

/**
 * The local provider for an on-disk store with no key given: the key file beside the data,
 * created (mode 0600) with the store. A store that exists without its key file is refused.
 */
export async function keyFileProvider (location: string, storeIsNew: boolean): Promise<LocalKeyProvider> {
  const path = keyFilePath(location)
  let file: KeyFile
  try {
    file = JSON.parse(await readFile(path, 'utf8')) as KeyFile
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SpaceboxError('InvalidMasterKey', `The master key file ${path} cannot be read`, { cause: err })
    }
    if (!storeIsNew) {
      throw new SpaceboxError('InvalidMasterKey', `The master key file ${path} is missing: without it this store's secrets and encrypted objects cannot be read`)
    }
    file = { current: 'local-1', keys: { 'local-1': randomBytes(32).toString('base64') } }
    await createKeyFile(path, JSON.stringify(file, null, 2) + '\n')
  }
  const keys = Object.fromEntries(Object.entries(file.keys ?? {}).map(([id, value]) => [id, parseMasterKey(value, `master key ${id} in ${path}`)]))
  return new LocalKeyProvider(keys, file.current)
}

/**
 * Create the key file whole or not at all: written and synced under a temporary name, then linked
 * into place (which, unlike rename, never replaces a key file that exists). A crash at any point
 * leaves either no key file or a complete one, never an empty one.
 */
async function createKeyFile (path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await link(temporary, path)
  } finally {
    await unlink(temporary)
  }
}

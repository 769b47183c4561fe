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
  let file: unknown
  try {
    file = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SpaceboxError('InvalidMasterKey', `The master key file ${path} cannot be read`, { cause: err })
    }
    if (!storeIsNew) {
      throw new SpaceboxError('InvalidMasterKey', `The master key file ${path} is missing: without it this store's secrets and encrypted objects cannot be read`)
    }
    const created: KeyFile = { current: 'local-1', keys: { 'local-1': randomBytes(32).toString('base64') } }
    await createKeyFile(path, JSON.stringify(created, null, 2) + '\n')
    file = created
  }
  const { keys, current } = checkKeyFile(file, path)
  return new LocalKeyProvider(keys, current)
}

/**
 * The keys of a parsed key file; InvalidMasterKey for any other shape. The file is input (edited by
 * hand for a rotation), so a wrong shape is the user's to fix, never a TypeError from deep inside.
 */
function checkKeyFile (file: unknown, path: string): { keys: Record<string, Buffer>, current: string } {
  const malformed = (why: string): SpaceboxError =>
    new SpaceboxError('InvalidMasterKey', `The master key file ${path} is malformed: ${why}; it must be { "current": ID, "keys": { ID: KEY } }`)
  if (!isRecord(file)) throw malformed('it is not a JSON object')
  if (typeof file.current !== 'string') throw malformed('"current" is not a key id')
  if (!isRecord(file.keys)) throw malformed('"keys" is not an object')
  const entries = Object.entries(file.keys).map(([id, value]): [string, Buffer] => {
    if (id.length === 0 || id.length > 255) throw malformed(`the key id ${JSON.stringify(id.slice(0, 40))} is not 1 to 255 characters`)
    if (typeof value !== 'string') throw malformed(`the key ${JSON.stringify(id)} is not a string`)
    try {
      return [id, parseMasterKey(value, `master key ${id}`)]
    } catch {
      throw malformed(`the key ${JSON.stringify(id)} is not 32 bytes in base64 or hex`)
    }
  })
  // fromEntries defines own properties, so even an id "__proto__" stays a key id.
  const keys = Object.fromEntries(entries)
  if (!Object.hasOwn(keys, file.current)) throw malformed(`"current" names no key in "keys": ${JSON.stringify(file.current)}`)
  return { keys, current: file.current }
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
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

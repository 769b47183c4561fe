import { randomBytes } from 'node:crypto'
import { link, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
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

/** Where the master key of an on-disk store lives: beside its directory, never in LevelDB's files. */
export function keyFilePath (location: string): string {
  return `${location.replace(/[\\/]+$/, '')}.key`
}

/** The id of a store's own master key in its key file (and of the key given by masterKey or SPACEBOX_MASTER_KEY). */
export const LOCAL_KEY_ID = 'local-1'

/**
 * The local provider for an on-disk store with no key given: the key file beside the data,
 * created (mode 0600) with the store. A store that exists without its key file is refused. Named
 * master keys in `named` that the file lacks are made (32 random bytes each) and added to it by an
 * atomic replace before the provider can use them; the other entries stay as they were written.
 * The caller holds the store's lock, so no two writers race on the file.
 */
export async function keyFileProvider (location: string, storeIsNew: boolean, named: readonly string[] = []): Promise<LocalKeyProvider> {
  const path = keyFilePath(location)
  const file = await readKeyFile(path)
  if (file === undefined) {
    if (!storeIsNew) {
      throw new SpaceboxError('InvalidMasterKey', `The master key file ${path} is missing: without it this store's secrets and encrypted objects cannot be read`)
    }
    const keys = newKeys([LOCAL_KEY_ID, ...named])
    await createKeyFile(path, serialize({ current: LOCAL_KEY_ID, keys: encoded(keys) }))
    return new LocalKeyProvider(keys, LOCAL_KEY_ID)
  }
  const { keys, current } = checkKeyFile(file, path)
  const added = newKeys(named.filter(id => !Object.hasOwn(keys, id)))
  if (Object.keys(added).length > 0) {
    // Every field and key of the file is kept as written (a hand-edited hex key stays hex).
    const record = file as Record<string, unknown>
    await replaceKeyFile(path, serialize({ ...record, keys: { ...record.keys as Record<string, unknown>, ...encoded(added) } }))
  }
  return new LocalKeyProvider({ ...keys, ...added }, current)
}

/**
 * The master key ids in the key file of the store at `location` and which one is current, or
 * undefined when there is no key file. Never the keys. InvalidMasterKey when it is malformed.
 */
export async function keyFileIds (location: string): Promise<{ current: string, ids: string[] } | undefined> {
  const path = keyFilePath(location)
  const file = await readKeyFile(path)
  if (file === undefined) return undefined
  const { keys, current } = checkKeyFile(file, path)
  return { current, ids: Object.keys(keys) }
}

/** The parsed key file, or undefined if there is none. */
async function readKeyFile (path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new SpaceboxError('InvalidMasterKey', `The master key file ${path} cannot be read`, { cause: err })
  }
}

/** 32 random bytes under each id, as own properties (an id "__proto__" stays an id). */
function newKeys (ids: readonly string[]): Record<string, Buffer> {
  return Object.fromEntries([...new Set(ids)].map(id => [id, randomBytes(32)]))
}

function encoded (keys: Record<string, Buffer>): Record<string, string> {
  return Object.fromEntries(Object.entries(keys).map(([id, key]) => [id, key.toString('base64')]))
}

function serialize (file: unknown): string {
  return JSON.stringify(file, null, 2) + '\n'
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
  const temporary = await writeTemporary(path, content)
  try {
    await link(temporary, path)
  } finally {
    await unlink(temporary)
  }
  await syncDirectory(dirname(path))
  await removeStaleTemporaries(path)
}

/**
 * Replace the key file whole: the new content is written and synced under a temporary name, then
 * renamed over the old file, and the directory is synced before any new key is used. Readers and a
 * crash see the old file or the new one, never a torn one, so no key it held is ever lost.
 */
async function replaceKeyFile (path: string, content: string): Promise<void> {
  const temporary = await writeTemporary(path, content)
  try {
    await rename(temporary, path)
  } catch (err) {
    await unlink(temporary).catch(() => {})
    throw err
  }
  await syncDirectory(dirname(path))
  await removeStaleTemporaries(path)
}

/**
 * Temporary files a killed writer left (never renamed, so never relied on) hold copies of keys:
 * removed by the next writer, which holds the store's lock, so none is another writer's.
 */
async function removeStaleTemporaries (path: string): Promise<void> {
  const name = basename(path)
  const stale = (await readdir(dirname(path)).catch(() => [])).filter(entry =>
    entry.startsWith(`${name}.`) && /^\.[0-9a-f]{12}\.tmp$/.test(entry.slice(name.length)))
  for (const entry of stale) await unlink(join(dirname(path), entry)).catch(() => {})
}

/** `content` in a new file beside `path`, mode 0600, synced; its name. */
async function writeTemporary (path: string, content: string): Promise<string> {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } catch (err) {
    await handle.close()
    await unlink(temporary).catch(() => {})
    throw err
  }
  await handle.close()
  return temporary
}

/**
 * Make a link or rename in `dir` survive power loss. Best effort: some platforms (Windows) cannot
 * open a directory to sync it, and there the rename is all there is.
 */
async function syncDirectory (dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined)
  if (handle === undefined) return
  try {
    await handle.sync()
  } catch {
    // EINVAL on file systems that do not sync directories.
  } finally {
    await handle.close()
  }
}

import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { isSpaceboxError, Spacebox, type OpenOptions } from '../index.js'
import { CliError } from './io.js'

/**
 * Open the store of a stopped `spacebox serve --data DIR`, with no background work. CliError when
 * DIR holds no store (opening would make a new, empty one: a mistyped directory deserves an error),
 * and `whenLocked` when a running spacebox holds it.
 */
export async function openStopped (data: string, whenLocked: string, options: Omit<OpenOptions, 'location' | 'memory' | 'db'> = {}): Promise<Spacebox> {
  const location = join(data, 'store')
  if (!existsSync(location)) throw new CliError(`there is no store in ${data} (no ${location})`)
  try {
    return await Spacebox.open({ lifecycleInterval: 0, compaction: false, ...options, location })
  } catch (err) {
    if (isSpaceboxError(err, 'StoreLocked')) throw new CliError(`${data} is in use by a running spacebox (its store is locked): ${whenLocked}`)
    throw new CliError(`cannot open the store in ${data}: ${(err as Error).message}`)
  }
}

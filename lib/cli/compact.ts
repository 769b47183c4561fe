import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { isSpaceboxError, Spacebox } from '../index.js'
import { CliError, UsageError, type Io } from './io.js'

/** Bytes in IEC units, as the README and the bench give them. */
function size (bytes: number | undefined): string {
  if (bytes === undefined) return 'unknown'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit] as string}`
}

/**
 * `spacebox compact --data DIR`: compact the store a stopped `spacebox serve --data DIR` left, and
 * say what it did. A store a server has open is locked: CliError (StoreLocked), as compacting it
 * is that process's job (box.compact()).
 */
export async function compactCommand (args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { data: { type: 'string' } }, strict: true, allowPositionals: true })
  if (positionals.length > 0) throw new UsageError(`compact takes no arguments, only --data DIR (got ${JSON.stringify(positionals[0])})`)
  if (values.data === undefined) throw new UsageError('compact needs --data DIR')
  const location = join(values.data, 'store')
  // Opening would make a new, empty store: a mistyped directory deserves an error instead.
  if (!existsSync(location)) throw new CliError(`there is no store in ${values.data} (no ${location})`)
  let box: Spacebox
  try {
    box = await Spacebox.open({ location, compaction: false })
  } catch (err) {
    if (isSpaceboxError(err, 'StoreLocked')) {
      throw new CliError(`${values.data} is in use (StoreLocked): stop the spacebox serving it first; a running store compacts itself in the background`)
    }
    throw new CliError(`cannot open the store in ${values.data}: ${(err as Error).message}`)
  }
  try {
    const started = performance.now()
    const result = await box.compact()
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    io.stdout.write(`Compacted ${location}: ${size(result.bytesOnDiskBefore)} on disk → ${size(result.bytesOnDiskAfter)} ` +
      `(live data ${size(box.stats().liveBytes)}), ${result.ranges} range${result.ranges === 1 ? '' : 's'} in ${seconds} s\n`)
  } finally {
    await box.close()
  }
}

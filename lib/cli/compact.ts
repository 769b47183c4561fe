import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { size } from './format.js'
import { UsageError, type Io } from './io.js'
import { openStopped } from './stopped-store.js'

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
  const box = await openStopped(values.data, 'stop it first; a running store compacts itself in the background')
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

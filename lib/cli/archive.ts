import { createReadStream, createWriteStream, existsSync } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { finished } from 'node:stream/promises'
import { parseArgs } from 'node:util'
import { isSpaceboxError, Spacebox } from '../index.js'
import { size } from './format.js'
import { CliError, UsageError, type Io } from './io.js'
import { Progress } from './progress.js'
import { openStopped } from './stopped-store.js'

/**
 * `spacebox export --data DIR FILE`: an archive of a stopped store. It is written to FILE.partial
 * and renamed to FILE once whole, so a FILE is never a cut-short archive.
 */
export async function exportCommand (args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      bucket: { type: 'string', multiple: true },
      versions: { type: 'boolean' },
      decrypt: { type: 'boolean' },
      'include-keys': { type: 'boolean' },
      json: { type: 'boolean' }
    },
    strict: true,
    allowPositionals: true
  })
  if (values.data === undefined || positionals.length !== 1) throw new UsageError('export needs --data DIR and one FILE')
  const file = positionals[0] as string
  if (existsSync(file)) throw new CliError(`${file} exists: remove it, or name another file`)
  const partial = `${file}.partial`
  const box = await openStopped(values.data, 'stop it first')
  const progress = new Progress(io, values.json === true)
  try {
    const out = createWriteStream(partial, { flags: 'wx' })
    const opened = new Promise<void>((resolve, reject) => { out.once('open', () => { resolve() }).once('error', reject) })
    await opened.catch((err: Error) => { throw new CliError(`cannot write ${partial}: ${err.message}`) })
    try {
      const result = await box.exportTo(out, {
        ...(values.bucket === undefined ? {} : { buckets: values.bucket }),
        versions: values.versions === true,
        decrypt: values.decrypt === true,
        includeKeys: values['include-keys'] === true,
        signal: io.signal,
        onEvent: event => { progress.event(event) }
      })
      out.end()
      await finished(out)
      await rename(partial, file)
      progress.done(`exported ${counted(result)} to ${file}, skipped ${result.skipped.length}`,
        { buckets: result.buckets, keys: result.keys, objects: result.objects, bytes: result.bytes, skipped: result.skipped.length })
    } catch (err) {
      out.destroy()
      await rm(partial, { force: true })
      throw err
    }
  } catch (err) {
    progress.stop()
    if (io.signal.aborted) throw new CliError('interrupted; no archive was written')
    if (isSpaceboxError(err, 'NoSuchBucket')) throw new CliError(`there is no bucket ${JSON.stringify(err.bucket)} in ${values.data}`)
    throw err
  } finally {
    await box.close()
  }
}

/** `spacebox import FILE --data DIR`: an archive into a stopped store, checked whole before anything is written. */
export async function importCommand (args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { data: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: true })
  if (values.data === undefined || positionals.length !== 1) throw new UsageError('import needs one FILE and --data DIR')
  const file = positionals[0] as string
  const open = async (): Promise<AsyncIterable<Uint8Array>> => {
    const stream = createReadStream(file, { highWaterMark: 1024 * 1024 })
    await new Promise<void>((resolve, reject) => { stream.once('open', () => { resolve() }).once('error', reject) })
      .catch((err: Error) => { throw new CliError(`cannot read ${file}: ${err.message}`) })
    return stream
  }
  // A new directory gets a new store; one in use is refused.
  const box = existsSync(join(values.data, 'store'))
    ? await openStopped(values.data, 'stop it first')
    : await Spacebox.open({ location: join(values.data, 'store'), lifecycleInterval: 0, compaction: false })
  const progress = new Progress(io, values.json === true)
  let verified = false
  try {
    const result = await box.importFrom(open, {
      signal: io.signal,
      onEvent: event => {
        if (event.type === 'plan') verified = true
        progress.event(event)
      }
    })
    progress.done(`imported ${counted(result)}, unchanged ${result.unchanged}`,
      { buckets: result.buckets, keys: result.keys, objects: result.objects, bytes: result.bytes, unchanged: result.unchanged })
  } catch (err) {
    progress.stop()
    if (io.signal.aborted) throw new CliError('interrupted; what was imported stays, and running the same command again imports the rest')
    if (isSpaceboxError(err, 'InvalidArchive')) throw new CliError(`${file}: ${err.message}${verified ? '' : '; nothing was imported'}`)
    throw err
  } finally {
    await box.close()
  }
}

function counted (result: { buckets: number, keys: number, objects: number, bytes: number }): string {
  const plural = (n: number, what: string): string => `${n} ${what}${n === 1 ? '' : 's'}`
  const keys = result.keys === 0 ? '' : `, ${plural(result.keys, 'access key')}`
  return `${plural(result.buckets, 'bucket')}${keys}, ${plural(result.objects, 'object')} (${size(result.bytes)})`
}

import { parseArgs } from 'node:util'
import { FORMAT_VERSION } from '../schema/keys.js'
import type { Spacebox } from '../index.js'
import { size, table } from './format.js'
import { formatGrant } from './grants.js'
import { status } from './keys.js'
import { UsageError, type Io } from './io.js'
import { openStopped } from './stopped-store.js'

interface BucketSummary {
  name: string
  region: string
  created: string
  versioning: string
  objects: number
  bytes: number
  /** Noncurrent versions and every delete marker, with the bytes of the versions. */
  noncurrent: number
  noncurrentBytes: number
  uploads: number
}

interface KeySummary {
  name: string
  access_key: string
  grants: string[]
  status: string
  expires_at?: string
}

/**
 * `spacebox info --data DIR`: what a stopped server's store holds, read by one pass over every
 * bucket's versions (no secret is ever read out). A running server holds the store's lock.
 */
export async function infoCommand (args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseArgs({ args, options: { data: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: true })
  if (positionals.length > 0) throw new UsageError(`info takes no arguments, only --data DIR [--json] (got ${JSON.stringify(positionals[0])})`)
  if (values.data === undefined) throw new UsageError('info needs --data DIR')
  const box = await openStopped(values.data, 'stop it first (`spacebox keys list` asks a running one about its keys)')
  try {
    const buckets: BucketSummary[] = []
    for (const info of await box.listBuckets()) buckets.push(await summarise(box, info.name, info.region, info.created))
    const stats = box.stats()
    const keys: KeySummary[] = box.keys.list().map(key => {
      const expires = key.expiresAt === undefined ? {} : { expires_at: key.expiresAt.toISOString() }
      return { name: key.name, access_key: key.accessKeyId, grants: key.grants.map(formatGrant), status: status({ disabled: key.disabled, ...expires }), ...expires }
    })
    const summary = { format: FORMAT_VERSION, live_bytes: stats.liveBytes, bytes_on_disk: stats.bytesOnDisk, buckets, keys }
    if (values.json === true) {
      io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
      return
    }
    io.stdout.write([
      `Store       ${values.data} (format ${FORMAT_VERSION})`,
      `Live data   ${size(stats.liveBytes)}`,
      `On disk     ${size(stats.bytesOnDisk)}`,
      '',
      table(['BUCKET', 'REGION', 'OBJECTS', 'SIZE', 'NONCURRENT', 'UPLOADS', 'VERSIONING', 'CREATED'], buckets.map(b => [
        b.name, b.region, String(b.objects), size(b.bytes), `${b.noncurrent} (${size(b.noncurrentBytes)})`, String(b.uploads), b.versioning, b.created
      ])),
      '',
      table(['ACCESS KEY', 'NAME', 'GRANTS', 'STATUS'], keys.map(k => [k.access_key, k.name, k.grants.join(' '), k.status]))
    ].join('\n') + '\n')
  } finally {
    await box.close()
  }
}

async function summarise (box: Spacebox, name: string, region: string, created: Date): Promise<BucketSummary> {
  const summary: BucketSummary = { name, region, created: created.toISOString(), versioning: 'off', objects: 0, bytes: 0, noncurrent: 0, noncurrentBytes: 0, uploads: 0 }
  for await (const version of box.listAllVersions(name)) {
    if (version.isLatest && !version.deleteMarker) {
      summary.objects++
      summary.bytes += version.size ?? 0
    } else {
      summary.noncurrent++
      summary.noncurrentBytes += version.size ?? 0
    }
  }
  summary.versioning = (await box.getBucketVersioning(name)).status ?? 'off'
  summary.uploads = (await box.abortIncompleteUploads(name, { olderThan: 0, dryRun: true })).aborted.length
  return summary
}

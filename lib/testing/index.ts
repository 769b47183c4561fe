import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { Spacebox, type LifecycleResult } from '../index.js'
import { createS3Server, Faults, type ExchangeRecord } from '../s3/index.js'
import { kmsKeyArn } from '../crypto/kms-arn.js'
import { ManualClock } from './clock.js'

export type { ExchangeRecord, FaultAction, FaultRule, ActiveFault } from '../s3/index.js'
export { Faults, ManualClock }
export { durationOf } from './clock.js'

export interface TestServerOptions {
  /** Buckets that exist from the start (and again after reset()). */
  buckets?: string[]
  /** Objects that exist from the start: `{ 'bucket/key': body }`, or a directory whose folders are buckets. */
  seed?: Record<string, string | Uint8Array> | string
  /** Keep the data in this directory (on disk) instead of in memory. Default: in memory. */
  persist?: string | false
  /** 'spaces' answers like DigitalOcean Spaces where it differs from S3 (and uses region nyc3). Default 'aws'. */
  profile?: 'aws' | 'spaces'
  /** Region reported to clients. Default us-east-1 ('aws') or nyc3 ('spaces'). */
  region?: string
  /** Seed of the fault rules' random draws, for reproducible runs. */
  faultSeed?: number
  /** How many requests the journal keeps (oldest dropped first). Default 1000. */
  journalSize?: number
  /** Port on 127.0.0.1. Default 0: any free port. */
  port?: number
  /**
   * Named KMS master keys that SSE-KMS requests may name, as `testkey-1`, `alias/testkey-1` or
   * its ARN (`kmsKeyArn('testkey-1')`); random, and kept in the key file with `persist`.
   */
  kmsKeys?: string[]
  /**
   * The store's clock: `'manual'` stands still (from the real time at start, or from the Date
   * given) until `server.clock.advance()` or `set()` moves it, and each move applies the lifecycle
   * rules. Signatures are still checked against the real time. Default: the real clock.
   */
  clock?: 'manual' | Date
  /** Lifecycle passes in the background, every this many ms. Default 0: only when the clock moves or on `applyLifecycle()`. */
  lifecycleInterval?: number
}

/** The manual clock of a test server: each move applies the lifecycle rules, and resolves to what they expired. */
export interface TestClock {
  /** The store's time, ms since the epoch. */
  now: () => number
  /** Move forward by ms or a duration (`'30d'`, `'12h'`, `'1d12h'`, `'90m'`, `'500ms'`), then apply lifecycle rules. */
  advance: (by: number | string) => Promise<LifecycleResult>
  /** Jump to a date (a Date, ms, or ISO string), forward or back, then apply lifecycle rules. */
  set: (to: Date | number | string) => Promise<LifecycleResult>
}

export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  region: string
  /** Bearer token of the key-management API (`/v2/spaces/keys`) and the fault rules (`/_spacebox/faults`). */
  adminToken: string
  /** A full-access key created for this server, and only for it. */
  credentials: { accessKeyId: string, secretAccessKey: string }
  /** Configuration for `new S3Client(...)` of `@aws-sdk/client-s3` (path style). */
  client: () => { endpoint: string, region: string, forcePathStyle: true, credentials: { accessKeyId: string, secretAccessKey: string } }
  /** Configuration for `new Client(...)` of `minio`. */
  minio: () => { endPoint: string, port: number, useSSL: false, accessKey: string, secretKey: string, region: string, pathStyle: true }
  /** The store itself, for arranging and checking state without going over HTTP. */
  box: Spacebox
  /** Fault rules: `faults.add({ operation: 'PutObject', error: 'SlowDown', times: 2 })`, `faults.clear()`. */
  faults: Faults
  /** The ARN S3 answers (`SSEKMSKeyId`) for KMS key `name` of a bucket in the server's region. */
  kmsKeyArn: (name: string) => string
  /** What the server received, oldest first (optionally only what matches). */
  requests: (filter?: Partial<Pick<ExchangeRecord, 'operation' | 'bucket' | 'key' | 'status' | 'accessKeyId'>>) => ExchangeRecord[]
  /** Apply the lifecycle rules now, by the store's clock: what they expired (`box.applyLifecycle()`). */
  applyLifecycle: () => Promise<LifecycleResult>
  /** Back to the starting state: the given buckets and seed, no other object, upload or key; faults and journal cleared; a manual clock back at its start. */
  reset: () => Promise<void>
  close: () => Promise<void>
  [Symbol.asyncDispose]: () => Promise<void>
}

/**
 * A local S3 for a test suite: in memory, on 127.0.0.1, with one full-access key made for it.
 * `await using s3 = await startTestServer()` closes it when the scope ends. With `clock: 'manual'`
 * it has `clock`, which moves the store's time and applies lifecycle rules as it does.
 */
export async function startTestServer (options: TestServerOptions & { clock: 'manual' | Date }): Promise<TestServer & { clock: TestClock }>
export async function startTestServer (options?: TestServerOptions): Promise<TestServer>
export async function startTestServer (options: TestServerOptions = {}): Promise<TestServer & { clock?: TestClock }> {
  const profile = options.profile ?? 'aws'
  const region = options.region ?? (profile === 'spaces' ? 'nyc3' : 'us-east-1')
  const persist = options.persist ?? false
  const manual = options.clock === undefined ? undefined : new ManualClock(options.clock === 'manual' ? Date.now() : options.clock)
  const start = manual?.now()
  const timing = { lifecycleInterval: options.lifecycleInterval ?? 0, ...(manual === undefined ? {} : { clock: manual.now }) }
  const kms = options.kmsKeys === undefined ? {} : { kmsKeys: options.kmsKeys }
  const box = await Spacebox.open(persist === false ? { memory: true, region, ...timing, ...kms } : { location: persist, region, ...timing, ...kms })
  const journal: ExchangeRecord[] = []
  const journalSize = options.journalSize ?? 1000
  const faults = new Faults(options.faultSeed)
  const adminToken = `sbx_${randomBytes(24).toString('base64url')}`
  let server
  try {
    server = await createS3Server(box, {
      host: '127.0.0.1',
      port: options.port ?? 0,
      region,
      profile,
      faults,
      adminToken,
      onExchange: record => {
        journal.push(record)
        if (journal.length > journalSize) journal.splice(0, journal.length - journalSize)
      }
    })
  } catch (err) {
    await box.close()
    throw err
  }
  const key = await box.keys.create({ name: 'spacebox-testing', grants: [{ bucket: '', permission: 'fullaccess' }] })
  const credentials = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey }
  const seed = typeof options.seed === 'string' ? await readSeedDirectory(options.seed) : options.seed ?? {}
  const arrange = async (): Promise<void> => {
    for (const bucket of new Set([...options.buckets ?? [], ...Object.keys(seed).map(bucketOf)])) {
      await box.createBucket(bucket).catch(ignore('BucketAlreadyOwnedByYou'))
    }
    for (const [path, body] of Object.entries(seed)) await box.putObject(bucketOf(path), path.slice(path.indexOf('/') + 1), body)
  }
  await arrange()
  const port = server.port
  let closed: Promise<void> | undefined
  const close = async (): Promise<void> => {
    closed ??= (async () => {
      await server.close({ timeout: 1000 })
      await box.close()
    })()
    await closed
  }
  return {
    endpoint: server.url,
    region,
    adminToken,
    credentials,
    client: () => ({ endpoint: server.url, region, forcePathStyle: true, credentials: { ...credentials } }),
    minio: () => ({ endPoint: '127.0.0.1', port, useSSL: false, accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey, region, pathStyle: true }),
    box,
    faults,
    kmsKeyArn: name => kmsKeyArn(region, name),
    requests: (filter = {}) => journal.filter(r => Object.entries(filter).every(([name, value]) => r[name as keyof ExchangeRecord] === value)),
    applyLifecycle: async () => await box.applyLifecycle(),
    ...(manual === undefined
      ? {}
      : {
          clock: {
            now: manual.now,
            advance: async (by: number | string) => {
              manual.advance(by)
              return await box.applyLifecycle()
            },
            set: async (to: Date | number | string) => {
              manual.set(to)
              return await box.applyLifecycle()
            }
          }
        }),
    reset: async () => {
      if (manual !== undefined) manual.set(start as number)
      faults.clear()
      await empty(box, credentials.accessKeyId)
      await arrange()
      journal.length = 0
    },
    close,
    [Symbol.asyncDispose]: close
  }
}

function bucketOf (path: string): string {
  const slash = path.indexOf('/')
  if (slash <= 0 || slash === path.length - 1) throw new RangeError(`A seed path is 'bucket/key': ${path}`)
  return path.slice(0, slash)
}

function ignore (code: string): (err: unknown) => void {
  return err => {
    if ((err as { code?: unknown }).code !== code) throw err
  }
}

/** Every bucket (with its objects, versions and uploads) and every key but the server's own, gone. */
async function empty (box: Spacebox, keep: string): Promise<void> {
  for (const bucket of await box.listBuckets()) {
    // Every version and delete marker, by id: a versioned bucket is empty only then.
    for (;;) {
      const page = await box.listObjectVersions(bucket.name)
      if (page.versions.length > 0) await box.deleteObjects(bucket.name, page.versions.map(({ key, versionId }) => ({ key, versionId })))
      if (!page.isTruncated) break
    }
    for (;;) {
      const uploads = await box.listMultipartUploads(bucket.name)
      for (const upload of uploads.uploads) await box.abortMultipartUpload(bucket.name, upload.key, upload.uploadId)
      if (!uploads.isTruncated) break
    }
    await box.deleteBucket(bucket.name)
  }
  for (const key of box.keys.list()) if (key.accessKeyId !== keep) await box.keys.delete(key.accessKeyId)
}

/** A directory of seed objects: each folder is a bucket, each file below it an object. */
async function readSeedDirectory (dir: string): Promise<Record<string, Uint8Array>> {
  const out: Record<string, Uint8Array> = {}
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    out[relative(dir, path).split(sep).join('/')] = await readFile(path)
  }
  return out
}

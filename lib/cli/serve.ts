import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { isSpaceboxError, Spacebox, type Grant } from '../index.js'
import { createConsole } from '../console/index.js'
import { createS3Server, type S3Server } from '../s3/index.js'
import { adminCheck, CONSOLE_PATH } from '../s3/server.js'
import { privateDir, SHARED_BITS } from '../internal/private-dir.js'
import { newAdminToken, readAdminToken, saveAdminToken } from './admin-token.js'
import { bucketNameProblem } from '../validate.js'
import { formatGrant, grantsOf } from './grants.js'
import { CliError, UsageError, type Io } from './io.js'
import { describeKmsKeys, kmsKeyName, kmsKeysIn } from './kms.js'
import { isLoopback, setUpTls, tlsChoice, type TlsChoice, type TlsSetup } from './tls.js'

/** What `spacebox serve` was asked for. */
export interface ServeOptions {
  /** Directory of the store and admin.json; absent with `memory`. */
  data?: string
  memory: boolean
  host: string
  port: number
  /** A second listener that serves bucket websites only. */
  websitePort?: number
  region: string
  /** Created when missing. */
  buckets: string[]
  /** Created when no key has this name yet. */
  key?: { name: string, grants: Grant[] }
  /** Named master keys for SSE-KMS, made when missing (kept in the key file with --data). */
  kmsKeys: string[]
  /** Ms that requests under way get to finish when stopping, before their connections are cut. */
  grace: number
  tls: TlsChoice
  /** Where the answers differ, answer as S3 (`aws`) or as DigitalOcean Spaces. */
  profile: 'aws' | 'spaces'
  /** Serve the web console (default true). */
  console: boolean
}

/** A running `spacebox serve`. */
export interface ServeHandle {
  url: string
  port: number
  /** Stop accepting, let requests under way finish (for the grace period), then close the store. Safe to call twice. */
  stop: () => Promise<void>
  /** The grace period, in ms. */
  grace: number
}

/** The options of `spacebox serve [--data DIR | --memory] ...`; UsageError when they make no sense. */
export function parseServeArgs (args: string[]): ServeOptions {
  const { values, positionals } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      memory: { type: 'boolean' },
      host: { type: 'string', default: '127.0.0.1' },
      port: { type: 'string', default: '9000' },
      'website-port': { type: 'string' },
      region: { type: 'string', default: 'nyc3' },
      bucket: { type: 'string', multiple: true },
      key: { type: 'string' },
      grant: { type: 'string', multiple: true },
      'full-access': { type: 'boolean' },
      'kms-key': { type: 'string', multiple: true },
      grace: { type: 'string', default: '10' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      'tls-self-signed': { type: 'boolean' },
      'insecure-http': { type: 'boolean' },
      profile: { type: 'string', default: 'aws' },
      'no-console': { type: 'boolean' }
    },
    strict: true,
    allowPositionals: true
  })
  if (positionals.length > 0) throw new UsageError(`serve takes no arguments, only options (got ${JSON.stringify(positionals[0])})`)
  if (values.memory === true && values.data !== undefined) throw new UsageError('--data and --memory exclude each other')
  const port = Number(values.port)
  if (!/^\d+$/.test(values.port) || port > 65535) throw new UsageError(`--port ${JSON.stringify(values.port)} is not a port number`)
  const kmsKeys = (values['kms-key'] ?? []).map(name => kmsKeyName(name, '--kms-key'))
  if (!/^\d+(\.\d+)?$/.test(values.grace) || Number(values.grace) > 86_400) throw new UsageError(`--grace ${JSON.stringify(values.grace)} is not a number of seconds (0 to 86400)`)
  // Every flag is checked before anything is printed or created.
  for (const name of values.bucket ?? []) {
    const problem = bucketNameProblem(name, true)
    if (problem !== undefined) throw new UsageError(`--bucket ${JSON.stringify(name)}: ${problem}`)
  }
  if (values.profile !== 'aws' && values.profile !== 'spaces') throw new UsageError(`--profile ${JSON.stringify(values.profile)}: aws or spaces`)
  const options: ServeOptions = {
    memory: values.memory === true,
    host: values.host,
    port,
    region: values.region,
    buckets: values.bucket ?? [],
    kmsKeys,
    grace: Number(values.grace) * 1000,
    tls: tlsChoice(values, values.host),
    profile: values.profile,
    console: values['no-console'] !== true
  }
  const websitePort = values['website-port']
  if (websitePort !== undefined) {
    if (!/^\d+$/.test(websitePort) || Number(websitePort) > 65535) throw new UsageError(`--website-port ${JSON.stringify(websitePort)} is not a port number`)
    options.websitePort = Number(websitePort)
  }
  if (!options.memory) options.data = values.data ?? './data'
  if (values.key !== undefined) options.key = { name: values.key, grants: grantsOf(values.grant, values['full-access']) }
  else if (values.grant !== undefined || values['full-access'] === true) throw new UsageError('--grant and --full-access belong to a --key NAME')
  return options
}

/**
 * Open the store, start the S3 server (with the keys API), make the buckets and key asked for, and
 * print the endpoint and any new secret. A new admin token is saved only once the server listens,
 * and printed as soon as it is saved, so no failed start leaves a token saved but never shown.
 * CliError for what the user can fix (port in use, store locked).
 */
export async function serve (options: ServeOptions, io: Io): Promise<ServeHandle> {
  const kmsKeysBefore = options.data === undefined || options.kmsKeys.length === 0 ? new Set<string>() : await kmsKeysIn(options.data)
  const box = await openStore(options)
  if (options.data !== undefined) await warnIfShared(options.data, io)
  let server: S3Server | undefined
  let tls: TlsSetup | undefined
  try {
    if (options.tls.kind !== 'none') tls = await setUpTls(options.tls, options.host, options.data)
    const admin = options.data === undefined ? newAdminToken() : await readAdminToken(options.data)
    server = await listen(box, options, admin.sha256, tls)
    if (admin.token !== undefined && options.data !== undefined) await saveAdminToken(options.data, admin)
    // Shown as soon as it is saved: a failure further on must not lose it.
    const where = options.data === undefined ? 'in memory: gone when stopped' : `data in ${options.data}`
    const lines = [`spacebox is serving ${server.url} (region ${options.region}${options.profile === 'spaces' ? ', answering as Spaces' : ''}, ${where})`]
    if (tls !== undefined) {
      lines.push(`TLS certificate ${tls.certFile}${tls.selfSigned ? ' (self-signed)' : ''}, SHA-256 fingerprint ${tls.fingerprint}`)
      if (tls.selfSigned) lines.push(`  clients trust it with: curl --cacert ${tls.certFile}, AWS_CA_BUNDLE=${tls.certFile}, NODE_EXTRA_CA_CERTS=${tls.certFile}`)
    }
    if (options.console) lines.push(`Web console: ${server.url}${CONSOLE_PATH}/ (sign in with the admin token)`)
    if (server.websitePort !== undefined) lines.push(`Bucket websites on port ${server.websitePort}: ${tls === undefined ? 'http' : 'https'}://<bucket>.localhost:${server.websitePort}/ (the Host names the bucket)`)
    if (admin.token !== undefined) {
      const kept = options.data === undefined ? 'a new one every start with --memory' : `only its SHA-256 is kept, in ${join(options.data, 'admin.json')}`
      lines.push('', `Admin token of the keys API, shown this once (${kept}):`, `  export SPACEBOX_ADMIN_TOKEN=${admin.token}`)
    }
    io.stdout.write(`${lines.join('\n')}\n`)
    if (options.tls.kind === 'none' && options.tls.insecure && !isLoopback(options.host)) {
      io.stderr.write(`spacebox: warning: plain HTTP on ${options.host}: the admin token and every request cross the network in clear text\n`)
    }
    for (const bucket of options.buckets) io.stdout.write(`Bucket ${bucket}: ${await ensureBucket(box, bucket)}\n`)
    for (const line of describeKmsKeys(options.kmsKeys, kmsKeysBefore, options.region, options.data === undefined)) io.stdout.write(`${line}\n`)
    if (options.key !== undefined) io.stdout.write(`\n${(await ensureKey(box, options.key, server.url, options.region, io)).join('\n')}\n`)
  } catch (err) {
    await server?.close()
    await box.close()
    await tls?.cleanup()
    throw err
  }
  const running = server
  let stopped: Promise<void> | undefined
  return {
    url: running.url,
    port: running.port,
    grace: options.grace,
    stop: async () => {
      stopped ??= running.close({ timeout: options.grace }).then(async () => {
        await box.close()
        await tls?.cleanup()
      })
      await stopped
    }
  }
}

async function openStore (options: ServeOptions): Promise<Spacebox> {
  try {
    if (options.data === undefined) return await Spacebox.open({ memory: true, region: options.region, kmsKeys: options.kmsKeys })
    // The directory holds the store's key file and admin.json: the owner's alone.
    await privateDir(options.data)
    return await Spacebox.open({ location: join(options.data, 'store'), region: options.region, kmsKeys: options.kmsKeys })
  } catch (err) {
    if (isSpaceboxError(err, 'StoreLocked')) throw new CliError(`${String(options.data)} is in use by another spacebox (its store is locked)`)
    throw new CliError(`cannot open the store${options.data === undefined ? '' : ` in ${options.data}`}: ${(err as Error).message}`)
  }
}

/**
 * Warn on stderr of what other local users can reach: an existing data directory keeps its mode
 * (a store made by an older spacebox, or a directory shared on purpose), so the owner decides.
 */
async function warnIfShared (data: string, io: Io): Promise<void> {
  if (process.platform === 'win32') return
  for (const path of [data, join(data, 'store'), join(data, 'store.key')]) {
    const mode = (await stat(path).catch(() => undefined))?.mode ?? 0
    if ((mode & SHARED_BITS) !== 0) {
      io.stderr.write(`spacebox: warning: ${path} is open to other local users (mode ${(mode & 0o777).toString(8)}); \`chmod go-rwx ${path}\` makes it the owner's alone\n`)
    }
  }
}

async function listen (box: Spacebox, options: ServeOptions, adminSha256: string, tls: TlsSetup | undefined): Promise<S3Server> {
  try {
    return await createS3Server(box, {
      host: options.host,
      port: options.port,
      region: options.region,
      profile: options.profile,
      adminToken: { sha256: adminSha256 },
      ...(options.console ? { console: consoleOf(box, options, adminSha256) } : {}),
      ...(tls === undefined ? {} : { tls: { cert: tls.cert, key: tls.key } }),
      ...(options.websitePort === undefined ? {} : { websitePort: options.websitePort })
    })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why = code === 'EADDRINUSE' ? 'the address is in use' : code === 'EACCES' ? 'permission denied' : (err as Error).message
    throw new CliError(`cannot listen on ${options.host}:${options.port}: ${why}`)
  }
}

/** The web console, with the pages built beside the command (dist/console/ui). */
function consoleOf (box: Spacebox, options: ServeOptions, adminSha256: string): ReturnType<typeof createConsole> {
  const isAdmin = adminCheck({ sha256: adminSha256 })
  if (isAdmin === undefined) throw new Error('the console needs the admin token')
  return createConsole(box, { isAdmin, assets: fileURLToPath(new URL('../console/ui/', import.meta.url)), region: options.region })
}

async function ensureBucket (box: Spacebox, name: string): Promise<string> {
  try {
    await box.createBucket(name)
    return 'created'
  } catch (err) {
    if (isSpaceboxError(err, 'BucketAlreadyOwnedByYou')) return 'exists'
    throw new CliError(`--bucket ${name}: ${(err as Error).message}`)
  }
}

/** Create the key unless one of that name exists (a restart with the same command makes no second key). */
async function ensureKey (box: Spacebox, { name, grants }: { name: string, grants: Grant[] }, url: string, region: string, io: Io): Promise<string[]> {
  const existing = box.keys.list({ name })[0]
  if (existing !== undefined) {
    const had = existing.grants.map(formatGrant).join(' ')
    if (had !== grants.map(formatGrant).join(' ')) io.stderr.write(`spacebox: key ${JSON.stringify(name)} exists with grants ${had}; left unchanged\n`)
    return [`Access key ${JSON.stringify(name)} exists: ${existing.accessKeyId} (its secret was shown when it was made; \`spacebox keys regenerate ${existing.accessKeyId}\` makes a new one)`]
  }
  try {
    const key = await box.keys.create({ name, grants })
    return [
      `Access key ${JSON.stringify(name)} (${grants.map(formatGrant).join(' ')}), secret shown this once:`,
      `  export AWS_ACCESS_KEY_ID=${key.accessKeyId}`,
      `  export AWS_SECRET_ACCESS_KEY=${key.secretAccessKey}`,
      `  export AWS_DEFAULT_REGION=${region}`,
      `  aws --endpoint-url ${url} s3 ls`
    ]
  } catch (err) {
    throw new CliError(`--key ${name}: ${(err as Error).message}`)
  }
}

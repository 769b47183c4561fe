// Shared by the interop tests: the built `spacebox serve` in a child process, unmodified S3 clients
// run as commands against it, and an SDK client with the full-access key to check what they did.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { accessSync, constants, existsSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { delimiter, dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { HeadObjectCommand, ListBucketsCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { Grant } from '../../lib/index.js'

export { bytes, tempDir } from '../helpers.js'

type Tap = { teardown: (fn: () => unknown) => void }

/** The compiled command line, as `npm run build` leaves it. */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

export const MiB = 1024 * 1024

export interface Credentials { accessKeyId: string, secretAccessKey: string }

/** A `spacebox serve --memory` child process. */
export interface Server {
  /** `http://127.0.0.1:PORT` as the server printed it. */
  url: string
  host: string
  port: number
  adminToken: string
  /** The key made by `--key`. */
  key: Credentials
  /** Everything the server wrote so far. */
  stdout: () => string
  stderr: () => string
  /** A new key with these grants, through the keys API (`POST /v2/spaces/keys`). */
  createKey: (name: string, grants: Grant[]) => Promise<Credentials>
  /** SIGTERM, then its exit code once it has exited (SIGKILL after 10 s). Safe to call twice. */
  stop: () => Promise<number | null>
}

/** Why the interop tests cannot run at all here, or undefined. */
export function cliMissing (): string | undefined {
  return existsSync(CLI) ? undefined : `${relative(process.cwd(), CLI)} is missing: run \`npm run build\` first`
}

/**
 * Start `node dist/cli/main.js serve --memory --host 127.0.0.1 --port 0 --region us-east-1` with
 * these buckets and one full-access key, and read the address, admin token and key from its stdout.
 * Stopped when the test ends.
 */
export async function startServer (t: Tap, { buckets = [] }: { buckets?: string[] } = {}): Promise<Server> {
  const args = [CLI, 'serve', '--memory', '--host', '127.0.0.1', '--port', '0', '--region', 'us-east-1', '--key', 'interop', '--full-access']
  for (const bucket of buckets) args.push('--bucket', bucket)
  // Without tap's NODE_OPTIONS (its TypeScript and coverage hooks): the server runs as users run it.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
  let stopping: Promise<number | null> | undefined
  const stop = async (): Promise<number | null> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    })()
    return await stopping
  }
  t.teardown(stop)

  // The key's block ends with an example `aws ... s3 ls` line: all of it is printed by then.
  const ready = /aws --endpoint-url \S+ s3 ls\n/
  const deadline = Date.now() + 15_000
  while (!ready.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop()
      throw new Error(`spacebox serve did not start: ${out}${err}`)
    }
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  const pick = (pattern: RegExp): string => {
    const value = pattern.exec(out)?.[1]
    if (value === undefined) throw new Error(`spacebox serve printed no ${String(pattern)}: ${out}`)
    return value
  }
  const url = pick(/serving (http:\/\/\S+)/)
  const { hostname, port } = new URL(url)
  const adminToken = pick(/SPACEBOX_ADMIN_TOKEN=(\S+)/)
  const key = { accessKeyId: pick(/AWS_ACCESS_KEY_ID=(\S+)/), secretAccessKey: pick(/AWS_SECRET_ACCESS_KEY=(\S+)/) }
  return {
    url,
    host: hostname,
    port: Number(port),
    adminToken,
    key,
    stdout: () => out,
    stderr: () => err,
    stop,
    async createKey (name, grants) {
      const res = await fetch(`${url}/v2/spaces/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name, grants })
      })
      const body = await res.json() as { key?: { access_key: string, secret_key: string } }
      if (res.status !== 201 || body.key === undefined) throw new Error(`keys API answered ${res.status}: ${JSON.stringify(body)}`)
      return { accessKeyId: body.key.access_key, secretAccessKey: body.key.secret_key }
    }
  }
}

/** The full path of a command on PATH, or undefined. */
export function which (command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const path = join(dir, command)
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return undefined
}

/**
 * The environment for a client: this process's, without any AWS_*, RCLONE_*, RESTIC_* or proxy
 * setting that could point it elsewhere (AWS_CA_BUNDLE alone makes rclone refuse to start), with
 * HOME in a temp dir so no user config is read, and these variables added.
 */
export function clientEnv (home: string, vars: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(AWS_|RCLONE_|RESTIC_|S3CMD)|^(https?|all|no)_proxy$/i.test(name)) continue
    env[name] = value
  }
  return { ...env, HOME: home, NO_PROXY: '127.0.0.1,localhost', ...vars }
}

export interface Ran {
  /** Exit code; null when killed (see `signal`). */
  code: number | null
  signal: string | null
  stdout: string
  stderr: string
  /** Milliseconds it took. */
  ms: number
}

export interface RunOptions {
  env: Record<string, string>
  cwd?: string
  /** SIGKILL after this many ms (default 60 000). */
  timeout?: number
  /** SIGTERM as soon as stderr matches: for a client that would retry a refusal for a long time. */
  stopWhen?: RegExp
}

/** Run a command without a shell or stdin, capturing its output. */
export async function run (command: string, args: string[], options: RunOptions): Promise<Ran> {
  const started = Date.now()
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout.on('data', (b: Buffer) => out.push(b))
  child.stderr.on('data', (b: Buffer) => {
    err.push(b)
    if (options.stopWhen?.test(Buffer.concat(err).toString('utf8')) === true) child.kill('SIGTERM')
  })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, options.timeout ?? 60_000)
  try {
    const [code, signal] = await once(child, 'close') as [number | null, string | null]
    return { code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: Date.now() - started }
  } finally {
    clearTimeout(timer)
  }
}

/** What a failed command said, for an assertion's message. */
export function said (ran: Ran): string {
  if (ran.code === 0) return `exits 0 (${ran.ms} ms)`
  return `exit ${String(ran.code ?? ran.signal)} after ${ran.ms} ms: ${(ran.stderr || ran.stdout).trim().slice(-800)}`
}

export function sha256 (data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex')
}

/** Write files (relative path → contents) under root, making folders as needed. */
export async function writeTree (root: string, files: Record<string, Uint8Array | string>): Promise<void> {
  for (const [path, data] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), data)
  }
}

/** Every file under root as relative path (with `/`) → `size:sha256`, sorted by path. */
export async function digestTree (root: string): Promise<Record<string, string>> {
  const files: string[] = []
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(join(dir, entry.name))
      else if (entry.isFile()) files.push(join(dir, entry.name))
    }
  }
  await walk(root)
  files.sort()
  const digest: Record<string, string> = {}
  for (const file of files) {
    const data = await readFile(file)
    digest[relative(root, file).split('\\').join('/')] = `${data.length}:${sha256(data)}`
  }
  return digest
}

/** The same digests for files given in memory. */
export function digestFiles (files: Record<string, Uint8Array | string>): Record<string, string> {
  const digest: Record<string, string> = {}
  for (const path of Object.keys(files).sort()) {
    const data = files[path] ?? ''
    digest[path] = `${Buffer.byteLength(data)}:${sha256(data)}`
  }
  return digest
}

/**
 * The AWS SDK with the server's full-access key: an independent look at what a client did, and a
 * quick way to seed objects a client then reads.
 */
export interface Oracle {
  put: (bucket: string, key: string, body: string | Uint8Array) => Promise<void>
  buckets: () => Promise<string[]>
  /** Every key under prefix, in order, over as many pages as it takes. */
  keys: (bucket: string, prefix?: string) => Promise<string[]>
  /** The object's ETag, or undefined when it does not exist. */
  etag: (bucket: string, key: string) => Promise<string | undefined>
}

export function oracle (t: Tap, server: Server): Oracle {
  const client = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: server.key, maxAttempts: 1 })
  t.teardown(() => { client.destroy() })
  return {
    async put (bucket, key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))
    },
    async buckets () {
      return ((await client.send(new ListBucketsCommand({}))).Buckets ?? []).map(b => b.Name ?? '')
    },
    async keys (bucket, prefix = '') {
      const keys: string[] = []
      let token: string | undefined
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }))
        for (const o of page.Contents ?? []) keys.push(o.Key ?? '')
        token = page.NextContinuationToken
      } while (token !== undefined)
      return keys
    },
    async etag (bucket, key) {
      try {
        return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag
      } catch (err) {
        if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined
        throw err
      }
    }
  }
}

import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { mirror, storeEndpoint, type MirrorEndpoint, type MirrorOptions, type MirrorResult, type Spacebox } from '../index.js'
import { s3Endpoint } from '../s3/index.js'
import { size } from './format.js'
import { CliError, UsageError, type Io } from './io.js'
import { Progress } from './progress.js'
import { openStopped } from './stopped-store.js'

const SIDE = /^(s3|store):\/\/(?:([^/]+)(?:\/(.*))?)?$/

interface Side { kind: 's3' | 'store', bucket?: string, prefix: string }

/**
 * `spacebox mirror SRC DST`: copy buckets between a stopped store (`store://`, `--data DIR`) and an
 * S3 endpoint (`s3://`, `--endpoint URL`), either way, or between two buckets of one. Progress on
 * stderr (a redrawn line on a terminal, a line every few seconds otherwise), or `--json` events on
 * stdout; a summary at the end; CliError (exit 1) when any object failed.
 */
export async function mirrorCommand (args: string[], io: Io): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      data: { type: 'string' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      profile: { type: 'string' },
      ca: { type: 'string' },
      'virtual-hosted': { type: 'boolean' },
      'from-endpoint': { type: 'string' },
      'from-region': { type: 'string' },
      'from-profile': { type: 'string' },
      'from-ca': { type: 'string' },
      versions: { type: 'boolean' },
      delete: { type: 'boolean' },
      decrypt: { type: 'boolean' },
      acl: { type: 'boolean' },
      tags: { type: 'boolean' },
      'sse-c-key': { type: 'string' },
      concurrency: { type: 'string' },
      json: { type: 'boolean' }
    },
    strict: true,
    allowPositionals: true
  })
  if (positionals.length !== 2) throw new UsageError('mirror needs SRC and DST, each s3://[BUCKET[/PREFIX]] or store://[BUCKET[/PREFIX]]')
  const [from, to] = positionals.map(sideOf) as [Side, Side]
  if ((from.bucket === undefined) !== (to.bucket === undefined)) throw new UsageError('mirror: name a bucket on both sides, or on neither (every bucket)')
  // --from-* set the source apart when both sides are s3://: another service, or other credentials.
  const fromValues = {
    endpoint: values['from-endpoint'] ?? values.endpoint,
    region: values['from-region'] ?? values.region,
    profile: values['from-profile'] ?? values.profile,
    ca: values['from-ca'] ?? values.ca,
    'virtual-hosted': values['virtual-hosted']
  }
  const apart = ['from-endpoint', 'from-region', 'from-profile', 'from-ca'].some(name => values[name as keyof typeof values] !== undefined)
  if (apart && from.kind !== 's3') throw new UsageError('mirror: --from-endpoint, --from-region, --from-profile and --from-ca describe an s3:// source')
  if (from.bucket === undefined && from.kind === to.kind && !apart) throw new UsageError('mirror: every bucket of a place onto itself copies nothing; name the buckets')
  const concurrency = values.concurrency === undefined ? 4 : Number(values.concurrency)
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new UsageError(`--concurrency ${JSON.stringify(values.concurrency)}: a whole number from 1 to 64`)
  const sides = [from.kind, to.kind]
  if (sides.includes('store') && values.data === undefined) throw new UsageError('mirror: store:// needs --data DIR')

  let box: Spacebox | undefined
  try {
    let store: MirrorEndpoint | undefined
    if (sides.includes('store')) {
      box = await openStopped(values.data as string, 'stop it first, or mirror through its S3 endpoint (s3:// with --endpoint)')
      store = storeEndpoint(box)
    }
    const source = from.kind === 's3' ? remote(fromValues, io.env) : store as MirrorEndpoint
    const target = to.kind === 's3' ? remote(values, io.env) : store as MirrorEndpoint
    const progress = new Progress(io, values.json === true)
    const options: MirrorOptions = {
      ...(from.bucket === undefined ? {} : { bucket: from.bucket, targetBucket: to.bucket as string }),
      prefix: from.prefix,
      ...(to.bucket === undefined || to.prefix === from.prefix ? {} : { targetPrefix: to.prefix }),
      versions: values.versions === true,
      delete: values.delete === true,
      decrypt: values.decrypt === true,
      acl: values.acl === true,
      tags: values.tags === true,
      ...(values['sse-c-key'] === undefined ? {} : { customerKey: customerKeyFrom(values['sse-c-key']) }),
      concurrency,
      signal: io.signal,
      onEvent: event => { progress.event(event) }
    }
    let result: MirrorResult
    try {
      result = await mirror(source, target, options)
    } catch (err) {
      progress.stop()
      if (io.signal.aborted) throw new CliError('interrupted; what was copied stays, and running the same command again copies the rest')
      throw err
    }
    progress.done(`copied ${result.copied} (${size(result.bytes)}), unchanged ${result.unchanged}, deleted ${result.deleted}, ` +
      `skipped ${result.skipped.length}, failed ${result.failed.length}`, {
      copied: result.copied, bytes: result.bytes, unchanged: result.unchanged, deleted: result.deleted, skipped: result.skipped.length, failed: result.failed.length
    })
    if (result.failed.length > 0) throw new CliError(`${result.failed.length} failed (listed above)`)
  } finally {
    await box?.close()
  }
}

/** An SSE-C key from a file: its 32 bytes, or their base64 (as `openssl rand -base64 32` writes it). */
function customerKeyFrom (file: string): Buffer {
  let bytes: Buffer
  try {
    bytes = readFileSync(file)
  } catch (err) {
    throw new CliError(`--sse-c-key ${file}: ${(err as Error).message}`)
  }
  if (bytes.length === 32) return bytes
  const decoded = Buffer.from(bytes.toString('utf8').trim(), 'base64')
  if (decoded.length === 32) return decoded
  throw new UsageError(`--sse-c-key ${file}: an SSE-C key is 32 bytes, or their base64`)
}

function sideOf (text: string): Side {
  const match = SIDE.exec(text)
  if (match === null) throw new UsageError(`mirror: ${JSON.stringify(text)} is neither s3://[BUCKET[/PREFIX]] nor store://[BUCKET[/PREFIX]]`)
  const [, kind, bucket, prefix = ''] = match
  return { kind: kind as Side['kind'], ...(bucket === undefined ? {} : { bucket }), prefix }
}

/**
 * The S3 side, configured as the AWS CLI is: --endpoint or AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL;
 * credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, else the profile (--profile or
 * AWS_PROFILE, default `default`) in the shared credentials file; the region from --region,
 * AWS_REGION, AWS_DEFAULT_REGION or the profile's config.
 */
function remote (values: { endpoint?: string | undefined, region?: string | undefined, profile?: string | undefined, ca?: string | undefined, 'virtual-hosted'?: boolean | undefined }, env: Io['env']): MirrorEndpoint {
  const profile = values.profile ?? env.AWS_PROFILE ?? 'default'
  const credentials = iniSection(env.AWS_SHARED_CREDENTIALS_FILE ?? join(homedir(), '.aws', 'credentials'), profile)
  const config = iniSection(env.AWS_CONFIG_FILE ?? join(homedir(), '.aws', 'config'), profile === 'default' ? 'default' : `profile ${profile}`)
  const fromEnv = values.profile === undefined && env.AWS_ACCESS_KEY_ID !== undefined
  const accessKeyId = fromEnv ? env.AWS_ACCESS_KEY_ID : credentials.aws_access_key_id
  const secretAccessKey = fromEnv ? env.AWS_SECRET_ACCESS_KEY : credentials.aws_secret_access_key
  const sessionToken = fromEnv ? env.AWS_SESSION_TOKEN : credentials.aws_session_token
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new CliError(`no credentials for s3://: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give --profile NAME of ~/.aws/credentials (profile ${JSON.stringify(profile)} has none)`)
  }
  const region = values.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? config.region ?? 'us-east-1'
  const endpoint = values.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL ?? config.endpoint_url ?? `https://s3.${region}.amazonaws.com`
  let ca: Buffer | undefined
  if (values.ca !== undefined) {
    try {
      ca = readFileSync(values.ca)
    } catch (err) {
      throw new CliError(`--ca ${values.ca}: ${(err as Error).message}`)
    }
  }
  try {
    return s3Endpoint({
      endpoint,
      region,
      accessKeyId,
      secretAccessKey,
      ...(sessionToken === undefined ? {} : { sessionToken }),
      ...(ca === undefined ? {} : { ca }),
      virtualHosted: values['virtual-hosted'] === true
    })
  } catch (err) {
    throw new UsageError(`--endpoint ${JSON.stringify(endpoint)}: ${(err as Error).message}`)
  }
}

/** One `[section]` of an AWS INI file as name → value; empty when the file or section is missing. */
function iniSection (file: string, section: string): Record<string, string> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return {}
  }
  const out: Record<string, string> = {}
  let inside = false
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue
    const header = /^\[\s*(.+?)\s*\]$/.exec(line)
    if (header !== null) {
      inside = header[1] === section
      continue
    }
    const pair = /^([^=]+?)\s*=\s*(.*)$/.exec(line)
    if (inside && pair !== null) out[(pair[1] as string).toLowerCase()] = pair[2] as string
  }
  return out
}

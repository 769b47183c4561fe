import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { isKmsKeyName, kmsKeyArn } from '../crypto/kms-arn.js'
import { keyFileIds, keyFilePath } from '../crypto/master-key.js'
import { table } from './format.js'
import { CliError, UsageError, type Io } from './io.js'
import { openStopped } from './stopped-store.js'

const NAME_RULE = '1 to 64 letters, digits, - or _, starting with a letter or digit'

/** A KMS key name from the command line; UsageError naming the rule otherwise. */
export function kmsKeyName (name: string, option: string): string {
  if (!isKmsKeyName(name)) throw new UsageError(`${option} ${JSON.stringify(name)} is not a KMS key name (${NAME_RULE})`)
  return name
}

/** The master key ids a data directory's key file holds now (none if it has no key file yet). */
export async function kmsKeysIn (data: string): Promise<Set<string>> {
  try {
    return new Set((await keyFileIds(join(data, 'store')))?.ids ?? [])
  } catch {
    // A malformed key file: opening the store says what is wrong with it.
    return new Set()
  }
}

/** What `serve --kms-key` says of each key, with the ARN clients may name it by. */
export function describeKmsKeys (names: string[], existing: Set<string>, region: string, memory: boolean): string[] {
  return [...new Set(names)].map(name => {
    const state = existing.has(name) ? 'exists' : memory ? 'created (in memory: gone when stopped)' : 'created'
    return `KMS key ${name}: ${state}, ${kmsKeyArn(region, name)}`
  })
}

/**
 * `spacebox kms create NAME` and `spacebox kms list`: the named master keys of a data directory's
 * key file (`<data>/store.key`), offline. `create` opens the store with the key asked for, so it
 * takes the store's lock: refused while a server runs, and never racing another writer of the
 * file. `list` only reads the file, which is always replaced whole, so it works at any time.
 * Key material is never printed.
 */
export async function kmsCommand (argv: string[], io: Io): Promise<void> {
  const [sub = '', ...rest] = argv
  if (sub !== 'create' && sub !== 'list') throw new UsageError(sub === '' ? 'kms needs a subcommand: create or list' : `unknown kms subcommand ${JSON.stringify(sub)}`)
  const { values, positionals } = parseArgs({
    args: rest,
    options: { data: { type: 'string' }, region: { type: 'string', default: 'nyc3' } },
    strict: true,
    allowPositionals: true
  })
  const { data, region } = values
  // As compact: a store is named on purpose, never ./data by default.
  if (data === undefined) throw new UsageError(`kms ${sub} needs --data DIR`)
  if (sub === 'list') {
    if (positionals.length > 0) throw new UsageError('kms list takes no arguments')
    io.stdout.write(`${await list(data, region)}\n`)
    return
  }
  if (positionals.length !== 1) throw new UsageError('kms create takes one NAME')
  const name = kmsKeyName(positionals[0] as string, 'kms create')
  await create(data, name)
  io.stdout.write(`Created KMS key ${name} in ${keyFilePath(join(data, 'store'))} (32 random bytes, never shown).\n` +
    `Name it as ${name} or ${kmsKeyArn(region, name)} (for buckets in ${region}).\n`)
}

async function create (data: string, name: string): Promise<void> {
  const location = join(data, 'store')
  if (await stat(location).catch(() => undefined) === undefined) {
    throw new CliError(`${data} holds no store (\`spacebox serve --data ${data} --kms-key ${name}\` makes one with this key)`)
  }
  if ((await kmsKeysIn(data)).has(name)) throw new CliError(`KMS key ${name} exists already in ${keyFilePath(location)}`)
  // The store is open only for the key file to change under its lock.
  const box = await openStopped(data, `stop it first, or restart it with --kms-key ${name}`, { kmsKeys: [name] })
  await box.close()
}

async function list (data: string, region: string): Promise<string> {
  const location = join(data, 'store')
  let file: { current: string, ids: string[] } | undefined
  try {
    file = await keyFileIds(location)
  } catch (err) {
    throw new CliError((err as Error).message)
  }
  if (file === undefined) throw new CliError(`${data} has no key file (${keyFilePath(location)}): is it a spacebox data directory?`)
  const rows = file.ids.map(id => [id, kmsKeyArn(region, id), id === file.current ? 'yes' : ''])
  return table(['NAME', `ARN (${region})`, 'DEFAULT'], rows)
}

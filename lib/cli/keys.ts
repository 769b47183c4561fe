import { parseArgs } from 'node:util'
import type { Grant } from '../index.js'
import { table } from './format.js'
import { formatGrant, grantsOf } from './grants.js'
import { CliError, UsageError, type Io } from './io.js'

/** A key as the keys API shows it (snake case, ISO dates). */
interface KeyJson {
  name: string
  access_key: string
  grants: Grant[]
  created_at: string
  disabled: boolean
  expires_at?: string
  rate_limit?: number
  secret_key?: string
}

interface UsageJson {
  requests: Record<string, number>
  bytes_in: number
  bytes_out: number
  denied: number
  last_used?: string
  last_denied?: { at: string, operation: string, reason: string }
}

interface AccessJson {
  access_key: string
  name: string
  permission: string
  prefix?: string
  disabled: boolean
  expires_at?: string
}

export interface Client {
  endpoint: string
  token: string
  signal: AbortSignal
}

const OPTIONS = {
  endpoint: { type: 'string', default: 'http://127.0.0.1:9000' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  name: { type: 'string' },
  grant: { type: 'string', multiple: true },
  'full-access': { type: 'boolean' },
  bucket: { type: 'string' },
  permission: { type: 'string' },
  expires: { type: 'string' },
  'rate-limit': { type: 'string' }
} as const

type Values = ReturnType<typeof parseArgs<{ args: string[], options: typeof OPTIONS, allowPositionals: true }>>['values']

/** A subcommand: its arguments, the options of its own, and what it does with the API. */
interface Subcommand {
  args: string[]
  options?: Array<keyof typeof OPTIONS>
  /** The API's answer (printed with --json) and its readable form. */
  run: (client: Client, args: string[], values: Values) => Promise<{ answer?: unknown, text: string }>
}

/** How long a request to the keys API may take: its answers are small and quick. */
const TIMEOUT = 30_000

const keyPath = (id: string): string => `/v2/spaces/keys/${encodeURIComponent(id)}`

const SUBCOMMANDS: Record<string, Subcommand> = {
  create: {
    args: [],
    options: ['name', 'grant', 'full-access', 'expires', 'rate-limit'],
    async run (client, args, values) {
      if (values.name === undefined) throw new UsageError('keys create needs --name NAME')
      return keyAnswer(await call(client, 'POST', '/v2/spaces/keys', { name: values.name, grants: grantsOf(values.grant, values['full-access']), ...limitsOf(values) }))
    }
  },
  update: {
    args: ['ACCESS_KEY'],
    options: ['grant', 'full-access', 'expires', 'rate-limit'],
    async run (client, [id = ''], values) {
      const changes: Record<string, unknown> = limitsOf(values)
      if (values.grant !== undefined || values['full-access'] === true) changes.grants = grantsOf(values.grant, values['full-access'])
      if (Object.keys(changes).length === 0) throw new UsageError('keys update needs --grant (or --full-access), --expires or --rate-limit')
      return keyAnswer(await call(client, 'PATCH', keyPath(id), changes))
    }
  },
  disable: {
    args: ['ACCESS_KEY'],
    run: async (client, [id = '']) => keyAnswer(await call(client, 'PATCH', keyPath(id), { disabled: true }))
  },
  enable: {
    args: ['ACCESS_KEY'],
    run: async (client, [id = '']) => keyAnswer(await call(client, 'PATCH', keyPath(id), { disabled: false }))
  },
  usage: {
    args: ['ACCESS_KEY'],
    async run (client, [id = '']) {
      const answer = await call(client, 'GET', `${keyPath(id)}/usage`) as { usage: UsageJson }
      return { answer, text: describeUsage(answer.usage) }
    }
  },
  list: {
    args: [],
    options: ['bucket', 'name', 'permission'],
    async run (client, args, values) {
      const filter: Record<string, string> = {}
      for (const name of ['bucket', 'name', 'permission'] as const) {
        const value = values[name]
        if (value !== undefined) filter[name] = value
      }
      const answer = await listAll(client, filter)
      const rows = answer.keys.map(k => [k.access_key, k.name, k.grants.map(formatGrant).join(' '), k.created_at, status(k)])
      return { answer, text: table(['ACCESS KEY', 'NAME', 'GRANTS', 'CREATED', 'STATUS'], rows) }
    }
  },
  get: {
    args: ['ACCESS_KEY'],
    run: async (client, [id = '']) => keyAnswer(await call(client, 'GET', keyPath(id)))
  },
  rename: {
    args: ['ACCESS_KEY', 'NAME'],
    run: async (client, [id = '', name]) => keyAnswer(await call(client, 'PATCH', keyPath(id), { name }))
  },
  regenerate: {
    args: ['ACCESS_KEY'],
    run: async (client, [id = '']) => keyAnswer(await call(client, 'POST', `${keyPath(id)}/regenerate`))
  },
  delete: {
    args: ['ACCESS_KEY'],
    async run (client, [id = '']) {
      await call(client, 'DELETE', keyPath(id))
      return { answer: { deleted: id }, text: `Deleted access key ${id}.` }
    }
  },
  access: {
    args: ['BUCKET'],
    async run (client, [bucket = '']) {
      const answer = await call(client, 'GET', `/v2/spaces/buckets/${encodeURIComponent(bucket)}/access`) as { access: AccessJson[] }
      const rows = answer.access.map(a => [a.access_key, a.name, a.permission, a.prefix ?? '', status(a)])
      return { answer, text: table(['ACCESS KEY', 'NAME', 'PERMISSION', 'PREFIX', 'STATUS'], rows) }
    }
  }
}

/**
 * `spacebox keys <subcommand>`: manage access keys of a running server through its keys API,
 * authenticated with the admin token (`--token` or SPACEBOX_ADMIN_TOKEN, never printed).
 */
export async function keysCommand (argv: string[], io: Io): Promise<void> {
  const [name = '', ...rest] = argv
  const sub = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined
  if (sub === undefined) throw new UsageError(name === '' ? 'keys needs a subcommand' : `unknown keys subcommand ${JSON.stringify(name)}`)
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: true })
  const own = new Set<string>(['endpoint', 'token', 'json', ...sub.options ?? []])
  const foreign = Object.keys(values).find(option => !own.has(option))
  if (foreign !== undefined) throw new UsageError(`keys ${name} takes no --${foreign}`)
  if (positionals.length !== sub.args.length) throw new UsageError(`keys ${name} takes ${sub.args.length === 0 ? 'no arguments' : sub.args.join(' ')}`)
  const token = values.token ?? io.env.SPACEBOX_ADMIN_TOKEN ?? ''
  if (token === '') throw new UsageError('the admin token is needed: --token TOKEN or SPACEBOX_ADMIN_TOKEN (printed by the first `spacebox serve`)')
  const { answer, text } = await sub.run({ endpoint: values.endpoint, token, signal: io.signal }, positionals, values)
  if (values.json !== true) io.stdout.write(`${text}\n`)
  else if (answer !== undefined) io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`)
}

function keyAnswer (answer: unknown): { answer: unknown, text: string } {
  return { answer, text: describeKey((answer as { key: KeyJson }).key) }
}

/** Every page of the listing (of keys that have the name, reach the bucket, or hold the permission), oldest first, as one `{ keys, meta }`. */
async function listAll (client: Client, filter: Record<string, string>): Promise<{ keys: KeyJson[], meta: { total: number } }> {
  const keys: KeyJson[] = []
  for (let page = 1; ; page++) {
    const query = new URLSearchParams({ per_page: '200', page: String(page), sort: 'created_at', sort_direction: 'asc', ...filter })
    const answer = await call(client, 'GET', `/v2/spaces/keys?${query.toString()}`) as { keys: KeyJson[], meta: { total: number } }
    keys.push(...answer.keys)
    if (answer.keys.length === 0 || keys.length >= answer.meta.total) return { keys, meta: { total: keys.length } }
  }
}

/** One request to the keys API (or another admin API of the server); its JSON answer, or a CliError with the server's message. */
export async function call (client: Client, method: string, path: string, body?: unknown): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(new URL(path, client.endpoint), {
      method,
      headers: { authorization: `Bearer ${client.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.any([client.signal, AbortSignal.timeout(TIMEOUT)])
    })
  } catch (err) {
    if (client.signal.aborted) throw new CliError('interrupted')
    if ((err as Error).name === 'TimeoutError') throw new CliError(`no answer from ${client.endpoint} within ${TIMEOUT / 1000} s`)
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message
    throw new CliError(`cannot reach ${client.endpoint} (${cause}): is \`spacebox serve\` running there?`)
  }
  if (res.status === 204) return undefined
  let answer: { id?: string, message?: string }
  try {
    answer = JSON.parse(await res.text())
  } catch {
    throw new CliError(`${client.endpoint} answered ${res.status} without JSON: is it a spacebox server with the keys API on?`)
  }
  if (res.status === 401) throw new CliError('the admin token was refused (check --token or SPACEBOX_ADMIN_TOKEN)')
  if (!res.ok) throw new CliError(`${answer.message ?? 'request failed'} (${res.status} ${answer.id ?? ''})`)
  return answer
}

function describeKey (key: KeyJson): string {
  const rows: Array<[string, string]> = [
    ['Access key', key.access_key],
    ['Name', key.name],
    ['Grants', key.grants.length === 0 ? '(none)' : key.grants.map(formatGrant).join(' ')],
    ['Created', key.created_at],
    ['Status', status(key)]
  ]
  if (key.expires_at !== undefined) rows.push(['Expires', key.expires_at])
  if (key.rate_limit !== undefined) rows.push(['Rate limit', `${key.rate_limit} requests/s`])
  if (key.secret_key !== undefined) rows.push(['Secret', `${key.secret_key}  (shown this once)`])
  return rows.map(([label, value]) => `${label.padEnd(11)} ${value}`).join('\n')
}

function describeUsage (usage: UsageJson): string {
  const operations = Object.entries(usage.requests).sort(([a], [b]) => a < b ? -1 : 1)
  const total = operations.reduce((sum, [, n]) => sum + n, 0)
  const rows: Array<[string, string]> = [
    ['Requests', `${total}${operations.length === 0 ? '' : ` (${operations.map(([op, n]) => `${op} ${n}`).join(', ')})`}`],
    ['Bytes in', String(usage.bytes_in)],
    ['Bytes out', String(usage.bytes_out)],
    ['Denied', String(usage.denied)],
    ['Last used', usage.last_used ?? 'never']
  ]
  if (usage.last_denied !== undefined) rows.push(['Last denied', `${usage.last_denied.at} ${usage.last_denied.operation}: ${usage.last_denied.reason}`])
  return rows.map(([label, value]) => `${label.padEnd(11)} ${value}`).join('\n')
}

/**
 * `--expires DATE|never` and `--rate-limit N|none` as the API's fields: a date (2030-01-31 or
 * 2030-01-31T12:00:00Z) is checked by the server; `never` and `none` remove the limit.
 */
function limitsOf (values: Values): { expires_at?: string | null, rate_limit?: number | null } {
  const out: { expires_at?: string | null, rate_limit?: number | null } = {}
  if (values.expires !== undefined) out.expires_at = values.expires === 'never' ? null : values.expires
  const rate = values['rate-limit']
  if (rate !== undefined) {
    if (rate !== 'none' && !/^[1-9]\d{0,8}$/.test(rate)) throw new UsageError(`--rate-limit ${JSON.stringify(rate)}: a whole number of requests per second, or none`)
    out.rate_limit = rate === 'none' ? null : Number(rate)
  }
  return out
}

/** A key's state as the listings show it: disabled, expired or active. */
export function status (key: { disabled: boolean, expires_at?: string }): string {
  if (key.disabled) return 'disabled'
  return key.expires_at !== undefined && Date.parse(key.expires_at) <= Date.now() ? 'expired' : 'active'
}

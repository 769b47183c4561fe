import { parseArgs } from 'node:util'
import { parseAge, UPLOADS_PATH } from '../s3/uploads-api.js'
import { UsageError, type Io } from './io.js'
import { table } from './format.js'
import { call } from './keys.js'

/** An upload as the uploads API shows it. */
interface UploadJson {
  bucket: string
  key: string
  upload_id: string
  initiated: string
}

const OPTIONS = {
  endpoint: { type: 'string', default: 'http://127.0.0.1:9000' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  bucket: { type: 'string' },
  prefix: { type: 'string' },
  'older-than': { type: 'string' }
} as const

/**
 * `spacebox uploads list|abort`: the incomplete multipart uploads of a running server (the uploads
 * are where its clients left them, and the server holds the store), through its uploads API and
 * the admin token. `abort` needs --older-than, so that no upload still being sent goes by a slip.
 */
export async function uploadsCommand (argv: string[], io: Io): Promise<void> {
  const [name = '', ...rest] = argv
  if (name !== 'list' && name !== 'abort') {
    throw new UsageError(name === '' ? 'uploads needs a subcommand: list or abort' : `unknown uploads subcommand ${JSON.stringify(name)}`)
  }
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, strict: true, allowPositionals: true })
  if (positionals.length > 0) throw new UsageError(`uploads ${name} takes no arguments, only options (got ${JSON.stringify(positionals[0])})`)
  const age = values['older-than']
  if (age === undefined && name === 'abort') throw new UsageError('uploads abort needs --older-than AGE (0 aborts every upload)')
  if (age !== undefined && parseAge(age) === undefined) throw new UsageError(`--older-than ${JSON.stringify(age)} is not an age such as 0, 90s, 30m, 36h or 7d`)
  const token = values.token ?? io.env.SPACEBOX_ADMIN_TOKEN ?? ''
  if (token === '') throw new UsageError('the admin token is needed: --token TOKEN or SPACEBOX_ADMIN_TOKEN (printed by the first `spacebox serve`)')
  const query = new URLSearchParams()
  if (values.bucket !== undefined) query.set('bucket', values.bucket)
  if (values.prefix !== undefined) query.set('prefix', values.prefix)
  if (age !== undefined) query.set('older_than', age)
  const client = { endpoint: values.endpoint, token, signal: io.signal }
  const answer = await call(client, name === 'list' ? 'GET' : 'DELETE', `${UPLOADS_PATH}?${query.toString()}`) as { uploads: UploadJson[] }
  if (values.json === true) {
    io.stdout.write(`${JSON.stringify(answer, null, 2)}\n`)
    return
  }
  const rows = answer.uploads.map(u => [u.bucket, u.key, u.upload_id, u.initiated])
  const listing = table(['BUCKET', 'KEY', 'UPLOAD ID', 'INITIATED'], rows)
  if (name === 'list') io.stdout.write(`${listing}\n`)
  else io.stdout.write(rows.length === 0 ? 'No upload to abort.\n' : `Aborted ${rows.length} upload${rows.length === 1 ? '' : 's'}:\n${listing}\n`)
}

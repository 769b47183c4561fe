import type { IncomingMessage, ServerResponse } from 'node:http'
import { isSpaceboxError, type AbortedUpload, type Spacebox } from '../index.js'
import { ApiError, badRequest, sendError, sendJson } from './json-api.js'

/*
 * Incomplete multipart uploads, for the admin token (what `spacebox uploads` talks to):
 *
 *   GET    /_spacebox/uploads?bucket=&prefix=&older_than=   list them (every bucket unless one is named)
 *   DELETE /_spacebox/uploads?bucket=&prefix=&older_than=   abort them; older_than is required here
 *
 * `older_than` is an age (`0`, `90s`, `30m`, `36h`, `7d`), measured by the store's clock: uploads
 * initiated that long ago or earlier. Both answer `{ uploads: [{ bucket, key, upload_id, initiated }] }`,
 * the ones listed or aborted, in bucket, then key order.
 */

/** Where the uploads API is served. */
export const UPLOADS_PATH = '/_spacebox/uploads'

const PARAMETERS = ['bucket', 'prefix', 'older_than']
const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
const AGE = /^(\d{1,9})(s|m|h|d)$/

/** Milliseconds of an age written `0` or `<n>s|m|h|d`; undefined if it is not one. */
export function parseAge (text: string): number | undefined {
  if (text === '0') return 0
  const match = AGE.exec(text)
  return match === null ? undefined : Number(match[1]) * (UNITS[match[2] as string] as number)
}

/** Serve one request of the uploads API; never throws (errors become JSON, as the keys API's; `onError` hears of 500s). */
export async function handleUploadsApi (box: Spacebox, req: IncomingMessage, res: ServerResponse, requestId: string,
  isAdmin: (token: string) => boolean, onError: (err: unknown, requestId: string) => void): Promise<void> {
  try {
    const token = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')?.[1]
    if (token === undefined || !isAdmin(token)) throw new ApiError(401, 'unauthorized', 'Unable to authenticate you')
    if (req.method !== 'GET' && req.method !== 'DELETE') throw new ApiError(405, 'method_not_allowed', `${req.method ?? ''} is not allowed here`)
    const query = new URL(req.url ?? '/', 'http://localhost').searchParams
    // A misspelt filter (`?buckett=`) would act on every bucket instead of the one meant.
    const unknown = [...query.keys()].find(name => !PARAMETERS.includes(name))
    if (unknown !== undefined) throw badRequest(`Unknown query parameter ${JSON.stringify(unknown.slice(0, 64))}: the parameters are ${PARAMETERS.join(', ')}`)
    const age = query.get('older_than')
    if (age === null && req.method === 'DELETE') throw badRequest('older_than is required to abort uploads (0 aborts every one)')
    const olderThan = age === null ? 0 : parseAge(age)
    if (olderThan === undefined) throw badRequest(`older_than ${JSON.stringify(age)} is not an age such as 0, 90s, 30m, 36h or 7d`)
    const prefix = query.get('prefix') ?? ''
    const bucket = query.get('bucket')
    const buckets = bucket === null ? (await box.listBuckets()).map(b => b.name) : [bucket]
    const uploads: Array<Record<string, string>> = []
    for (const name of buckets) {
      let found: AbortedUpload[]
      try {
        found = (await box.abortIncompleteUploads(name, { olderThan, prefix, dryRun: req.method === 'GET' })).aborted
      } catch (err) {
        // A bucket deleted since it was listed has no uploads left; one named that does not exist is an error.
        if (bucket === null && isSpaceboxError(err, 'NoSuchBucket')) continue
        throw err
      }
      uploads.push(...found.map(u => ({ bucket: name, key: u.key, upload_id: u.uploadId, initiated: u.initiated.toISOString() })))
    }
    sendJson(res, requestId, 200, { uploads })
  } catch (err) {
    const error = toApiError(err)
    if (error.status === 500) onError(err, requestId)
    sendError(res, requestId, error)
  }
}

function toApiError (err: unknown): ApiError {
  if (err instanceof ApiError) return err
  if (isSpaceboxError(err, 'NoSuchBucket')) return new ApiError(404, 'not_found', err.message)
  if (isSpaceboxError(err, 'InvalidBucketName') || err instanceof TypeError) return badRequest(err.message)
  if (isSpaceboxError(err, 'NotOpen')) return new ApiError(503, 'service_unavailable', 'The store is closing; try again later.')
  return new ApiError(500, 'server_error', 'Server was unable to give you a response.')
}

// Talking to the server: the console's JSON API and the keys API, both on this origin. The session
// is an HttpOnly cookie the page never sees; what the page holds is the CSRF token, sent on every
// request that changes something. A 401 anywhere means the session is gone: the app shows sign-in.

/** The console's API. Absolute, so a page opened without its trailing slash still finds it. */
export const CONSOLE_API = '/_spacebox/console/api/'
/** The keys API (DigitalOcean's shape), as the server serves it again under the console's path, where the session's cookie goes. */
export const KEYS_API = `${CONSOLE_API}v2/spaces/`

/** A refusal from the server: its `id` (an engine code such as BucketNotEmpty) and its message for a human. */
export class ApiError extends Error {
  readonly status: number
  readonly id: string
  /** Seconds, from Retry-After (429). */
  readonly retryAfter: number | undefined

  constructor (status: number, id: string, message: string, retryAfter?: number) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.id = id
    this.retryAfter = retryAfter
  }
}

let csrf = ''
let signedOut: () => void = () => {}

/** Keep the CSRF token of the session (from sign-in or GET /api/session); '' once signed out. */
export function setCsrf (token: string): void {
  csrf = token
}

/** What to do when the server answers 401 to a signed-in request. */
export function onSignedOut (handler: () => void): void {
  signedOut = handler
}

function url (path: string): string {
  return path.startsWith('/') ? path : CONSOLE_API + path
}

const SAFE = new Set(['GET', 'HEAD'])

function headers (method: string, json: boolean): Record<string, string> {
  const out: Record<string, string> = { accept: 'application/json' }
  if (json) out['content-type'] = 'application/json'
  if (!SAFE.has(method)) out['x-csrf-token'] = csrf
  return out
}

function failure (status: number, statusText: string, body: unknown, retryAfter: string | null): ApiError {
  const data = (typeof body === 'object' && body !== null ? body : {}) as { id?: unknown, message?: unknown }
  const id = typeof data.id === 'string' ? data.id : `http_${status}`
  const message = typeof data.message === 'string' && data.message !== '' ? data.message : `The server answered ${status} ${statusText}`.trim()
  const seconds = retryAfter === null ? undefined : Number(retryAfter)
  return new ApiError(status, id, message, seconds !== undefined && Number.isFinite(seconds) ? seconds : undefined)
}

export interface CallOptions {
  /** A 401 is the answer itself (sign-in), not a lost session. */
  expect401?: boolean
}

/**
 * One JSON request. `path` is relative to the console's API unless it starts with "/".
 * Rejects with ApiError for any status but 2xx, and for a network failure (status 0).
 */
export async function call<T> (method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<T> {
  let res: Response
  try {
    res = await fetch(url(path), {
      method,
      headers: headers(method, body !== undefined),
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached. Is spacebox still running?')
  }
  const text = await res.text()
  let data: unknown
  try {
    data = text === '' ? undefined : JSON.parse(text)
  } catch {
    data = undefined
  }
  if (res.ok) return data as T
  if (res.status === 401 && options.expect401 !== true) signedOut()
  throw failure(res.status, res.statusText, data, res.headers.get('retry-after'))
}

export const get = async <T>(path: string, options?: CallOptions): Promise<T> => await call<T>('GET', path, undefined, options)
export const post = async <T>(path: string, body?: unknown, options?: CallOptions): Promise<T> => await call<T>('POST', path, body ?? {}, options)
export const put = async <T>(path: string, body: unknown): Promise<T> => await call<T>('PUT', path, body)
export const patch = async <T>(path: string, body: unknown): Promise<T> => await call<T>('PATCH', path, body)
export const del = async <T = undefined>(path: string): Promise<T> => await call<T>('DELETE', path)

/** A path segment: bucket names and ids are safe already, but nothing user-made goes into a URL unescaped. */
export function seg (value: string): string {
  return encodeURIComponent(value)
}

/** A query string from name/value pairs, leaving out the undefined ones. */
export function query (params: Record<string, string | number | undefined>): string {
  const out = new URLSearchParams()
  for (const [name, value] of Object.entries(params)) if (value !== undefined) out.set(name, String(value))
  const text = out.toString()
  return text === '' ? '' : `?${text}`
}

/**
 * Send bytes with PUT and report progress: fetch() cannot tell how much of a request body has gone,
 * XMLHttpRequest's upload events can. Resolves to the JSON answer; rejects with ApiError (status 0
 * for a network failure, id "aborted" when `signal` aborts it).
 */
export async function upload<T> (path: string, body: Blob, contentType: string, onProgress: (sent: number) => void, signal?: AbortSignal): Promise<T> {
  return await new Promise<T>((resolve, reject) => {
    const xhr = new XMLHttpRequest()
    xhr.open('PUT', url(path))
    xhr.setRequestHeader('content-type', contentType)
    xhr.setRequestHeader('accept', 'application/json')
    xhr.setRequestHeader('x-csrf-token', csrf)
    xhr.responseType = 'text'
    xhr.upload.onprogress = event => { onProgress(event.loaded) }
    const abort = (): void => { xhr.abort() }
    signal?.addEventListener('abort', abort, { once: true })
    const done = (): void => { signal?.removeEventListener('abort', abort) }
    xhr.onload = () => {
      done()
      let data: unknown
      try {
        data = xhr.responseText === '' ? undefined : JSON.parse(xhr.responseText)
      } catch {
        data = undefined
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size)
        resolve(data as T)
        return
      }
      if (xhr.status === 401) signedOut()
      reject(failure(xhr.status, xhr.statusText, data, xhr.getResponseHeader('retry-after')))
    }
    xhr.onerror = () => { done(); reject(new ApiError(0, 'network', 'The connection failed during the upload')) }
    xhr.onabort = () => { done(); reject(new ApiError(0, 'aborted', 'Upload cancelled')) }
    if (signal?.aborted === true) {
      reject(new ApiError(0, 'aborted', 'Upload cancelled'))
      return
    }
    xhr.send(body)
  })
}

// Client-side routes live in location.hash (#/buckets/photos?prefix=2024/), so the server serves one
// page and a reload or a bookmark comes back to the same view. Bucket names never hold "/", object
// keys and prefixes travel in the query.

export interface Route {
  /** The path's segments, decoded: ['buckets', 'photos', 'settings']. */
  path: string[]
  query: URLSearchParams
}

export function current (): Route {
  const hash = location.hash.replace(/^#\/?/, '')
  const at = hash.indexOf('?')
  const path = (at === -1 ? hash : hash.slice(0, at)).split('/').filter(s => s !== '').map(s => {
    try {
      return decodeURIComponent(s)
    } catch {
      return s
    }
  })
  return { path, query: new URLSearchParams(at === -1 ? '' : hash.slice(at + 1)) }
}

/** The href of a route: href(['buckets', name], { prefix: 'a/' }) → '#/buckets/name?prefix=a%2F'. */
export function href (path: string[], query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams()
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, value)
  const search = params.toString()
  return `#/${path.map(encodeURIComponent).join('/')}${search === '' ? '' : `?${search}`}`
}

export function go (path: string[], query: Record<string, string | undefined> = {}): void {
  location.hash = href(path, query)
}

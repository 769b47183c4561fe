import type { EndpointEntry } from './endpoint.js'

/** The same object on both sides: both delete markers, or the same size and ETag. */
export function same (a: EndpointEntry, b: EndpointEntry): boolean {
  if ((a.deleteMarker === true) !== (b.deleteMarker === true)) return false
  return a.deleteMarker === true || (a.size === b.size && a.etag === b.etag)
}

/** A version listing (each key's newest first) as each key's history, oldest first. */
export async function historyOf (listing: AsyncIterable<EndpointEntry>): Promise<Map<string, EndpointEntry[]>> {
  const out = new Map<string, EndpointEntry[]>()
  for await (const entry of listing) {
    let history = out.get(entry.key)
    if (history === undefined) out.set(entry.key, history = [])
    history.push(entry)
  }
  for (const history of out.values()) history.reverse()
  return out
}

// One object: what the store knows of it (metadata, checksums, type, size, ETag), download,
// delete, and a presigned link signed with a key the user picks among those that can read it, so
// the link stops working when that key is disabled, regenerated or deleted.
import { get, KEYS_API, post, query, seg } from './api.js'
import { confirmDialog } from './dialog.js'
import { announce, errorBox, field, h } from './dom.js'
import { bytes, date, duration } from './format.js'
import { bucketTabs, failed, loading, pageHeader, problem } from './layout.js'
import { downloadUrl, deleteKeys, folderCrumbs } from './browser.js'
import { go, href, type Route } from './router.js'
import type { BucketAccess, ObjectDetails } from './types.js'

const EXPIRIES = [300, 3600, 12 * 3600, 86400, 7 * 86400]

function facts (rows: Array<[string, Node | string | undefined]>): HTMLDListElement {
  const list = h('dl', { class: 'facts' })
  for (const [name, value] of rows) {
    if (value === undefined || value === '') continue
    list.append(h('div', {}, h('dt', {}, name), h('dd', {}, value)))
  }
  return list
}

export async function objectPage (view: HTMLElement, route: Route): Promise<void> {
  const bucket = route.path[1] ?? ''
  const key = route.query.get('key') ?? ''
  const folder = key.slice(0, key.lastIndexOf('/') + 1)
  const name = key.slice(folder.length)
  const crumbs = [...folderCrumbs(bucket, folder), { label: name }]
  view.replaceChildren(pageHeader(name, crumbs), bucketTabs(bucket, 'objects'), loading('the object'))
  let info: ObjectDetails
  try {
    info = await get<ObjectDetails>(`buckets/${seg(bucket)}/object${query({ key })}`)
  } catch (err) {
    view.lastElementChild?.replaceWith(failed(err))
    return
  }
  const download = h('a', { href: downloadUrl(bucket, key), download: name, class: 'button primary', id: 'download' }, 'Download')
  const remove = h('button', { type: 'button', class: 'danger' }, 'Delete')
  remove.addEventListener('click', () => {
    confirmDialog({
      title: `Delete ${name}?`,
      message: `${key} is deleted from ${bucket} (in a versioned bucket, its older versions stay).`,
      confirmLabel: 'Delete object',
      danger: true,
      action: async () => { await deleteKeys(bucket, [key]) }
    }).then(ok => {
      if (!ok) return
      announce(`Deleted ${key}`)
      go(['buckets', bucket], { prefix: folder })
    })
  })

  const meta = Object.entries(info.metadata ?? {})
  const sums = Object.entries(info.checksums ?? {})
  view.replaceChildren(
    pageHeader(name, crumbs, download, remove),
    bucketTabs(bucket, 'objects'),
    h('section', { class: 'card', 'aria-labelledby': 'object-facts' },
      h('h2', { id: 'object-facts' }, 'Object'),
      facts([
        ['Key', h('span', { class: 'literal', id: 'object-key' }, info.key)],
        ['Size', `${bytes(info.size)} (${info.size.toLocaleString()} bytes)`],
        ['Content type', info.content_type],
        ['Last modified', date(info.last_modified)],
        ['ETag', h('code', {}, info.etag)],
        ['Storage class', info.storage_class],
        ['Version', info.version_id],
        ['Encryption', info.encryption],
        ['Content encoding', info.content_encoding],
        ['Cache control', info.cache_control],
        ['Content disposition', info.content_disposition]
      ])),
    h('section', { class: 'card', 'aria-labelledby': 'object-meta' },
      h('h2', { id: 'object-meta' }, 'Metadata'),
      meta.length === 0 ? h('p', { class: 'muted' }, 'No user metadata (x-amz-meta-*).') : facts(meta.map(([k, v]) => [k, v]))),
    h('section', { class: 'card', 'aria-labelledby': 'object-sums' },
      h('h2', { id: 'object-sums' }, 'Checksums'),
      sums.length === 0 ? h('p', { class: 'muted' }, 'No checksum was sent with this object beyond its ETag.') : facts(sums.map(([k, v]) => [k, h('code', {}, v)]))),
    await presignCard(bucket, key))
}

/** Keys that can read this object: enabled, not expired, and with a grant covering its key. */
function readers (access: BucketAccess[], key: string): BucketAccess[] {
  const now = Date.now()
  return access.filter(a => !a.disabled && (a.expires_at === undefined || Date.parse(a.expires_at) > now) && key.startsWith(a.prefix ?? ''))
}

async function presignCard (bucket: string, key: string): Promise<HTMLElement> {
  const card = h('section', { class: 'card', 'aria-labelledby': 'presign-title' }, h('h2', { id: 'presign-title' }, 'Share a link'))
  let access: BucketAccess[]
  try {
    access = readers((await get<{ access: BucketAccess[] }>(`${KEYS_API}buckets/${seg(bucket)}/access`)).access, key)
  } catch (err) {
    card.append(failed(err))
    return card
  }
  if (access.length === 0) {
    card.append(h('p', {}, 'A presigned link is signed with an access key that can read this object, and no such key exists. ',
      h('a', { href: href(['keys', 'new']) }, 'Create a key'), ' with read access to this bucket first.'))
    return card
  }
  const keySelect = h('select', { id: 'presign-key' }, ...access.map(a =>
    h('option', { value: a.access_key }, `${a.name} (${a.permission}${a.prefix === undefined ? '' : `, ${a.prefix}*`}) ${a.access_key}`)))
  const expiry = h('select', { id: 'presign-expiry' }, ...EXPIRIES.map(s => h('option', { value: s, selected: s === 3600 }, duration(s))))
  const result = h('div', { class: 'presign-result', 'aria-live': 'polite' })
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create link')
  const form = h('form', { novalidate: true },
    h('p', { class: 'muted' }, 'Anyone with the link can download this object until it expires, or until the signing key is disabled, regenerated or deleted.'),
    h('div', { class: 'row' }, field('Signed with key', keySelect), field('Expires after', expiry), h('div', { class: 'field submit' }, submit)),
    result)
  form.addEventListener('submit', event => {
    event.preventDefault()
    submit.disabled = true
    result.replaceChildren()
    post<{ url: string, expires_at: string }>(`buckets/${seg(bucket)}/presign`, { key, expires_in: Number(expiry.value), access_key: keySelect.value }).then(({ url, expires_at: expires }) => {
      const output = h('input', { type: 'text', readonly: true, value: url, id: 'presign-url', class: 'mono' })
      const copy = h('button', { type: 'button' }, 'Copy')
      copy.addEventListener('click', () => {
        navigator.clipboard.writeText(url).then(() => { copy.textContent = 'Copied' }, () => { output.select(); copy.textContent = 'Selected: press Ctrl+C' })
      })
      result.replaceChildren(field('Link', output), h('div', { class: 'copy-row' }, copy, h('span', { class: 'muted' }, 'Expires ', date(expires))))
      output.focus()
      output.select()
    }, (err: unknown) => { result.replaceChildren(errorBox(problem('No link', err))) }).finally(() => { submit.disabled = false })
  })
  card.append(form)
  return card
}

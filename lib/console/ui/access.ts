// "Who can reach this bucket": every key with a grant on it (or full access) and how, and what
// anyone can reach with no key at all (the bucket's ACL, its policy, public objects). Both lists
// come from the server's own evaluation, not from guessing here.
import { get, KEYS_API, seg } from './api.js'
import { h, table } from './dom.js'
import { date } from './format.js'
import { bucketTabs, failed, loading, pageHeader } from './layout.js'
import { href, type Route } from './router.js'
import type { BucketAccess, PublicAccess } from './types.js'

const PERMISSION: Record<string, string> = {
  read: 'Read: list and download',
  readwrite: 'Read and write',
  fullaccess: 'Full access (every bucket)'
}

function state (a: BucketAccess): HTMLElement {
  if (a.disabled) return h('span', { class: 'badge off' }, 'Disabled')
  if (a.expires_at !== undefined && Date.parse(a.expires_at) <= Date.now()) return h('span', { class: 'badge off' }, 'Expired')
  return h('span', { class: 'badge on' }, 'Active')
}

export async function accessPage (view: HTMLElement, route: Route): Promise<void> {
  const bucket = route.path[1] ?? ''
  const crumbs = [{ label: 'Buckets', href: href(['buckets']) }, { label: bucket, href: href(['buckets', bucket]) }, { label: 'Who can reach it' }]
  const keys = h('section', { class: 'card', 'aria-labelledby': 'keys-title' }, h('h2', { id: 'keys-title' }, 'With an access key'), loading('the keys'))
  const open = h('section', { class: 'card', 'aria-labelledby': 'public-title' }, h('h2', { id: 'public-title' }, 'Without a key (public)'), loading('public access'))
  view.replaceChildren(pageHeader(`Who can reach ${bucket}`, crumbs), bucketTabs(bucket, 'access'), keys, open)

  const [access, pub] = await Promise.allSettled([
    get<{ access: BucketAccess[] }>(`${KEYS_API}buckets/${seg(bucket)}/access`),
    get<PublicAccess>(`buckets/${seg(bucket)}/public`)
  ])

  if (access.status === 'rejected') {
    keys.lastElementChild?.replaceWith(failed(access.reason))
  } else {
    const list = access.value.access
    const rows = list.map(a => h('tr', { 'data-access-key': a.access_key },
      h('th', { scope: 'row' }, h('a', { href: href(['keys', a.access_key]) }, a.name)),
      h('td', {}, h('code', {}, a.access_key)),
      h('td', { class: 'wrap' }, PERMISSION[a.permission] ?? a.permission, a.publish === true ? ', may make uploads public' : ''),
      h('td', { class: 'wrap' }, a.prefix === undefined || a.prefix === '' ? 'Whole bucket' : h('span', {}, 'Keys starting with ', h('code', {}, a.prefix))),
      h('td', {}, a.expires_at === undefined ? 'Never' : date(a.expires_at)),
      h('td', {}, state(a))))
    keys.lastElementChild?.replaceWith(list.length === 0
      ? h('p', { class: 'empty' }, 'No access key can reach this bucket. ', h('a', { href: href(['keys', 'new']) }, 'Create one'), '.')
      : h('div', {}, h('p', { class: 'muted' }, `${list.length} key${list.length === 1 ? '' : 's'}, each with the permission it has here. Disabled and expired keys are listed too: enabling or renewing them restores their access.`),
        table(`Keys that can reach ${bucket}`, ['Key', 'Access key', 'Permission', 'Scope', 'Expires', 'State'], rows)))
  }

  if (pub.status === 'rejected') {
    open.lastElementChild?.replaceWith(failed(pub.reason))
  } else {
    const p = pub.value
    const parts: HTMLElement[] = []
    const aclText = p.acl === 'private' ? 'Private: the bucket ACL grants nothing to anyone without a key.' : `The bucket ACL is ${p.acl}: anyone can ${p.acl.includes('write') ? 'list and write to' : 'list'} it.`
    parts.push(h('p', { id: 'public-acl', class: p.acl === 'private' ? '' : 'warning' }, aclText))
    if (p.policy.length === 0) {
      parts.push(h('p', {}, 'No bucket policy statement allows anonymous access.'))
    } else {
      parts.push(h('p', { class: 'warning' }, `${p.policy.length} bucket policy statement${p.policy.length === 1 ? '' : 's'} allow${p.policy.length === 1 ? 's' : ''} anyone:`),
        table('Public policy statements', ['Statement', 'Actions', 'Resources'], p.policy.map((s, i) => h('tr', {},
          h('th', { scope: 'row' }, s.sid ?? `#${i + 1}`), h('td', {}, s.actions.join(', ')), h('td', {}, h('code', {}, s.resources.join(', ')))))))
    }
    if (p.objects.length === 0) {
      parts.push(h('p', {}, 'No object has a public ACL of its own.'))
    } else {
      parts.push(h('p', { class: 'warning' }, `${p.objects.length} object${p.objects.length === 1 ? ' is' : 's are'} public through its own ACL:`),
        table('Public objects', ['Object', 'ACL'], p.objects.map(o => h('tr', {},
          h('th', { scope: 'row' }, h('a', { href: href(['buckets', bucket, 'object'], { key: o.key }) }, o.key)), h('td', {}, o.acl)))))
    }
    open.lastElementChild?.replaceWith(h('div', {}, ...parts))
  }
}

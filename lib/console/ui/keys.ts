// Access keys, the DigitalOcean control panel's flows: the list, and create → the secret shown once.
// spacebox makes no key on its own (no default key, no root credentials), and the page says so.
import { get, KEYS_API, post, query } from './api.js'
import { secretDialog } from './dialog.js'
import { announce, errorBox, field, h, table } from './dom.js'
import { date } from './format.js'
import { grantsEditor } from './grants.js'
import { failed, loading, pageHeader } from './layout.js'
import { go, href } from './router.js'
import type { AccessKey, BucketSummary, Grant } from './types.js'

const PER_PAGE = 200

/** Every key, page after page of the keys API. */
export async function allKeys (): Promise<AccessKey[]> {
  const keys: AccessKey[] = []
  for (let page = 1; ; page++) {
    const answer = await get<{ keys: AccessKey[], meta: { total: number } }>(`${KEYS_API}keys${query({ per_page: PER_PAGE, page })}`)
    keys.push(...answer.keys)
    if (answer.keys.length === 0 || keys.length >= answer.meta.total) return keys
  }
}

/** "Full access", or "photos (read), logs (read-write, 2024/*)". */
export function grantSummary (grants: Grant[]): string {
  if (grants.some(g => g.permission === 'fullaccess')) return 'Full access'
  if (grants.length === 0) return 'No bucket'
  return grants.map(g => `${g.bucket} (${g.permission === 'readwrite' ? 'read-write' : 'read'}${g.prefix === undefined ? '' : `, ${g.prefix}*`}${g.publish === true ? ', publish' : ''})`).join(', ')
}

export function keyState (key: AccessKey): HTMLElement {
  if (key.disabled) return h('span', { class: 'badge off' }, 'Disabled')
  if (key.expires_at !== undefined && Date.parse(key.expires_at) <= Date.now()) return h('span', { class: 'badge off' }, 'Expired')
  return h('span', { class: 'badge on' }, 'Active')
}

export const NO_HIDDEN_KEYS = 'spacebox never makes a key on its own: every key below was created by someone holding the admin token (in this console, with the keys API, `spacebox keys create` or `spacebox serve --key`). There are no default or root credentials.'

export async function keysPage (view: HTMLElement): Promise<void> {
  const create = h('a', { href: href(['keys', 'new']), class: 'button primary' }, 'Create access key')
  const list = h('div', {}, loading('the keys'))
  view.replaceChildren(pageHeader('Access keys', [], create), h('p', { class: 'note', id: 'no-hidden-keys' }, NO_HIDDEN_KEYS), list)
  try {
    const keys = await allKeys()
    list.replaceChildren(keys.length === 0
      ? h('p', { class: 'empty' }, 'No access keys yet. ', h('a', { href: href(['keys', 'new']) }, 'Create one'), ' to let an S3 client in.')
      : table('Access keys', ['Name', 'Access key', 'Grants', 'Created', 'Expires', 'State'], keys.map(k => h('tr', { 'data-access-key': k.access_key },
        h('th', { scope: 'row' }, h('a', { href: href(['keys', k.access_key]) }, k.name)),
        h('td', {}, h('code', {}, k.access_key)),
        h('td', { class: 'wrap' }, grantSummary(k.grants)),
        h('td', {}, date(k.created_at)),
        h('td', {}, date(k.expires_at, 'Never')),
        h('td', {}, keyState(k))))))
  } catch (err) {
    list.replaceChildren(failed(err))
  }
}

/** Name, expiry and rate limit fields, shared by create and the key's page. */
export function limitsFields (key?: AccessKey): { expires: HTMLInputElement, rate: HTMLInputElement, element: HTMLElement } {
  const expires = h('input', { type: 'date', id: 'key-expires', value: key?.expires_at?.slice(0, 10) ?? '' })
  const rate = h('input', { type: 'number', id: 'key-rate', min: 1, step: 1, inputmode: 'numeric', value: key?.rate_limit ?? '' })
  return {
    expires,
    rate,
    element: h('div', { class: 'row' },
      field('Expires (optional)', expires, 'The key stops working at the start of this day (UTC). Empty: never.'),
      field('Rate limit (optional)', rate, 'Requests per second; beyond it S3 answers SlowDown. Empty: no limit.'))
  }
}

export async function newKeyPage (view: HTMLElement): Promise<void> {
  const crumbs = [{ label: 'Access keys', href: href(['keys']) }, { label: 'New key' }]
  view.replaceChildren(pageHeader('Create an access key', crumbs), loading('the buckets'))
  let buckets: string[] = []
  try {
    buckets = (await get<{ buckets: BucketSummary[] }>('buckets')).buckets.map(b => b.name)
  } catch (err) {
    view.lastElementChild?.replaceWith(failed(err))
    return
  }
  const name = h('input', { type: 'text', id: 'key-name', autocomplete: 'off', spellcheck: 'false', required: true, maxlength: 255 })
  const grants = grantsEditor(buckets)
  const limits = limitsFields()
  const problem = h('div', { class: 'form-problem' })
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create key')
  const form = h('form', { class: 'card', novalidate: true },
    field('Name', name, 'For you to tell keys apart, e.g. the app or person using it.'),
    grants.element, limits.element, problem,
    h('div', { class: 'actions' }, h('a', { href: href(['keys']), class: 'button' }, 'Cancel'), submit))
  form.addEventListener('submit', event => {
    event.preventDefault()
    problem.replaceChildren()
    const chosen = grants.value()
    if (name.value.trim() === '') {
      problem.append(errorBox('Give the key a name.'))
      name.focus()
      return
    }
    if (typeof chosen === 'string') {
      problem.append(errorBox(chosen))
      return
    }
    const body: Record<string, unknown> = { name: name.value.trim(), grants: chosen }
    if (limits.expires.value !== '') body.expires_at = limits.expires.value
    if (limits.rate.value !== '') body.rate_limit = Number(limits.rate.value)
    submit.disabled = true
    post<{ key: AccessKey }>(`${KEYS_API}keys`, body).then(async ({ key }) => {
      announce(`Key ${key.name} created`)
      await secretDialog('Access key created', key.name, key.access_key, key.secret_key ?? '')
      go(['keys', key.access_key])
    }, (err: unknown) => {
      submit.disabled = false
      problem.append(errorBox(`The key was not created: ${err instanceof Error ? err.message : String(err)}`))
    })
  })
  view.lastElementChild?.replaceWith(form)
  name.focus()
}

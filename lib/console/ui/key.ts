// One access key: rename, edit grants and limits, regenerate and delete (each after typing the
// key's name), disable/enable, and its usage: requests by operation, bytes, refusals, and a chart
// of the last 7 days. The secret is never shown here: the server keeps none to show.
import { del, get, KEYS_API, patch, post, seg } from './api.js'
import { confirmDialog, secretDialog } from './dialog.js'
import { announce, errorBox, field, h, table } from './dom.js'
import { bytes, count, date, relative } from './format.js'
import { usageChart } from './chart.js'
import { grantsEditor } from './grants.js'
import { keyState, limitsFields } from './keys.js'
import { failed, loading, pageHeader, problem } from './layout.js'
import { go, href, type Route } from './router.js'
import type { AccessKey, BucketSummary, KeyUsage } from './types.js'

export async function keyPage (view: HTMLElement, route: Route): Promise<void> {
  const id = route.path[1] ?? ''
  const path = `${KEYS_API}keys/${seg(id)}`
  const crumbs = [{ label: 'Access keys', href: href(['keys']) }, { label: id }]
  view.replaceChildren(pageHeader(id, crumbs), loading('the key'))
  let key: AccessKey
  let buckets: string[]
  try {
    const [answer, list] = await Promise.all([get<{ key: AccessKey }>(path), get<{ buckets: BucketSummary[] }>('buckets')])
    key = answer.key
    buckets = list.buckets.map(b => b.name)
  } catch (err) {
    view.lastElementChild?.replaceWith(failed(err))
    return
  }
  const again = async (): Promise<void> => { await keyPage(view, route) }
  const usage = h('section', { class: 'card', 'aria-labelledby': 'usage-title' }, h('h2', { id: 'usage-title' }, 'Usage'), loading('usage'))

  view.replaceChildren(
    pageHeader(key.name, [{ label: 'Access keys', href: href(['keys']) }, { label: key.name }], ...headerActions(key, path, again)),
    summaryCard(key),
    usage,
    renameCard(key, path, again),
    grantsCard(key, buckets, path, again),
    limitsCard(key, path, again))
  try {
    const { usage: u } = await get<{ usage: KeyUsage }>(`${path}/usage`)
    usage.lastElementChild?.replaceWith(usageBody(u, key))
  } catch (err) {
    usage.lastElementChild?.replaceWith(failed(err))
  }
}

function headerActions (key: AccessKey, path: string, again: () => Promise<void>): HTMLElement[] {
  const regenerate = h('button', { type: 'button', id: 'regenerate-key' }, 'Regenerate secret')
  regenerate.addEventListener('click', () => {
    let fresh: AccessKey | undefined
    confirmDialog({
      title: `Regenerate the secret of ${key.name}?`,
      message: 'A new secret is made and shown once. The current secret stops working at once: every client using it is refused until it has the new one.',
      confirmLabel: 'Regenerate',
      danger: true,
      typeToConfirm: key.name,
      action: async () => { fresh = (await post<{ key: AccessKey }>(`${path}/regenerate`)).key }
    }).then(async ok => {
      if (!ok || fresh === undefined) return
      announce(`New secret made for ${key.name}; the old one no longer works`)
      await secretDialog('New secret', fresh.name, fresh.access_key, fresh.secret_key ?? '')
    })
  })
  const toggle = h('button', { type: 'button', id: 'toggle-key' }, key.disabled ? 'Enable' : 'Disable')
  toggle.addEventListener('click', () => {
    toggle.disabled = true
    patch(path, { disabled: !key.disabled }).then(async () => {
      announce(`${key.name} ${key.disabled ? 'enabled' : 'disabled'}`)
      await again()
    }, (err: unknown) => {
      toggle.disabled = false
      announce(problem(key.disabled ? 'Not enabled' : 'Not disabled', err), 'error')
    })
  })
  const remove = h('button', { type: 'button', class: 'danger', id: 'delete-key' }, 'Delete')
  remove.addEventListener('click', () => {
    confirmDialog({
      title: `Delete ${key.name}?`,
      message: 'The key is deleted for good: every client using it is refused from now on, and links it signed stop working.',
      confirmLabel: 'Delete key',
      danger: true,
      typeToConfirm: key.name,
      action: async () => { await del(path) }
    }).then(ok => {
      if (!ok) return
      announce(`Key ${key.name} deleted`)
      go(['keys'])
    })
  })
  return [regenerate, toggle, remove]
}

function summaryCard (key: AccessKey): HTMLElement {
  return h('section', { class: 'card', 'aria-labelledby': 'key-title' }, h('h2', { id: 'key-title' }, 'Key'),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Access key'), h('dd', {}, h('code', { id: 'key-id' }, key.access_key))),
      h('div', {}, h('dt', {}, 'Secret'), h('dd', {}, 'Shown once, at creation or regeneration')),
      h('div', {}, h('dt', {}, 'State'), h('dd', {}, keyState(key))),
      h('div', {}, h('dt', {}, 'Created'), h('dd', {}, date(key.created_at))),
      h('div', {}, h('dt', {}, 'Expires'), h('dd', {}, date(key.expires_at, 'Never'))),
      h('div', {}, h('dt', {}, 'Rate limit'), h('dd', { id: 'key-rate-limit' }, key.rate_limit === undefined ? 'None' : `${count(key.rate_limit)} requests per second`))))
}

/** A card holding one form that PATCHes the key, then reloads the page. */
function editCard (titleId: string, title: string, content: HTMLElement[], label: string, body: () => Record<string, unknown> | string, path: string, again: () => Promise<void>, done: string): HTMLElement {
  const spot = h('div')
  const save = h('button', { type: 'submit', class: 'primary' }, label)
  const form = h('form', { novalidate: true }, ...content, spot, h('div', { class: 'actions' }, save))
  form.addEventListener('submit', event => {
    event.preventDefault()
    spot.replaceChildren()
    const change = body()
    if (typeof change === 'string') {
      spot.append(errorBox(change))
      return
    }
    save.disabled = true
    patch(path, change).then(async () => {
      announce(done)
      await again()
    }, (err: unknown) => {
      save.disabled = false
      spot.append(errorBox(problem('Not saved', err)))
    })
  })
  return h('section', { class: 'card', 'aria-labelledby': titleId }, h('h2', { id: titleId }, title), form)
}

function renameCard (key: AccessKey, path: string, again: () => Promise<void>): HTMLElement {
  const name = h('input', { type: 'text', id: 'rename-key', value: key.name, autocomplete: 'off', spellcheck: 'false', maxlength: 255 })
  return editCard('rename-title', 'Name', [field('Name', name)], 'Rename', () => name.value.trim() === '' ? 'A key needs a name.' : { name: name.value.trim() }, path, again, 'Key renamed')
}

function grantsCard (key: AccessKey, buckets: string[], path: string, again: () => Promise<void>): HTMLElement {
  const editor = grantsEditor(buckets, key.grants)
  return editCard('grants-title', 'Grants', [editor.element], 'Save grants', () => {
    const grants = editor.value()
    return typeof grants === 'string' ? grants : { grants }
  }, path, again, 'Grants saved')
}

function limitsCard (key: AccessKey, path: string, again: () => Promise<void>): HTMLElement {
  const limits = limitsFields(key)
  const expiresBefore = limits.expires.value
  const rateBefore = limits.rate.value
  return editCard('limits-title', 'Expiry and rate limit', [limits.element], 'Save limits', () => {
    // Only what changed is sent (the date field cannot show an expiry's time of day, so an
    // untouched one must not overwrite it); null removes a limit.
    const change: Record<string, unknown> = {}
    if (limits.expires.value !== expiresBefore) change.expires_at = limits.expires.value === '' ? null : limits.expires.value
    if (limits.rate.value !== rateBefore) change.rate_limit = limits.rate.value === '' ? null : Number(limits.rate.value)
    return Object.keys(change).length === 0 ? 'Nothing has changed.' : change
  }, path, again, 'Limits saved')
}

function usageBody (u: KeyUsage, key: AccessKey): HTMLElement {
  const ops = Object.entries(u.requests).sort((a, b) => b[1] - a[1])
  const total = ops.reduce((sum, [, n]) => sum + n, 0)
  return h('div', { class: 'usage' },
    h('dl', { class: 'facts stats' },
      h('div', {}, h('dt', {}, 'Requests'), h('dd', { id: 'usage-requests' }, count(total))),
      h('div', {}, h('dt', {}, 'Bytes in'), h('dd', {}, bytes(u.bytes_in))),
      h('div', {}, h('dt', {}, 'Bytes out'), h('dd', {}, bytes(u.bytes_out))),
      h('div', {}, h('dt', {}, 'Refused'), h('dd', { id: 'usage-denied' }, count(u.denied))),
      h('div', {}, h('dt', {}, 'Last used'), h('dd', {}, u.last_used === undefined ? 'Never' : h('time', { datetime: u.last_used, title: new Date(u.last_used).toLocaleString() }, relative(u.last_used)))),
      h('div', {}, h('dt', {}, 'Rate limit'), h('dd', {}, key.rate_limit === undefined ? 'None' : `${count(key.rate_limit)}/s`))),
    u.last_denied === undefined
      ? null
      : h('p', { class: 'warning' }, 'Last refused ', date(u.last_denied.at), `: ${u.last_denied.operation}, ${u.last_denied.reason}`),
    usageChart(u.history),
    ops.length === 0
      ? h('p', { class: 'muted' }, 'No request yet.')
      : table('Requests by operation', ['Operation', 'Requests'], ops.map(([op, n]) => h('tr', {}, h('th', { scope: 'row' }, op), h('td', { class: 'num' }, count(n)))), false))
}

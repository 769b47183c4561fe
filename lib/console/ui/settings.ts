// A bucket's settings: versioning, default encryption, CORS, its canned ACL, and its policy,
// lifecycle rules and website as JSON. The CORS editor checks the JSON's shape before sending it;
// the server then validates every configuration itself, and its message is shown as it is, since
// it names the rule and the field at fault.
import { del, get, put, seg } from './api.js'
import { announce, errorBox, field, h } from './dom.js'
import { date } from './format.js'
import { bucketTabs, failed, loading, pageHeader, problem } from './layout.js'
import { href, type Route } from './router.js'
import type { BucketDetails, CorsRuleJson } from './types.js'

const METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD']
const CORS_FIELDS = ['id', 'allowed_origins', 'allowed_methods', 'allowed_headers', 'expose_headers', 'max_age_seconds']
const EXAMPLE: CorsRuleJson[] = [{ allowed_origins: ['https://example.com'], allowed_methods: ['GET', 'PUT'], allowed_headers: ['*'], max_age_seconds: 3000 }]

export async function settingsPage (view: HTMLElement, route: Route): Promise<void> {
  const bucket = route.path[1] ?? ''
  const crumbs = [{ label: 'Buckets', href: href(['buckets']) }, { label: bucket, href: href(['buckets', bucket]) }, { label: 'Settings' }]
  view.replaceChildren(pageHeader(`Settings of ${bucket}`, crumbs), bucketTabs(bucket, 'settings'), loading('the settings'))
  const body = h('div', { class: 'settings stack' })
  const path = `buckets/${seg(bucket)}`
  // After a change the page reads the settings again rather than trusting each answer's shape.
  const show = (details: BucketDetails): void => {
    const after = async (change: Promise<unknown>): Promise<BucketDetails> => {
      await change
      return await get<BucketDetails>(path)
    }
    body.replaceChildren(overview(details), versioningCard(path, details, show, after), encryptionCard(path, details, show, after), corsCard(path, details, show, after),
      aclCard(path, details, show, after), ...CONFIGURATIONS.map(c => configurationCard(path, c)))
  }
  try {
    show(await get<BucketDetails>(path))
  } catch (err) {
    body.replaceChildren(failed(err))
  }
  view.lastElementChild?.replaceWith(body)
}

function overview (d: BucketDetails): HTMLElement {
  const open = d.public.acl !== 'private' || d.public.policy_statements > 0
  return h('section', { class: 'card', 'aria-labelledby': 'overview-title' },
    h('h2', { id: 'overview-title' }, 'Bucket'),
    h('dl', { class: 'facts' },
      h('div', {}, h('dt', {}, 'Region'), h('dd', {}, d.bucket.region)),
      h('div', {}, h('dt', {}, 'Created'), h('dd', {}, date(d.bucket.created))),
      h('div', {}, h('dt', {}, 'Public access'), h('dd', {},
        open ? `ACL ${d.public.acl}, ${d.public.policy_statements} policy statement${d.public.policy_statements === 1 ? '' : 's'}` : 'None: private, no bucket policy',
        ' · ', h('a', { href: href(['buckets', d.bucket.name, 'access']) }, 'who can reach it')))))
}

/** A card with a state line and buttons that each send one change, then show the new state. */
function card (id: string, title: string, ...content: Array<HTMLElement | string>): HTMLElement {
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...content)
}

type After = (change: Promise<unknown>) => Promise<BucketDetails>

function action (label: string, run: () => Promise<BucketDetails>, show: (d: BucketDetails) => void, message: string, spot: HTMLElement, danger = false): HTMLButtonElement {
  const button = h('button', { type: 'button', class: danger ? 'danger-text' : '' }, label)
  button.addEventListener('click', () => {
    button.disabled = true
    spot.replaceChildren()
    run().then(details => { show(details); announce(message) }, (err: unknown) => {
      button.disabled = false
      spot.replaceChildren(errorBox(problem(label, err)))
    })
  })
  return button
}

function versioningCard (path: string, d: BucketDetails, show: (d: BucketDetails) => void, after: After): HTMLElement {
  const spot = h('div')
  const state = d.versioning === 'Enabled'
    ? 'Enabled: every overwrite and delete keeps the older version.'
    : d.versioning === 'Suspended' ? 'Suspended: versions made before stay; new writes replace the current object.' : 'Off: never enabled on this bucket.'
  const button = d.versioning === 'Enabled'
    ? action('Suspend versioning', async () => await after(put(`${path}/versioning`, { status: 'Suspended' })), show, 'Versioning suspended', spot)
    : action('Enable versioning', async () => await after(put(`${path}/versioning`, { status: 'Enabled' })), show, 'Versioning enabled', spot)
  return card('versioning-title', 'Versioning', h('p', { id: 'versioning-state' }, state), h('div', { class: 'actions' }, button), spot)
}

function encryptionCard (path: string, d: BucketDetails, show: (d: BucketDetails) => void, after: After): HTMLElement {
  const spot = h('div')
  const enc = d.encryption
  const state = enc === null
    ? 'Off: objects are stored as sent, unless a request asks for encryption.'
    : enc.algorithm === 'AES256' ? 'On: new objects are encrypted with AES-256 (SSE-S3).' : `On: ${enc.algorithm}${enc.master_key_id === undefined ? '' : ` with key ${enc.master_key_id}`}.`
  const button = enc === null
    ? action('Turn on AES-256', async () => await after(put(`${path}/encryption`, { algorithm: 'AES256' })), show, 'Default encryption on', spot)
    : action('Turn off', async () => await after(del(`${path}/encryption`)), show, 'Default encryption off', spot, true)
  return card('encryption-title', 'Default encryption', h('p', { id: 'encryption-state' }, state),
    h('p', { class: 'muted' }, 'Applies to objects written from now on; objects already stored keep how they were written.'),
    h('div', { class: 'actions' }, button), spot)
}

/** The shape the API takes, checked here so a typo is caught before the round trip; undefined when it fits. */
export function corsShapeProblem (value: unknown): string | undefined {
  if (!Array.isArray(value)) return 'The rules are a JSON array: [ { "allowed_origins": [...], "allowed_methods": [...] } ]'
  for (const [i, rule] of value.entries()) {
    const at = `Rule ${i + 1}`
    if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return `${at} is not an object`
    const unknown = Object.keys(rule).find(k => !CORS_FIELDS.includes(k))
    if (unknown !== undefined) return `${at} has an unknown field "${unknown}"; the fields are ${CORS_FIELDS.join(', ')}`
    const r = rule as Record<string, unknown>
    for (const name of ['allowed_origins', 'allowed_methods', 'allowed_headers', 'expose_headers']) {
      const list = r[name]
      if (list === undefined && name.startsWith('allowed_h')) continue
      if (list === undefined && name.startsWith('expose')) continue
      if (!Array.isArray(list) || list.some(x => typeof x !== 'string')) return `${at}: ${name} is a list of strings`
      if (list.length === 0 && (name === 'allowed_origins' || name === 'allowed_methods')) return `${at}: ${name} needs at least one entry`
    }
    const bad = (r.allowed_methods as string[]).find(m => !METHODS.includes(m))
    if (bad !== undefined) return `${at}: "${bad}" is not a method CORS allows here; use ${METHODS.join(', ')}`
    if (r.max_age_seconds !== undefined && (typeof r.max_age_seconds !== 'number' || !Number.isInteger(r.max_age_seconds) || r.max_age_seconds < 0)) {
      return `${at}: max_age_seconds is a whole number of seconds`
    }
    if (r.id !== undefined && typeof r.id !== 'string') return `${at}: id is a string`
  }
  return undefined
}

function corsCard (path: string, d: BucketDetails, show: (d: BucketDetails) => void, after: After): HTMLElement {
  const spot = h('div', { id: 'cors-problem' })
  const text = h('textarea', { id: 'cors-rules', rows: 10, spellcheck: 'false', class: 'mono' })
  text.value = JSON.stringify(d.cors ?? [], null, 2)
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save rules')
  const form = h('form', { novalidate: true },
    h('p', { id: 'cors-state' }, d.cors === null || d.cors.length === 0 ? 'No CORS rules: browsers on other origins cannot call this bucket.' : `${d.cors.length} rule${d.cors.length === 1 ? '' : 's'}.`),
    field('Rules (JSON)', text, `A list of rules, e.g. ${JSON.stringify(EXAMPLE)}. Methods: ${METHODS.join(', ')}. An empty list removes the configuration.`),
    spot,
    h('div', { class: 'actions' }, save))
  text.addEventListener('input', () => { text.removeAttribute('aria-invalid') })
  form.addEventListener('submit', event => {
    event.preventDefault()
    spot.replaceChildren()
    let rules: unknown
    try {
      rules = JSON.parse(text.value)
    } catch (err) {
      spot.replaceChildren(errorBox(`Not valid JSON: ${err instanceof Error ? err.message : String(err)}`))
      text.setAttribute('aria-invalid', 'true')
      text.focus()
      return
    }
    const wrong = corsShapeProblem(rules)
    if (wrong !== undefined) {
      spot.replaceChildren(errorBox(wrong))
      text.setAttribute('aria-invalid', 'true')
      text.focus()
      return
    }
    const empty = (rules as unknown[]).length === 0
    save.disabled = true
    const send = after(empty ? del(`${path}/cors`) : put(`${path}/cors`, { rules }))
    send.then(details => { show(details); announce(empty ? 'CORS rules removed' : 'CORS rules saved') }, (err: unknown) => {
      save.disabled = false
      spot.replaceChildren(errorBox(problem('The server refused the rules', err)))
      text.setAttribute('aria-invalid', 'true')
    })
  })
  return card('cors-title', 'CORS', form)
}

const ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read']

function aclCard (path: string, d: BucketDetails, show: (d: BucketDetails) => void, after: After): HTMLElement {
  const spot = h('div')
  const choice = h('select', { id: 'acl-choice' }, ...ACLS.map(acl => h('option', { value: acl, selected: acl === d.public.acl }, acl)))
  const save = action('Save ACL', async () => await after(put(`${path}/acl`, { acl: choice.value })), show, 'Bucket ACL saved', spot)
  return card('acl-title', 'Access control list',
    h('p', { id: 'acl-state' }, d.public.acl === 'private' ? 'private: only keys with a grant reach the bucket.' : `${d.public.acl}: anyone may ${d.public.acl === 'public-read-write' ? 'list and write' : 'list'} it.`),
    field('Canned ACL', choice), h('div', { class: 'actions' }, save), spot)
}

/** A bucket configuration edited as JSON: its field in the API's body, and how it reads. */
interface Configuration {
  id: string
  title: string
  endpoint: string
  field: string
  /** The text in the editor for a value, and the value to send for a text. */
  toText: (value: unknown) => string
  fromText: (text: string) => unknown
  none: string
  hint: string
}

const json: Pick<Configuration, 'toText' | 'fromText'> = { toText: value => JSON.stringify(value, null, 2), fromText: text => JSON.parse(text) }

const CONFIGURATIONS: Configuration[] = [
  {
    id: 'policy',
    title: 'Bucket policy',
    endpoint: 'policy',
    field: 'policy',
    // The policy is its own JSON text: shown and sent as written.
    toText: value => typeof value === 'string' ? value : '',
    fromText: text => text,
    none: 'No bucket policy.',
    hint: 'A policy document: {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKET/*"}]}.'
  },
  {
    id: 'lifecycle',
    title: 'Lifecycle rules',
    endpoint: 'lifecycle',
    field: 'rules',
    ...json,
    none: 'No lifecycle rules.',
    hint: 'A list of rules: [{"id": "tmp", "status": "Enabled", "filter": {"prefix": "tmp/"}, "expiration": {"days": 7}}].'
  },
  {
    id: 'website',
    title: 'Static website',
    endpoint: 'website',
    field: 'website',
    ...json,
    none: 'Not a website.',
    hint: 'A website configuration: {"indexDocument": {"suffix": "index.html"}, "errorDocument": {"key": "404.html"}}.'
  }
]

/** A card that reads the configuration, and saves or removes it; the server's refusal is shown as it is. */
function configurationCard (path: string, c: Configuration): HTMLElement {
  const spot = h('div', { id: `${c.id}-problem` })
  const state = h('p', { id: `${c.id}-state` }, 'Loading…')
  const text = h('textarea', { id: `${c.id}-text`, rows: 8, spellcheck: 'false', class: 'mono' })
  const save = h('button', { type: 'submit', class: 'primary' }, 'Save')
  const remove = h('button', { type: 'button', class: 'danger-text' }, 'Remove')
  const url = `${path}/${c.endpoint}`
  const showValue = (answer: Record<string, unknown>): void => {
    const value = answer[c.field] ?? null
    state.textContent = value === null ? c.none : 'Set, as below.'
    text.value = value === null ? '' : c.toText(value)
    remove.disabled = value === null
  }
  const run = (label: string, change: Promise<Record<string, unknown>>, done: string): void => {
    save.disabled = true
    remove.disabled = true
    change.then(answer => { showValue(answer); announce(done) }, (err: unknown) => {
      spot.replaceChildren(errorBox(problem(label, err)))
      text.setAttribute('aria-invalid', 'true')
    }).finally(() => { save.disabled = false })
  }
  get<Record<string, unknown>>(url).then(showValue, (err: unknown) => { spot.replaceChildren(errorBox(problem('Could not read it', err))) })
  const form = h('form', { novalidate: true }, state, field(`${c.title} (JSON)`, text, c.hint), spot, h('div', { class: 'actions' }, save, remove))
  text.addEventListener('input', () => { text.removeAttribute('aria-invalid') })
  remove.addEventListener('click', () => {
    spot.replaceChildren()
    run('The server refused', del<Record<string, unknown>>(url), `${c.title} removed`)
  })
  form.addEventListener('submit', event => {
    event.preventDefault()
    spot.replaceChildren()
    let value: unknown
    try {
      value = c.fromText(text.value)
    } catch (err) {
      spot.replaceChildren(errorBox(`Not valid JSON: ${err instanceof Error ? err.message : String(err)}`))
      text.setAttribute('aria-invalid', 'true')
      text.focus()
      return
    }
    run('The server refused it', put<Record<string, unknown>>(url, { [c.field]: value }), `${c.title} saved`)
  })
  return card(`${c.id}-title`, c.title, form)
}

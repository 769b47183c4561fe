// The parts every page shares: its heading with breadcrumbs, a bucket's tabs, the loading and
// failure states.
import { ApiError } from './api.js'
import { errorBox, h } from './dom.js'
import { href } from './router.js'

export interface Crumb { label: string, href?: string }

/** The page's <h1> (focused on navigation, so a screen reader starts there) under its breadcrumbs. */
export function pageHeader (title: string, crumbs: Crumb[] = [], ...actions: HTMLElement[]): HTMLElement {
  document.title = `${title} · spacebox`
  const trail = crumbs.length === 0
    ? null
    : h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumbs' }, h('ol', {}, ...crumbs.map((c, i) => {
      const last = i === crumbs.length - 1
      return h('li', {}, c.href === undefined || last ? h('span', { 'aria-current': last ? 'page' : null }, c.label) : h('a', { href: c.href }, c.label))
    })))
  return h('div', { class: 'page-head' }, trail, h('div', { class: 'title-row' }, h('h1', { tabindex: -1 }, title), actions.length === 0 ? null : h('div', { class: 'head-actions' }, ...actions)))
}

export type BucketTab = 'objects' | 'settings' | 'access'

/** Objects / Settings / Access of one bucket. */
export function bucketTabs (bucket: string, active: BucketTab): HTMLElement {
  const tab = (id: BucketTab, label: string, path: string[]): HTMLElement =>
    h('a', { href: href(path), class: id === active ? 'tab active' : 'tab', 'aria-current': id === active ? 'page' : null }, label)
  return h('nav', { class: 'tabs', 'aria-label': `Bucket ${bucket}` },
    tab('objects', 'Objects', ['buckets', bucket]),
    tab('settings', 'Settings', ['buckets', bucket, 'settings']),
    tab('access', 'Who can reach it', ['buckets', bucket, 'access']))
}

export function loading (what: string): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, `Loading ${what}…`)
}

/** What a failed load says; a lost session is handled by the app (the sign-in page). */
export function failed (err: unknown): HTMLElement {
  if (err instanceof ApiError && err.status === 404) return errorBox(`Not found: ${err.message}`)
  return errorBox(err instanceof Error ? err.message : String(err))
}

/** A message for a failed action, prefixed with what was tried. */
export function problem (what: string, err: unknown): string {
  return `${what}: ${err instanceof Error ? err.message : String(err)}`
}

// The console's entry point: checks the session, then draws the page the hash names, again on
// every hash change. A 401 from any request brings back the sign-in page, wherever the user was;
// after signing in they land where they were going.
import { accessPage } from './access.js'
import { ApiError, del, get, onSignedOut, setCsrf } from './api.js'
import { browserPage } from './browser.js'
import { bucketsPage } from './buckets.js'
import { announce, errorBox, h } from './dom.js'
import { keyPage } from './key.js'
import { keysPage, newKeyPage } from './keys.js'
import { failed, pageHeader } from './layout.js'
import { objectPage } from './object.js'
import { current, href, type Route } from './router.js'
import { settingsPage } from './settings.js'
import { signInPage } from './sign-in.js'
import type { Session } from './types.js'

type Page = (view: HTMLElement, route: Route) => Promise<void>

function pageFor (route: Route): Page {
  const [section, id, sub] = route.path
  if (section === undefined || (section === 'buckets' && id === undefined)) return bucketsPage
  if (section === 'buckets' && route.path.length === 2) return browserPage
  if (section === 'buckets' && route.path.length === 3) {
    if (sub === 'settings') return settingsPage
    if (sub === 'access') return accessPage
    if (sub === 'object') return objectPage
  }
  if (section === 'keys' && id === undefined) return keysPage
  if (section === 'keys' && id === 'new' && route.path.length === 2) return newKeyPage
  if (section === 'keys' && route.path.length === 2) return keyPage
  return async view => {
    view.replaceChildren(pageHeader('Not found'), h('p', {}, 'No page here. ', h('a', { href: href(['buckets']) }, 'Go to the buckets'), '.'))
  }
}

const main = document.getElementById('main') as HTMLElement
const nav = document.getElementById('nav') as HTMLElement
const signOut = document.getElementById('sign-out') as HTMLButtonElement
let signedIn = false

function chrome (): void {
  nav.hidden = !signedIn
  signOut.hidden = !signedIn
  const section = current().path[0] ?? 'buckets'
  for (const link of nav.querySelectorAll('a')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page')
    else link.removeAttribute('aria-current')
  }
}

function render (): void {
  chrome()
  if (!signedIn) {
    showSignIn()
    return
  }
  const route = current()
  const view = h('div', { class: 'view' })
  main.replaceChildren(view)
  // Pages draw their heading before their first request: focus it, so keyboard and screen reader
  // users start at the top of the new page rather than on a link that is gone; again once the page
  // is drawn, if drawing it replaced the heading that had the focus.
  const focusHeading = (): void => { view.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true }) }
  pageFor(route)(view, route).then(() => {
    if (view.isConnected && document.activeElement === document.body) focusHeading()
  }, (err: unknown) => {
    // A lost session is handled by the sign-in page; anything else is shown where the page was.
    if (!(err instanceof ApiError && err.status === 401) && view.isConnected) view.append(failed(err))
  })
  focusHeading()
}

function showSignIn (): void {
  chrome()
  document.title = 'Sign in · spacebox'
  signInPage(main, (session: Session) => {
    signedIn = true
    setCsrf(session.csrf)
    announce('Signed in')
    render()
  })
}

onSignedOut(() => {
  if (!signedIn) return
  signedIn = false
  setCsrf('')
  announce('Your session has ended. Sign in again.', 'error')
  showSignIn()
})

signOut.addEventListener('click', () => {
  signOut.disabled = true
  del('session').catch(() => {}).finally(() => {
    signOut.disabled = false
    signedIn = false
    setCsrf('')
    announce('Signed out')
    showSignIn()
  })
})

document.getElementById('skip')?.addEventListener('click', () => {
  (main.querySelector<HTMLElement>('h1') ?? main).focus()
})

window.addEventListener('hashchange', render)

try {
  const session = await get<Session>('session', { expect401: true })
  setCsrf(session.csrf)
  signedIn = true
  render()
} catch (err) {
  if (err instanceof ApiError && err.status === 401) showSignIn()
  else main.replaceChildren(errorBox(`The console could not reach its server: ${err instanceof Error ? err.message : String(err)}`))
}

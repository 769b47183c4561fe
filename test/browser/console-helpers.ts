// For the console's browser test: the built `spacebox serve` in a child process, Debian's Chromium
// driven by puppeteer-core, and screenshots at a desktop and a phone's width.
import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'puppeteer-core'

type Tap = { teardown: (fn: () => unknown) => void }

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))
/** Git-ignored; each run overwrites what the last one left. */
export const SCREENSHOTS = fileURLToPath(new URL('../../.screenshots/console/', import.meta.url))

export const DESKTOP = { width: 1280, height: 800 }
// Not isMobile: puppeteer reloads the page to change that, which would lose an open dialog.
export const PHONE = { width: 360, height: 740 }

export interface ConsoleServer {
  /** http://127.0.0.1:PORT */
  url: string
  /** url + /_spacebox/console/ */
  console: string
  adminToken: string
  output: () => string
}

/** `node dist/cli/main.js serve --memory --port 0`, as a user runs it; stopped when the test ends. */
export async function startServe (t: Tap): Promise<ConsoleServer> {
  const args = [CLI, 'serve', '--memory', '--host', '127.0.0.1', '--port', '0', '--region', 'us-east-1']
  // Without tap's NODE_OPTIONS (its TypeScript and coverage hooks): the server runs as users run it.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
  let out = ''
  child.stdout.setEncoding('utf8').on('data', (s: string) => { out += s })
  child.stderr.setEncoding('utf8').on('data', (s: string) => { out += s })
  const exited = new Promise(resolve => child.once('exit', resolve))
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => { child.kill('SIGKILL') }, 10_000)
    await exited
    clearTimeout(timer)
  })
  const deadline = Date.now() + 15_000
  while (!/SPACEBOX_ADMIN_TOKEN=\S+\n/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`spacebox serve did not start: ${out}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  const pick = (pattern: RegExp): string => {
    const value = pattern.exec(out)?.[1]
    if (value === undefined) throw new Error(`spacebox serve printed no ${String(pattern)}: ${out}`)
    return value
  }
  const url = pick(/serving (http:\/\/\S+)/)
  return { url, console: pick(/Web console: (\S+)/), adminToken: pick(/SPACEBOX_ADMIN_TOKEN=(\S+)/), output: () => out }
}

export async function launch (t: Tap): Promise<Browser> {
  const { default: puppeteer } = await import('puppeteer-core')
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Nothing but the page talks to the network: no updates, no safe-browsing, no metrics.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-default-apps', '--metrics-recording-only', '--disable-features=Translate,MediaRouter,OptimizationHints']
  })
  t.teardown(async () => { await browser.close() })
  return browser
}

/** A full-page screenshot, `<name>-desktop.png` or `<name>-phone.png` by the page's current width. */
export async function shoot (page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS, { recursive: true })
  const width = page.viewport()?.width ?? DESKTOP.width
  const path = join(SCREENSHOTS, `${name}-${width <= 400 ? 'phone' : 'desktop'}.png`) as `${string}.png`
  // The status toast of the last action would cover part of the page in every picture.
  await page.evaluate("document.getElementById('status').textContent = ''")
  await page.screenshot({ path, fullPage: true })
  return path
}

/** Runs in the page: text of the first element matching `selector`, or null. */
export async function text (page: Page, selector: string): Promise<string | null> {
  return await page.evaluate(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`) as string | null
}

/** Wait until an element matching `selector` has text matching `pattern` (the page updates after its requests). */
export async function waitForText (page: Page, selector: string, pattern: RegExp, timeout = 10_000): Promise<string> {
  const handle = await page.waitForFunction(`(() => {
    const el = document.querySelector(${JSON.stringify(selector)})
    return el !== null && new RegExp(${JSON.stringify(pattern.source)}, ${JSON.stringify(pattern.flags)}).test(el.textContent) ? el.textContent : false
  })()`, { timeout })
  return await handle.jsonValue() as string
}

/** Go to a console route (the hash) and wait for its heading to settle. */
export async function route (page: Page, hash: string, ready: string): Promise<void> {
  await page.evaluate(`location.hash = ${JSON.stringify(hash)}`)
  await page.waitForSelector(ready, { timeout: 10_000 })
  await page.waitForNetworkIdle({ idleTime: 150, timeout: 10_000 })
}

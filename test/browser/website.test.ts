import { existsSync } from 'node:fs'
import t from 'tap'
import puppeteer, { type Browser } from 'puppeteer-core'
import { serve } from '../s3/helpers.js'

// Debian's chromium package; CI installs it. Elsewhere the test is skipped, saying why.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

if (!existsSync(CHROMIUM) && process.env.CI === undefined) {
  t.plan(0, `headless Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`)
} else {
  t.test('a real browser renders a bucket website: index page, its public stylesheet and script, folder redirect, error page', async t => {
    const s = await serve(t, { server: { websitePort: 0 } })
    const { box } = s
    await box.createBucket('site')
    const page = (body: string): string => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>spacebox site</title><link rel="stylesheet" href="/style.css"></head><body>${body}</body></html>`
    const objects: Record<string, [string, string]> = {
      'index.html': [page('<h1 id="title">Hello</h1><p id="by-script"></p><script src="/app.js"></script><script src="/private.js"></script>'), 'text/html'],
      'style.css': ['h1 { color: rgb(255, 0, 0); }', 'text/css'],
      'app.js': ['document.getElementById("by-script").textContent = "script ran"', 'text/javascript'],
      'guide/index.html': [page('<a id="next" href="next.html">next</a>'), 'text/html'],
      'guide/next.html': [page('<h1>next</h1>'), 'text/html'],
      'oops.html': [page('<h1 id="oops">Not here</h1>'), 'text/html']
    }
    for (const [key, [body, contentType]] of Object.entries(objects)) await box.putObject('site', key, body, { contentType, acl: 'public-read' })
    // Private: the website must refuse it, so the page never runs it.
    await box.putObject('site', 'private.js', 'document.body.dataset.leaked = "yes"', { contentType: 'text/javascript' })
    await box.putBucketWebsite('site', { indexDocument: { suffix: 'index.html' }, errorDocument: { key: 'oops.html' } })

    const browser: Browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Every *.localhost name goes to the loopback listener; nothing leaves the machine.
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--host-resolver-rules=MAP *.localhost 127.0.0.1']
    })
    t.teardown(async () => { await browser.close() })
    const tab = await browser.newPage()
    const failed: string[] = []
    tab.on('response', response => {
      // The browser asks for /favicon.ico on its own; the site has none.
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) failed.push(`${response.status()} ${response.url()}`)
    })
    const origin = `http://site.localhost:${String(s.server.websitePort)}`

    const home = await tab.goto(`${origin}/`, { waitUntil: 'load' })
    t.equal(home?.status(), 200)
    t.equal(await tab.title(), 'spacebox site')
    t.equal(await tab.$eval('#title', el => el.ownerDocument.defaultView?.getComputedStyle(el).color), 'rgb(255, 0, 0)', 'the public stylesheet applied')
    t.equal(await tab.$eval('#by-script', el => el.textContent), 'script ran', 'the public script ran')
    t.equal(await tab.$eval('body', el => el.dataset.leaked ?? 'no'), 'no', 'the private script was not served')
    t.same(failed, [`403 ${origin}/private.js`], 'the one refused request is the private script')

    const guide = await tab.goto(`${origin}/guide`, { waitUntil: 'load' })
    t.equal(tab.url(), `${origin}/guide/`, 'the folder without its slash redirected to it')
    t.equal(guide?.status(), 200)
    await Promise.all([tab.waitForNavigation({ waitUntil: 'load' }), tab.click('#next')])
    t.equal(tab.url(), `${origin}/guide/next.html`, 'a relative link resolves inside the folder')

    const missing = await tab.goto(`${origin}/no/such/page`, { waitUntil: 'load' })
    t.equal(missing?.status(), 403, 'S3\'s status for a key the public may not list')
    t.equal(await tab.$eval('#oops', el => el.textContent), 'Not here', 'the error document rendered')
  })
}

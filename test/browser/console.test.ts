// The web console in real headless Chromium, against the built `spacebox serve`: sign-in, buckets,
// uploads (a 20 MB multipart one with a part failed on purpose and retried), folders, download,
// access keys used from the AWS SDK, regenerate and delete with the name typed, rendering of hostile
// names as text, the CSP, and a 360 px wide screen. Screenshots go to .screenshots/console/.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import type { CDPSession, Page } from 'puppeteer-core'
import { bytes, tempDir } from '../helpers.js'
import { CHROMIUM, CLI, DESKTOP, launch, PHONE, route, SCREENSHOTS, shoot, startServe, text, waitForText, type ConsoleServer } from './console-helpers.js'

const BUCKET = 'photos'
const BIG = 'big.bin'
const BIG_SIZE = 20_000_000
const XSS = '<img src=x onerror=alert(1)>.txt'
const KEY_NAME = 'gallery "read-only"'
const HOSTILE_KEY_NAME = '<img src=x onerror=alert(2)> "deploy"'

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

function s3 (server: ConsoleServer, credentials: { accessKeyId: string, secretAccessKey: string }): S3Client {
  return new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 })
}

/** The error name an SDK call failed with, or 'ok'. */
async function outcome (client: S3Client, command: GetObjectCommand | PutObjectCommand): Promise<string> {
  try {
    const answer = await client.send(command as GetObjectCommand)
    await answer.Body?.transformToByteArray()
    return 'ok'
  } catch (err) {
    return (err as Error).name
  }
}

/** Widths of the page at 360 px, by screenshot name: checked at the end. */
const phoneWidths = new Map<string, number>()

/** Screenshots at both sizes, measuring the page's width at 360 px; back at the desktop size after. */
async function both (page: Page, name: string): Promise<void> {
  await shoot(page, name)
  await page.setViewport(PHONE)
  phoneWidths.set(name, await page.evaluate('document.documentElement.scrollWidth') as number)
  await shoot(page, name)
  await page.setViewport(DESKTOP)
}

/** Wait until the dialog is closed and gone: its close event gives focus back, which must come first. */
async function dialogGone (page: Page): Promise<void> {
  await page.waitForFunction('document.querySelector("dialog") === null')
}

/** Read the access key and secret out of the secret dialog, then close it. */
async function takeSecret (page: Page, screenshot?: string): Promise<{ accessKeyId: string, secretAccessKey: string }> {
  await page.waitForSelector('dialog[open] #secret-secret-key')
  const accessKeyId = await page.$eval('#secret-access-key', el => (el as unknown as { value: string }).value)
  const secretAccessKey = await page.$eval('#secret-secret-key', el => (el as unknown as { value: string }).value)
  if (screenshot !== undefined) await both(page, screenshot)
  await page.click('dialog[open] .dialog-actions button.primary')
  await dialogGone(page)
  return { accessKeyId, secretAccessKey }
}

/** Confirm a dialog that wants `name` typed; checks the button stays disabled until it is. */
async function confirmByName (page: Page, name: string): Promise<boolean> {
  await page.waitForSelector('dialog[open] [data-confirm-name]')
  const disabled = (): Promise<boolean> => page.$eval('dialog[open] .dialog-actions button[type=submit]', el => (el as unknown as { disabled: boolean }).disabled)
  const before = await disabled()
  await page.type('dialog[open] [data-confirm-name]', name.slice(0, -1))
  const almost = await disabled()
  await page.type('dialog[open] [data-confirm-name]', name.slice(-1))
  const typed = await disabled()
  await page.click('dialog[open] .dialog-actions button[type=submit]')
  return before && almost && !typed
}

async function run (): Promise<void> {
  const started = Date.now()
  const server = await startServe(t)
  const browser = await launch(t)
  await rm(join(SCREENSHOTS, 'failed-desktop.png'), { force: true })
  const dir = await tempDir(t)
  const big = bytes(BIG_SIZE, 7)
  await writeFile(join(dir, BIG), big)
  await writeFile(join(dir, 'readme.txt'), 'hello from the console\n')
  await writeFile(join(dir, XSS), 'not markup\n')
  await mkdir(join(dir, 'album', '2024'), { recursive: true })
  await writeFile(join(dir, 'album', 'cover.txt'), 'cover\n')
  await writeFile(join(dir, 'album', '2024', 'jan.txt'), 'january\n')
  await mkdir(join(dir, 'dropped', 'notes'), { recursive: true })
  await writeFile(join(dir, 'dropped', 'notes', 'todo.txt'), 'todo\n')

  const page = await browser.newPage()
  await page.setViewport(DESKTOP)
  // What must never happen, collected for the end: script dialogs (an alert() from an injected
  // handler), CSP violations, uncaught errors in the page, server errors.
  const dialogs: string[] = []
  const errors: string[] = []
  const csp: string[] = []
  page.on('dialog', dialog => { dialogs.push(dialog.message()); dialog.dismiss().catch(() => {}) })
  page.on('pageerror', err => { errors.push(String(err)) })
  page.on('console', message => { if (/Content.Security.Policy/i.test(message.text())) csp.push(message.text()) })
  page.on('response', response => { if (response.status() >= 500) errors.push(`${response.status()} ${response.url()}`) })
  await page.evaluateOnNewDocument(`window.__csp = []
    document.addEventListener('securitypolicyviolation', e => { window.__csp.push(e.violatedDirective + ' ' + e.blockedURI) })`)
  const requests: string[] = []
  page.on('request', request => { requests.push(`${request.method()} ${request.url()}`) })
  // Each step builds on the one before: once one fails, the rest are skipped rather than each
  // waiting out its timeouts, and the page is kept as a screenshot (failed-desktop.png).
  const step = async (name: string, fn: (t: Test) => Promise<void>): Promise<void> => {
    if (!t.passing()) {
      await t.test(name, { skip: 'an earlier step failed' }, async () => {})
      return
    }
    await t.test(name, async t => {
      try {
        await fn(t)
      } catch (err) {
        await shoot(page, 'failed').catch(() => {})
        throw err
      }
      if (!t.passing()) await shoot(page, 'failed').catch(() => {})
    })
  }

  await step('sign-in refuses a wrong token with a message, and the admin token signs in', async t => {
    await page.goto(server.console, { waitUntil: 'networkidle0' })
    await page.waitForSelector('#token')
    t.equal(await page.$eval('#token', el => el.getAttribute('type')), 'password', 'the token goes in a password field')
    await both(page, 'sign-in')
    await page.type('#token', 'sbx_not-the-token')
    await page.keyboard.press('Enter')
    t.match(await waitForText(page, '.form-problem .error', /./), /not the admin token/)
    await page.$eval('#token', el => { (el as unknown as { value: string }).value = '' })
    await page.type('#token', server.adminToken)
    await page.keyboard.press('Enter')
    t.equal(await waitForText(page, 'main h1', /^Buckets$/), 'Buckets')
    t.notOk(page.url().includes(server.adminToken), 'the token is never in the address')
    t.notOk(requests.some(r => r.includes(server.adminToken)), 'nor in any URL the page asked for')
    t.match(server.output(), /console sign-in refused/, 'the failed sign-in was logged')
  })

  await step('creating a bucket: a refused name shows the naming rule; a good one is listed', async t => {
    await page.type('#bucket-name', 'Bad_Name')
    await page.keyboard.press('Enter')
    t.match(await waitForText(page, '#create-bucket-problem .error', /./), /Bad_Name.*lowercase letters, digits, dots and hyphens/)
    await page.$eval('#bucket-name', el => { (el as unknown as { value: string }).value = '' })
    await page.type('#bucket-name', BUCKET)
    await page.keyboard.press('Enter')
    await page.waitForSelector(`tr[data-bucket="${BUCKET}"]`)
    t.equal(await text(page, `tr[data-bucket="${BUCKET}"] th a`), BUCKET)
    t.equal(await text(page, '#create-bucket-problem'), '', 'the refusal is gone')
    await page.type('#bucket-name', 'backups')
    await page.keyboard.press('Enter')
    await page.waitForSelector('tr[data-bucket="backups"]')
    await both(page, 'buckets-empty')
  })

  await step('a 20 MB file goes up as multipart with a moving progress bar, a failed part retried', async t => {
    await page.click(`tr[data-bucket="${BUCKET}"] th a`)
    await page.waitForSelector('#upload-files')
    // Part 2's first attempt fails at the network level, as a dropped connection would.
    const cdp: CDPSession = await page.createCDPSession()
    let failed = 0
    let passed = 0
    cdp.on('Fetch.requestPaused', event => {
      const first = failed === 0
      if (first) failed++
      else passed++
      const reply = first
        ? cdp.send('Fetch.failRequest', { requestId: event.requestId, errorReason: 'ConnectionReset' })
        : cdp.send('Fetch.continueRequest', { requestId: event.requestId })
      reply.catch(() => {})
    })
    await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*/parts/2?*', requestStage: 'Request' }] })
    // Every value the progress bar takes (setting progress.value sets its attribute).
    await page.evaluate(`window.__progress = []
      new MutationObserver(records => { for (const r of records) if (r.target.localName === 'progress') window.__progress.push([r.target.value, r.target.max]) })
        .observe(document.body, { attributes: true, attributeFilter: ['value'], subtree: true })`)
    const input = await page.$('#upload-files')
    const began = Date.now()
    await input!.uploadFile(join(dir, BIG))
    await page.waitForSelector(`li.upload[data-key="${BIG}"][data-state="done"]`, { timeout: 60_000 })
    t.comment(`20 MB uploaded in ${Date.now() - began} ms`)
    await cdp.send('Fetch.disable')
    const samples = await page.evaluate('window.__progress') as Array<[number, number]>
    t.ok(samples.some(([value, max]) => value > 0 && value < max), `the bar showed partial progress (${samples.length} updates)`)
    t.same(samples.at(-1), [BIG_SIZE, BIG_SIZE], 'and ended full')
    t.equal(failed, 1, 'part 2 failed once')
    t.ok(passed >= 1, 'and was sent again')
    const sent = requests.filter(r => r.includes('/_spacebox/console/api/buckets/photos/'))
    t.ok(sent.some(r => /^POST .*\/uploads$/.test(r)), 'a multipart upload began')
    t.same([1, 2, 3].map(n => sent.some(r => r.startsWith('PUT ') && r.includes(`/parts/${n}?`))), [true, true, true], 'in three parts')
    t.ok(sent.some(r => /^POST .*\/complete$/.test(r)), 'and was completed')
    await page.waitForSelector(`tr[data-key="${BIG}"]`)
  })

  await step('a small file goes into a new folder, and the folder can be browsed', async t => {
    await page.click('#new-folder')
    await page.waitForSelector('dialog[open] input')
    await page.type('dialog[open] input', 'docs')
    await page.keyboard.press('Enter')
    await waitForText(page, 'main h1', /^docs$/)
    const input = await page.$('#upload-files')
    await input!.uploadFile(join(dir, 'readme.txt'))
    await page.waitForSelector('tr[data-key="docs/readme.txt"]')
    t.equal(await text(page, 'tr[data-key="docs/readme.txt"] th .label'), 'readme.txt', 'listed by its name inside the folder')
    await page.click(`.crumbs a[href="#/buckets/${BUCKET}"]`)
    await page.waitForSelector('tr[data-key="docs/"]')
    t.ok(await page.$(`tr[data-key="${BIG}"]`), 'the root lists the big file')
    await page.click('tr[data-key="docs/"] th a')
    await page.waitForSelector('tr[data-key="docs/readme.txt"]')
    t.match(await text(page, '.crumbs'), /photos.*docs/, 'the breadcrumbs lead back')
  })

  await step('a folder chosen whole, or dropped on the list, keeps its paths as key prefixes', async t => {
    await route(page, `#/buckets/${BUCKET}`, 'tr[data-key="docs/"]')
    const folder = await page.$('#upload-folder')
    await folder!.uploadFile(join(dir, 'album'))
    // A drop as the OS makes it: the folder's entries are walked (webkitGetAsEntry).
    const cdp = await page.createCDPSession()
    const box = await (await page.$('.dropzone'))!.boundingBox()
    const at = { x: box!.x + box!.width / 2, y: box!.y + box!.height / 2 }
    const data = { items: [], files: [join(dir, 'dropped')], dragOperationsMask: 1 }
    for (const type of ['dragEnter', 'dragOver', 'drop'] as const) await cdp.send('Input.dispatchDragEvent', { type, ...at, data })
    for (const key of ['album/cover.txt', 'album/2024/jan.txt', 'dropped/notes/todo.txt']) {
      await page.waitForSelector(`li.upload[data-key="${key}"][data-state="done"]`)
    }
    await page.waitForSelector('tr[data-key="album/"]')
    await page.waitForSelector('tr[data-key="dropped/"]')
    t.pass('the folders are listed at the root')
    await page.click('#clear-uploads')
    await page.waitForSelector('section.uploads', { hidden: true })
    await both(page, 'browser')
    await page.click('th[data-sort="size"] button')
    await page.click('th[data-sort="size"] button')
    t.equal(await page.$eval('th[data-sort="size"]', el => el.getAttribute('aria-sort')), 'descending', 'sorted by size, then the other way')
    await page.type('#object-search', 'd')
    await page.keyboard.press('Enter')
    await page.waitForFunction('document.querySelector(\'tr[data-key="album/"]\') === null && document.querySelector(\'tr[data-key="docs/"]\') !== null')
    t.same(await page.$$eval('tbody tr[data-key]', rows => rows.map(row => row.getAttribute('data-key'))), ['docs/', 'dropped/'], 'a search lists what starts with it')
    await route(page, `#/buckets/${BUCKET}?prefix=album%2F2024%2F`, 'tr[data-key="album/2024/jan.txt"]')
    t.equal(await text(page, 'main h1'), '2024')
  })

  await step('the 20 MB file downloads back byte-identical', async t => {
    await route(page, `#/buckets/${BUCKET}/object?key=${BIG}`, '#download')
    t.equal(await text(page, '#object-key'), BIG)
    await both(page, 'object')
    const downloads = join(dir, 'downloads')
    await mkdir(downloads)
    const cdp = await browser.target().createCDPSession()
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true })
    const done = new Promise<string>(resolve => {
      cdp.on('Browser.downloadProgress', event => { if (event.state !== 'inProgress') resolve(event.state) })
    })
    await page.click('#download')
    t.equal(await done, 'completed')
    // Chromium names the file after the answer's Content-Disposition.
    t.equal(sha256(await readFile(join(downloads, BIG))), sha256(big), 'same SHA-256')
  })

  let deployer = { accessKeyId: '', secretAccessKey: '' }
  await step('a key with a prefix, the publish right, an expiry and a rate limit; its secret is shown once', async t => {
    await route(page, '#/keys', '#no-hidden-keys')
    t.match(await text(page, '#no-hidden-keys'), /never makes a key on its own/)
    await page.click('.head-actions a')
    await page.waitForSelector('#key-name')
    await page.type('#key-name', 'ci-deploy')
    await page.click('.grants button')
    await page.select('select[data-grant="bucket"]', BUCKET)
    await page.select('select[data-grant="permission"]', 'readwrite')
    await page.type('input[data-grant="prefix"]', 'uploads/')
    await page.click('input[data-grant="publish"]')
    await page.$eval('#key-expires', el => { (el as unknown as { value: string }).value = '2030-01-31' })
    await page.type('#key-rate', '50')
    await page.click('form button[type=submit]')
    await page.waitForSelector('dialog[open] .warning')
    t.match(await text(page, 'dialog[open] .warning'), /shown only once/, 'with a plain warning')
    deployer = await takeSecret(page, 'key-created')
    await waitForText(page, 'main h1', /^ci-deploy$/)
    t.equal(await text(page, '#key-rate-limit'), '50 requests per second')
    const client = s3(server, deployer)
    t.equal(await outcome(client, new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/build.txt', Body: 'x' })), 'ok', 'it writes under its prefix')
    t.equal(await outcome(client, new PutObjectCommand({ Bucket: BUCKET, Key: 'docs/build.txt', Body: 'x' })), 'AccessDenied', 'and nowhere else')
  })

  let reader = { accessKeyId: '', secretAccessKey: '' }
  await step('a read-only key made in the console reads with the AWS SDK and cannot write', async t => {
    await route(page, '#/keys/new', '#key-name')
    await page.type('#key-name', KEY_NAME)
    await page.click('.grants button')
    await page.select('select[data-grant="bucket"]', BUCKET)
    await page.click('form button[type=submit]')
    reader = await takeSecret(page)
    await waitForText(page, 'main h1', /^gallery/)
    t.equal(await text(page, 'main h1'), KEY_NAME, 'the name with quotes is shown as typed')
    const client = s3(server, reader)
    t.equal(await outcome(client, new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/readme.txt' })), 'ok', 'GetObject is allowed')
    t.equal(await outcome(client, new PutObjectCommand({ Bucket: BUCKET, Key: 'docs/new.txt', Body: 'x' })), 'AccessDenied', 'PutObject is refused')
    await page.reload({ waitUntil: 'networkidle0' })
    await waitForText(page, '#usage-requests', /[1-9]/)
    t.equal(await text(page, '#usage-denied'), '1', 'the refusal shows in its usage')
    await both(page, 'key')
  })

  await step('who can reach the bucket: each key, its permission and scope; nothing public', async t => {
    await route(page, `#/buckets/${BUCKET}/access`, `tr[data-access-key="${reader.accessKeyId}"]`)
    t.match(await text(page, `tr[data-access-key="${reader.accessKeyId}"]`), /Read: list and download.*Whole bucket.*Never.*Active/)
    t.match(await text(page, `tr[data-access-key="${deployer.accessKeyId}"]`), /Read and write, may make uploads public.*starting with uploads\/.*2030.*Active/)
    t.match(await text(page, '#public-acl'), /^Private/)
    await both(page, 'access')
  })

  await step('bucket settings: versioning on, and CORS rules checked here then by the server', async t => {
    await route(page, `#/buckets/${BUCKET}/settings`, '#versioning-state')
    await page.click('#versioning-state + .actions button')
    await waitForText(page, '#versioning-state', /^Enabled/)
    await page.click('section[aria-labelledby="encryption-title"] .actions button')
    await waitForText(page, '#encryption-state', /^On: .*AES-256/)
    await page.$eval('#cors-rules', el => { (el as unknown as { value: string }).value = '[{ "allowed_origins": ["https://*.*.example.com"], "allowed_methods": ["GET"] }]' })
    await page.click('form:has(#cors-rules) button[type=submit]')
    t.match(await waitForText(page, '#cors-problem .error', /./), /refused.*more than one wildcard/, 'the server\'s reason is shown')
    await page.$eval('#cors-rules', el => { (el as unknown as { value: string }).value = '[{ "allowed_origins": ["https://app.example.com"], "allowed_methods": ["GET", "PUT"] }]' })
    await page.click('form:has(#cors-rules) button[type=submit]')
    await waitForText(page, '#cors-state', /^1 rule/)
    // Lifecycle rules and a website as JSON: saved, or refused with the server's reason.
    await waitForText(page, '#lifecycle-state', /^No lifecycle rules/)
    await page.$eval('#lifecycle-text', el => { (el as unknown as { value: string }).value = '[{ "id": "tmp", "status": "Enabled", "filter": { "prefix": "tmp/" }, "expiration": { "days": 7 } }]' })
    await page.click('form:has(#lifecycle-text) button[type=submit]')
    await waitForText(page, '#lifecycle-state', /^Set/)
    t.match(await page.$eval('#lifecycle-text', el => (el as unknown as { value: string }).value), /"days": 7/, 'the rules as the server keeps them')
    await page.$eval('#website-text', el => { (el as unknown as { value: string }).value = '{ "indexDocument": { "suffix": "" } }' })
    await page.click('form:has(#website-text) button[type=submit]')
    t.match(await waitForText(page, '#website-problem .error', /./), /refused/, 'a website the server refuses, with its reason')
    await both(page, 'settings')
  })

  await step('a presigned link signed with the read-only key, for the time chosen, downloads the object', async t => {
    await route(page, `#/buckets/${BUCKET}/object?key=docs/readme.txt`, '#presign-key')
    await page.select('#presign-key', reader.accessKeyId)
    await page.select('#presign-expiry', '300')
    await page.click('form:has(#presign-key) button[type=submit]')
    await page.waitForSelector('#presign-url')
    const link = new URL(await page.$eval('#presign-url', el => (el as unknown as { value: string }).value))
    t.equal(link.searchParams.get('X-Amz-Expires'), '300')
    t.match(link.searchParams.get('X-Amz-Credential'), new RegExp(`^${reader.accessKeyId}/`))
    const answer = await fetch(link)
    t.equal(answer.status, 200)
    t.equal(await answer.text(), 'hello from the console\n')
  })

  let renewed = { accessKeyId: '', secretAccessKey: '' }
  await step('regenerating the key after typing its name: the old secret is refused at once, the new one works', async t => {
    await route(page, `#/keys/${reader.accessKeyId}`, '#regenerate-key')
    await page.click('#regenerate-key')
    t.ok(await confirmByName(page, KEY_NAME), 'the button waits for the whole name')
    renewed = await takeSecret(page)
    t.equal(renewed.accessKeyId, reader.accessKeyId)
    t.not(renewed.secretAccessKey, reader.secretAccessKey)
    t.match(await outcome(s3(server, reader), new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/readme.txt' })), /^(InvalidAccessKeyId|SignatureDoesNotMatch)$/)
    t.equal(await outcome(s3(server, renewed), new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/readme.txt' })), 'ok')
    await page.click('#toggle-key')
    await waitForText(page, '#toggle-key', /^Enable$/)
    t.equal(await outcome(s3(server, renewed), new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/readme.txt' })), 'InvalidAccessKeyId', 'disabled, it is refused')
    await page.click('#toggle-key')
    await waitForText(page, '#toggle-key', /^Disable$/)
    t.equal(await outcome(s3(server, renewed), new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/readme.txt' })), 'ok', 'enabled again, it works')
  })

  await step('deleting the key needs its name typed; then it is gone', async t => {
    await route(page, '#/keys', `tr[data-access-key="${reader.accessKeyId}"]`)
    await both(page, 'keys')
    await page.click(`tr[data-access-key="${reader.accessKeyId}"] th a`)
    await page.waitForSelector('#delete-key')
    // By keyboard: Tab stays inside the dialog, Escape closes it and gives focus back.
    await page.focus('#delete-key')
    await page.keyboard.press('Enter')
    await page.waitForSelector('dialog[open]')
    for (let i = 0; i < 6; i++) await page.keyboard.press('Tab')
    t.ok(await page.evaluate('document.activeElement.closest("dialog") !== null'), 'Tab wraps inside the dialog')
    await page.keyboard.press('Escape')
    await dialogGone(page)
    t.equal(await page.evaluate('document.activeElement.id'), 'delete-key', 'Escape closed it, focus is back on its button')
    await page.click('#delete-key')
    t.ok(await confirmByName(page, KEY_NAME), 'the button waits for the whole name')
    await waitForText(page, 'main h1', /^Access keys$/)
    await page.waitForNetworkIdle({ idleTime: 100 })
    t.equal(await page.$(`tr[data-access-key="${reader.accessKeyId}"]`), null, 'no longer listed')
    t.equal(await outcome(s3(server, renewed), new GetObjectCommand({ Bucket: BUCKET, Key: 'docs/readme.txt' })), 'InvalidAccessKeyId')
  })

  await step('an object and a key named like markup render as text and run nothing', async t => {
    await route(page, `#/keys/${deployer.accessKeyId}`, '#rename-key')
    await page.$eval('#rename-key', el => { (el as unknown as { value: string }).value = '' })
    await page.type('#rename-key', HOSTILE_KEY_NAME)
    await page.click('form:has(#rename-key) button[type=submit]')
    await waitForText(page, 'main h1', /onerror/)
    t.equal(await text(page, 'main h1'), HOSTILE_KEY_NAME, 'the renamed key\'s name is shown as typed')
    // Its grants edited: read only, from now on.
    await page.select('select[data-grant="permission"]', 'read')
    await page.click('form:has(select[data-grant]) button[type=submit]')
    await waitForText(page, '#status', /^Grants saved$/)
    t.equal(await outcome(s3(server, deployer), new PutObjectCommand({ Bucket: BUCKET, Key: 'uploads/again.txt', Body: 'x' })), 'AccessDenied', 'its grants edited to read, it cannot write')
    await route(page, '#/keys', `tr[data-access-key="${deployer.accessKeyId}"]`)
    t.equal(await text(page, `tr[data-access-key="${deployer.accessKeyId}"] th`), HOSTILE_KEY_NAME)

    await route(page, `#/buckets/${BUCKET}`, '#upload-files')
    const input = await page.$('#upload-files')
    await input!.uploadFile(join(dir, XSS))
    const row = `tr[data-key="${XSS}"]`
    await page.waitForSelector(row)
    t.equal(await text(page, `${row} th .label`), XSS, 'the row shows the name as it is')
    t.equal(await page.$$eval('img[src="x"]', els => els.length), 0, 'no <img> was made of it')
    await page.click(`${row} th a`)
    await waitForText(page, '#object-key', /onerror/)
    t.equal(await text(page, 'main h1'), XSS)
    t.equal(await page.$$eval('img[src="x"]', els => els.length), 0)
    t.same(dialogs, [], 'no script dialog opened')
  })

  await step('deleting: several objects and folders at once, after a confirmation; a bucket only once empty, its name typed', async t => {
    await route(page, `#/buckets/${BUCKET}`, 'tr[data-key="album/"]')
    await page.click('tr[data-key="album/"] input[type=checkbox]')
    await page.click('tr[data-key="dropped/"] input[type=checkbox]')
    t.equal(await text(page, '.toolbar-actions button'), 'Delete 2 selected')
    await page.click('.toolbar-actions button')
    await page.waitForSelector('dialog[open]')
    t.match(await text(page, 'dialog[open] h2'), /2 folders with everything in them/)
    await page.click('dialog[open] .dialog-actions button[type=submit]')
    await dialogGone(page)
    await page.waitForFunction('document.querySelector(\'tr[data-key="album/"]\') === null && document.querySelector(\'tr[data-key="dropped/"]\') === null')
    t.ok(await page.$('tr[data-key="docs/"]'), 'what was not selected stays')

    await route(page, '#/buckets', `tr[data-bucket="${BUCKET}"]`)
    await page.click(`tr[data-bucket="${BUCKET}"] button`)
    t.ok(await confirmByName(page, BUCKET), 'the button waits for the whole name')
    t.match(await waitForText(page, 'dialog[open] .dialog-problem', /./), /not empty/, 'a bucket with objects is refused, saying why')
    await page.keyboard.press('Escape')
    await dialogGone(page)
    await page.type('#bucket-name', 'scratch')
    await page.keyboard.press('Enter')
    await page.waitForSelector('tr[data-bucket="scratch"]')
    await page.click('tr[data-bucket="scratch"] button')
    await confirmByName(page, 'scratch')
    await page.waitForSelector('tr[data-bucket="scratch"]', { hidden: true })
    t.ok(await page.$(`tr[data-bucket="${BUCKET}"]`), 'the other bucket stays')
  })

  await step('every page fits 360 px without sideways scrolling', async t => {
    await route(page, '#/keys/new', '#key-name')
    await both(page, 'new-key')
    await route(page, '#/buckets', `tr[data-bucket="${BUCKET}"]`)
    await both(page, 'buckets')
    for (const [name, width] of phoneWidths) t.ok(width <= 360, `${name}: ${width} px wide`)
  })

  await step('signing out ends the session; the page breaks no rule of its CSP and throws nothing', async t => {
    await page.click('#sign-out')
    await page.waitForSelector('#token')
    const status = await page.evaluate('fetch(\'/_spacebox/console/api/buckets\').then(r => r.status)')
    t.equal(status, 401, 'the API refuses the old cookie')
    t.same(await page.evaluate('window.__csp'), [], 'no securitypolicyviolation event')
    t.same(csp, [], 'no CSP message in the console')
    t.same(errors, [], 'no error in the page, no 5xx')
    t.comment(`the whole run took ${Date.now() - started} ms`)
  })
}

// Last: everything above is initialised by the time run() reads it.
if (!existsSync(CHROMIUM)) {
  if (process.env.CI !== undefined) t.fail(`the browser tests need Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`)
  else t.plan(0, `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`)
} else if (!existsSync(CLI)) {
  if (process.env.CI !== undefined) t.fail('dist/cli/main.js is missing: run `npm run build` first')
  else t.plan(0, 'dist/cli/main.js is missing: run `npm run build` first')
} else {
  await run()
}

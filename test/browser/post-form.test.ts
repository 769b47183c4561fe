import t from 'tap'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { tempDir } from '../helpers.js'
import { serve } from '../s3/helpers.js'
import { signV4 } from '../s3/post-forms.js'

// Debian's chromium (`apt-get install chromium`; .ci/run installs it); another with CHROMIUM_PATH.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

// S3's variable for the uploaded file's name, written literally in forms.
// eslint-disable-next-line no-template-curly-in-string
const FILENAME = '${filename}'

if (!existsSync(CHROMIUM)) {
  if (process.env.CI !== undefined) t.fail(`the browser tests need Chromium at ${CHROMIUM} (.ci/run installs Debian's chromium)`)
  else t.plan(0, `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`)
} else {
  await run()
}

function attribute (value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;')
}

async function listen (server: Server): Promise<string> {
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function run (): Promise<void> {
  const { default: puppeteer } = await import('puppeteer-core')
  const s = await serve(t)
  await s.box.createBucket('browser')
  // The page comes from another origin (another port): its script's uploads need CORS.
  let pageOrigin = ''
  const pages = createServer((req, res) => {
    const url = new URL(req.url ?? '/', pageOrigin)
    if (url.pathname === '/done') {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(`<html><body><p id="done">uploaded ${attribute(url.searchParams.get('key') ?? '')}</p></body></html>`)
      return
    }
    const fields = [
      ['key', `uploads/${FILENAME}`], ['Content-Type', 'text/plain'], ['success_action_redirect', `${pageOrigin}/done`],
      ...signV4(s.credentials, [{ bucket: 'browser' }, ['starts-with', '$key', 'uploads/'], ['starts-with', '$Content-Type', 'text/'],
        { success_action_redirect: `${pageOrigin}/done` }, ['content-length-range', 1, 1024 * 1024]])
    ]
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(`<!doctype html><html><head><meta charset="utf-8"></head><body>
<form id="upload" action="${s.server.url}/browser" method="post" enctype="multipart/form-data">
${fields.map(([name, value]) => `<input type="hidden" name="${attribute(name!)}" value="${attribute(value!)}">`).join('\n')}
<input type="file" name="file">
<input type="submit" value="Upload">
</form></body></html>`)
  })
  pageOrigin = await listen(pages)
  t.teardown(() => { pages.close() })
  await s.box.putBucketCors('browser', [{ allowedOrigins: [pageOrigin], allowedMethods: ['POST'], exposeHeaders: ['ETag'] }])

  const dir = await tempDir(t)
  const path = join(dir, 'hello world.txt')
  await writeFile(path, 'sent by a real browser\n')
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
  t.teardown(async () => { await browser.close() })

  t.test('a real HTML form in Chromium uploads its file and is redirected with the bucket, key and ETag', async t => {
    const page = await browser.newPage()
    await page.goto(pageOrigin)
    const input = await page.$('input[type=file]')
    await input!.uploadFile(path)
    await Promise.all([page.waitForNavigation(), page.click('input[type=submit]')])
    const landed = new URL(page.url())
    t.equal(landed.origin + landed.pathname, `${pageOrigin}/done`)
    t.equal(landed.searchParams.get('bucket'), 'browser')
    t.equal(landed.searchParams.get('key'), 'uploads/hello world.txt')
    t.match(landed.searchParams.get('etag'), /^"[0-9a-f]{32}"$/)
    t.equal(await page.$eval('#done', el => el.textContent), 'uploaded uploads/hello world.txt')
    const { body, info } = await s.box.getObject('browser', 'uploads/hello world.txt')
    const pieces: Buffer[] = []
    for await (const piece of body) pieces.push(piece as Buffer)
    t.equal(Buffer.concat(pieces).toString(), 'sent by a real browser\n')
    t.equal(info.contentType, 'text/plain')
    t.equal(landed.searchParams.get('etag'), info.etag)
    await page.close()
  })

  t.test('a page script uploads the same form with fetch() across origins, reading the answer through CORS', async t => {
    const page = await browser.newPage()
    await page.goto(pageOrigin)
    // Runs in the page (a string: this project's TypeScript has no DOM types).
    const submitFrom = (keepRedirect: boolean): string => `(async () => {
      const form = new FormData(document.getElementById('upload'))
      ${keepRedirect ? '' : "form.delete('success_action_redirect')"}
      form.set('file', new Blob(['from a script'], { type: 'text/plain' }), 'script.txt')
      const answer = await fetch(${JSON.stringify(`${s.server.url}/browser`)}, { method: 'POST', body: form, redirect: 'manual' })
      return { status: answer.status, type: answer.type, body: await answer.text() }
    })()`
    // The policy names success_action_redirect, so a form without it fails that condition: S3's answer, readable through CORS.
    const result = await page.evaluate(submitFrom(false)) as { status: number, body: string }
    t.equal(result.status, 403, result.body)
    t.match(result.body, /Policy Condition failed/)
    const ok = await page.evaluate(submitFrom(true)) as { type: string }
    t.equal(ok.type, 'opaqueredirect', 'the upload answered with a redirect')
    const info = await s.box.headObject('browser', 'uploads/script.txt')
    t.equal(info.size, 'from a script'.length)
    await page.close()
  })
}

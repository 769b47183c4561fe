import t, { type Test } from 'tap'
import {
  DeleteBucketWebsiteCommand, GetBucketWebsiteCommand, PutBucketWebsiteCommand, S3ServiceException
} from '@aws-sdk/client-s3'
import type { WebsiteConfiguration } from '../../lib/index.js'
import { run } from '../../lib/cli/run.js'
import { parseServeArgs } from '../../lib/cli/serve.js'
import { serve, type Served } from './helpers.js'
import { md5Base64, send, sendSigned, signV4, type Reply } from './wire.js'

const HTML = 'text/html; charset=utf-8'

/** A server with a websites listener and bucket `site`: public pages, a private one, an error page. */
async function site (t: Tap, config: WebsiteConfiguration = { indexDocument: { suffix: 'index.html' } }): Promise<Served & { visit: Visit }> {
  const s = await serve(t, { server: { websitePort: 0 } })
  await s.box.createBucket('site')
  const pages: Record<string, [string, string]> = {
    'index.html': ['<h1>home</h1>', 'text/html'],
    'docs/index.html': ['<h1>docs</h1>', 'text/html'],
    'guide/index.html': ['<h1>guide</h1>', 'text/html'],
    'style.css': ['h1 { color: red }', 'text/css'],
    'errors/404.html': ['<h1>lost</h1>', 'text/html'],
    'img/logo.svg': ['<svg/>', 'image/svg+xml']
  }
  for (const [key, [body, contentType]] of Object.entries(pages)) await s.box.putObject('site', key, body, { contentType, acl: 'public-read' })
  await s.box.putObject('site', 'private.html', '<h1>secret</h1>', { contentType: 'text/html' })
  await s.box.putBucketWebsite('site', config)
  const port = s.server.websitePort as number
  t.ok(port > 0 && port !== s.server.port, 'the websites listener has its own port')
  const visit: Visit = async (path, options = {}) => await send(s.server.websiteUrl as string, options.method ?? 'GET', path, { host: `${options.host ?? 'site.localhost'}:${port}`, ...options.headers })
  return { ...s, visit }
}

type Tap = Test
type Visit = (path: string, options?: { method?: string, host?: string, headers?: Record<string, string> }) => Promise<Reply>

/** An HTML error page as S3's website endpoints send it. */
function assertHtmlError (t: Tap, reply: Reply, status: number, code: string, message?: string): void {
  t.equal(reply.status, status, `${code}: status`)
  t.equal(reply.headers['content-type'], HTML, `${code}: an HTML page`)
  t.equal(reply.headers['x-amz-error-code'], code)
  if (message !== undefined) t.equal(reply.headers['x-amz-error-message'], message)
  t.ok(reply.headers['x-amz-request-id'], 'with a request id')
  if (reply.body.length > 0) {
    t.match(reply.text, new RegExp(`<h1>${status} [A-Za-z ]+</h1>`))
    t.match(reply.text, `<li>Code: ${code}</li>`)
    t.notMatch(reply.text, '<?xml', 'never XML')
  }
}

t.test('the index document answers / and dir/; pages are served with their types; HEAD has no body', async t => {
  const s = await site(t)
  const home = await s.visit('/')
  t.equal(home.status, 200)
  t.equal(home.text, '<h1>home</h1>')
  t.equal(home.headers['content-type'], 'text/html')
  t.ok(home.headers.etag)
  t.equal((await s.visit('/docs/')).text, '<h1>docs</h1>')
  const css = await s.visit('/style.css')
  t.equal(css.text, 'h1 { color: red }')
  t.equal(css.headers['content-type'], 'text/css')
  const head = await s.visit('/', { method: 'HEAD' })
  t.equal(head.status, 200)
  t.equal(head.body.length, 0)
  t.equal(head.headers['content-length'], String('<h1>home</h1>'.length))
  t.equal((await s.visit('/?list-type=2&versionId=x&response-content-type=text/plain')).text, '<h1>home</h1>', 'the query is no API: no listing, no version, no override')
  t.equal((await s.visit('/?list-type=2&response-content-type=text/plain')).headers['content-type'], 'text/html')
  t.equal((await s.visit('/docs%2Findex.html')).text, '<h1>docs</h1>', 'the path is percent-decoded')
})

t.test('a folder without its slash redirects (302) to it when dir/<suffix> exists', async t => {
  const s = await site(t)
  const reply = await s.visit('/guide')
  t.equal(reply.status, 302)
  t.equal(reply.headers.location, '/guide/')
  t.equal((await s.visit('/guide', { method: 'HEAD' })).status, 302)
  t.equal((await s.visit('/guide/')).text, '<h1>guide</h1>')
  assertHtmlError(t, await s.visit('/nowhere'), 403, 'AccessDenied')
})

t.test('only what is public is served: a private object is 403, a missing key 403 unless the bucket is listable', async t => {
  const s = await site(t)
  assertHtmlError(t, await s.visit('/private.html'), 403, 'AccessDenied', 'Access Denied')
  assertHtmlError(t, await s.visit('/missing.html'), 403, 'AccessDenied')
  // A signature is not looked at: the website endpoint serves the anonymous caller only.
  const signature = signV4(s.credentials, 'GET', '/private.html', `site.localhost:${String(s.server.websitePort)}`)
  const signed = await send(s.server.websiteUrl as string, 'GET', '/private.html', signature.headers)
  assertHtmlError(t, signed, 403, 'AccessDenied')
  await s.box.putBucketAcl('site', 'public-read')
  const missing = await s.visit('/missing.html')
  assertHtmlError(t, missing, 404, 'NoSuchKey')
  t.match(missing.text, '<li>Key: missing.html</li>')
  // A public-read bucket may be listed by anyone; its objects stay private.
  assertHtmlError(t, await s.visit('/private.html'), 403, 'AccessDenied')
  await s.box.putObjectAcl('site', 'private.html', 'public-read')
  t.equal((await s.visit('/private.html')).text, '<h1>secret</h1>', 'an object made public is served at once')
})

t.test('a bucket policy that allows s3:GetObject to everyone publishes the objects it names', async t => {
  const s = await site(t)
  await s.box.putBucketPolicy('site', JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::site/private*' }]
  }))
  t.equal((await s.visit('/private.html')).status, 200)
})

t.test('the error document is served for 4xx errors with the original status', async t => {
  const s = await site(t, { indexDocument: { suffix: 'index.html' }, errorDocument: { key: 'errors/404.html' } })
  const denied = await s.visit('/private.html')
  t.equal(denied.status, 403, 'S3 keeps the status: a custom "404 page" arrives with 403 unless the bucket is listable')
  t.equal(denied.text, '<h1>lost</h1>')
  t.equal(denied.headers['content-type'], 'text/html')
  await s.box.putBucketAcl('site', 'public-read')
  const missing = await s.visit('/missing/')
  t.equal(missing.status, 404)
  t.equal(missing.text, '<h1>lost</h1>')
  const head = await s.visit('/missing.html', { method: 'HEAD' })
  t.equal(head.status, 404)
  t.equal(head.body.length, 0)

  await s.box.putObjectAcl('site', 'errors/404.html', 'private')
  const fallback = await s.visit('/missing.html')
  assertHtmlError(t, fallback, 404, 'NoSuchKey')
  t.match(fallback.text, '<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>')
  t.match(fallback.text, /Custom Error Document<\/h3>\n<ul>\n<li>Code: AccessDenied<\/li>/, 'the page says why the error document was not served')
  assertHtmlError(t, await s.visit('/x', { method: 'PUT' }), 405, 'MethodNotAllowed')
})

t.test('only GET and HEAD: other methods are 405 and change nothing', async t => {
  const s = await site(t)
  for (const method of ['PUT', 'POST', 'DELETE', 'PATCH', 'OPTIONS']) {
    const reply = await s.visit('/index.html', { method, headers: { 'content-type': 'text/plain' } })
    assertHtmlError(t, reply, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.')
    if (method !== 'OPTIONS') t.match(reply.text, `<li>Method: ${method}</li>`)
  }
  t.equal((await s.visit('/')).text, '<h1>home</h1>', 'the index is untouched')
  const put = await s.visit('/new.html', { method: 'PUT' })
  t.equal(put.status, 405)
  await t.rejects(s.box.headObject('site', 'new.html'), { code: 'NoSuchKey' })
})

t.test('conditional GET and ranges work as on GetObject', async t => {
  const s = await site(t)
  const { etag } = (await s.visit('/style.css')).headers as { etag: string }
  const cached = await s.visit('/style.css', { headers: { 'if-none-match': etag } })
  t.equal(cached.status, 304)
  t.equal(cached.body.length, 0)
  t.equal((await s.visit('/', { headers: { 'if-none-match': etag } })).status, 200, 'another object, another etag')
  const partial = await s.visit('/style.css', { headers: { range: 'bytes=0-1' } })
  t.equal(partial.status, 206)
  t.equal(partial.text, 'h1')
  t.equal(partial.headers['content-range'], `bytes 0-1/${'h1 { color: red }'.length}`)
  const failed = await s.visit('/style.css', { headers: { 'if-match': '"nope"' } })
  assertHtmlError(t, failed, 412, 'PreconditionFailed')
  const range = await s.visit('/style.css', { headers: { range: 'bytes=1000-' } })
  assertHtmlError(t, range, 416, 'InvalidRange')
  t.equal(range.headers['content-range'], `bytes */${'h1 { color: red }'.length}`)
})

t.test('RedirectAllRequestsTo answers every request with 301 to the host, same path and query', async t => {
  const s = await site(t, { redirectAllRequestsTo: { hostName: 'www.example.com' } })
  const reply = await s.visit('/a/b%20c.html?x=1')
  t.equal(reply.status, 301)
  t.equal(reply.headers.location, 'http://www.example.com/a/b%20c.html?x=1', 'the request\'s protocol when none is given')
  await s.box.putBucketWebsite('site', { redirectAllRequestsTo: { hostName: 'example.com:8443', protocol: 'https' } })
  t.equal((await s.visit('/')).headers.location, 'https://example.com:8443/')
  t.equal((await s.visit('/', { method: 'HEAD' })).status, 301)
})

t.test('routing rules redirect by key prefix before the lookup, and by error code after it', async t => {
  const s = await site(t, {
    indexDocument: { suffix: 'index.html' },
    errorDocument: { key: 'errors/404.html' },
    routingRules: [
      { condition: { keyPrefixEquals: 'docs/old/' }, redirect: { replaceKeyPrefixWith: 'docs/' } },
      { condition: { keyPrefixEquals: 'blog/' }, redirect: { hostName: 'blog.example.com', protocol: 'https', replaceKeyPrefixWith: '', httpRedirectCode: 308 } },
      { condition: { httpErrorCodeReturnedEquals: 403, keyPrefixEquals: 'img/' }, redirect: { hostName: 'cdn.example.com', httpRedirectCode: 302 } },
      { condition: { httpErrorCodeReturnedEquals: 403 }, redirect: { replaceKeyWith: 'index.html', httpRedirectCode: 307 } }
    ]
  })
  const port = String(s.server.websitePort)
  const moved = await s.visit('/docs/old/a%20b.html?q=1')
  t.equal(moved.status, 301, 'a rule without a code is 301')
  t.equal(moved.headers.location, `http://site.localhost:${port}/docs/a%20b.html?q=1`, 'same host and protocol, prefix replaced, query kept')
  const blog = await s.visit('/blog/2024/post.html')
  t.equal(blog.status, 308)
  t.equal(blog.headers.location, 'https://blog.example.com/2024/post.html')
  t.equal((await s.visit('/img/logo.svg')).status, 200, 'an error rule does not touch what is found')
  const image = await s.visit('/img/missing.png')
  t.equal(image.status, 302)
  t.equal(image.headers.location, 'http://cdn.example.com/img/missing.png')
  const other = await s.visit('/private.html')
  t.equal(other.status, 307, 'a rule for the error comes before the error document')
  t.equal(other.headers.location, `http://site.localhost:${port}/index.html`)
})

t.test('no bucket, or no website configuration, is a 404 HTML page', async t => {
  const s = await site(t)
  const none = await s.visit('/', { host: 'nosuch.localhost' })
  assertHtmlError(t, none, 404, 'NoSuchBucket')
  t.match(none.text, '<li>BucketName: nosuch</li>')
  await s.box.createBucket('plain')
  assertHtmlError(t, await s.visit('/', { host: 'plain.localhost' }), 404, 'NoSuchWebsiteConfiguration', 'The specified bucket does not have a website configuration')
  assertHtmlError(t, await s.visit('/', { host: '127.0.0.1' }), 404, 'NoSuchBucket')
  await s.box.deleteBucketWebsite('site')
  assertHtmlError(t, await s.visit('/'), 404, 'NoSuchWebsiteConfiguration')
})

t.test('website Hosts: Spaces\' and AWS\'s forms on the S3 port, any name on the websites port', async t => {
  const s = await site(t)
  const main = async (host: string): Promise<Reply> => await send(s.server.url, 'GET', '/', { host })
  t.equal((await main('site.nyc3-static.digitaloceanspaces.com')).text, '<h1>home</h1>', 'Spaces\' <bucket>.<region>-static.<domain>')
  t.equal((await main('site.nyc3-static.localhost')).text, '<h1>home</h1>', 'any domain')
  t.equal((await main('site.s3-website-us-east-1.amazonaws.com')).text, '<h1>home</h1>', 'AWS <bucket>.s3-website-<region>')
  t.equal((await main('site.s3-website.eu-west-1.amazonaws.com:80')).text, '<h1>home</h1>', 'AWS <bucket>.s3-website.<region>')
  const api = await main('site.localhost')
  t.equal(api.status, 403, 'the S3 API still answers its own Hosts')
  t.equal(api.code, 'AccessDenied')
  t.match(api.headers['content-type'], 'application/xml')
  const port = String(s.server.websitePort)
  t.equal((await send(s.server.websiteUrl as string, 'GET', '/', { host: `site.nyc3-static.localhost:${port}` })).text, '<h1>home</h1>')
  await s.box.createBucket('www.example.com')
  await s.box.putObject('www.example.com', 'index.html', 'custom domain', { acl: 'public-read' })
  await s.box.putBucketWebsite('www.example.com', { indexDocument: { suffix: 'index.html' } })
  t.equal((await s.visit('/', { host: 'www.example.com' })).text, 'custom domain', 'a Host that is no known form names its bucket whole')
  const listing = await send(s.server.websiteUrl as string, 'GET', '/site?list-type=2', { host: `127.0.0.1:${port}` })
  assertHtmlError(t, listing, 404, 'NoSuchBucket')
})

t.test('PutBucketWebsite, GetBucketWebsite, DeleteBucketWebsite through the AWS SDK', async t => {
  const s = await serve(t)
  await s.box.createBucket('site')
  const client = s.client()
  const error = async (promise: Promise<unknown>): Promise<S3ServiceException> => await promise.then(() => { throw new Error('resolved') }, (err: S3ServiceException) => err)
  const none = await error(client.send(new GetBucketWebsiteCommand({ Bucket: 'site' })))
  t.equal(none.name, 'NoSuchWebsiteConfiguration')
  t.equal(none.$metadata.httpStatusCode, 404)
  await client.send(new PutBucketWebsiteCommand({
    Bucket: 'site',
    WebsiteConfiguration: {
      IndexDocument: { Suffix: 'index.html' },
      ErrorDocument: { Key: 'error.html' },
      RoutingRules: [
        { Condition: { KeyPrefixEquals: 'docs/' }, Redirect: { ReplaceKeyPrefixWith: 'documents/' } },
        { Condition: { HttpErrorCodeReturnedEquals: '404' }, Redirect: { HostName: 'example.com', Protocol: 'https', HttpRedirectCode: '302', ReplaceKeyWith: 'e.html' } }
      ]
    }
  }))
  const got = await client.send(new GetBucketWebsiteCommand({ Bucket: 'site' }))
  t.same(got.IndexDocument, { Suffix: 'index.html' })
  t.same(got.ErrorDocument, { Key: 'error.html' })
  t.same(got.RoutingRules, [
    { Condition: { KeyPrefixEquals: 'docs/' }, Redirect: { ReplaceKeyPrefixWith: 'documents/' } },
    { Condition: { HttpErrorCodeReturnedEquals: '404' }, Redirect: { HostName: 'example.com', Protocol: 'https', HttpRedirectCode: '302', ReplaceKeyWith: 'e.html' } }
  ])
  t.same(await s.box.getBucketWebsite('site'), {
    indexDocument: { suffix: 'index.html' },
    errorDocument: { key: 'error.html' },
    routingRules: [
      { condition: { keyPrefixEquals: 'docs/' }, redirect: { replaceKeyPrefixWith: 'documents/' } },
      { condition: { httpErrorCodeReturnedEquals: 404 }, redirect: { hostName: 'example.com', protocol: 'https', httpRedirectCode: 302, replaceKeyWith: 'e.html' } }
    ]
  }, 'the engine holds what the SDK sent')

  await client.send(new PutBucketWebsiteCommand({ Bucket: 'site', WebsiteConfiguration: { RedirectAllRequestsTo: { HostName: 'example.com', Protocol: 'https' } } }))
  const all = await client.send(new GetBucketWebsiteCommand({ Bucket: 'site' }))
  t.same(all.RedirectAllRequestsTo, { HostName: 'example.com', Protocol: 'https' })
  t.equal(all.IndexDocument, undefined)

  const bad = await error(client.send(new PutBucketWebsiteCommand({ Bucket: 'site', WebsiteConfiguration: { IndexDocument: { Suffix: 'a/b' } } })))
  t.equal(bad.name, 'InvalidArgument')
  t.equal(bad.message, 'The IndexDocument Suffix is not well formed')
  const both = await error(client.send(new PutBucketWebsiteCommand({ Bucket: 'site', WebsiteConfiguration: { RedirectAllRequestsTo: { HostName: 'h' }, IndexDocument: { Suffix: 'i' } } })))
  t.equal(both.name, 'MalformedXML')

  await client.send(new DeleteBucketWebsiteCommand({ Bucket: 'site' }))
  t.equal((await error(client.send(new GetBucketWebsiteCommand({ Bucket: 'site' })))).name, 'NoSuchWebsiteConfiguration')

  const reader = await s.keyed([{ bucket: 'site', permission: 'readwrite' }])
  const denied = await error(reader.client.send(new PutBucketWebsiteCommand({ Bucket: 'site', WebsiteConfiguration: { IndexDocument: { Suffix: 'i' } } })))
  t.equal(denied.name, 'AccessDenied', 'a readwrite key cannot configure a website')
})

t.test('?website on the wire: Content-MD5 required, malformed bodies refused, other methods 405', async t => {
  const s = await serve(t)
  await s.box.createBucket('site')
  const body = '<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><IndexDocument><Suffix>index.html</Suffix></IndexDocument></WebsiteConfiguration>'
  const put = async (xml: string, md5 = true): Promise<Reply> => await sendSigned(s.server.url, s.credentials, 'PUT', '/site?website', md5 ? { 'content-md5': md5Base64(xml) } : {}, xml)
  const unsummed = await put(body, false)
  t.equal(unsummed.status, 400)
  t.equal(unsummed.code, 'InvalidRequest')
  t.equal((await put(body)).status, 200)
  const got = await sendSigned(s.server.url, s.credentials, 'GET', '/site?website')
  t.equal(got.status, 200)
  t.equal(got.text, `<?xml version="1.0" encoding="UTF-8"?>\n${body}`)
  for (const xml of ['<WebsiteConfiguration/>', '<WebsiteConfiguration><IndexDocument><Suffix>a</Suffix></IndexDocument><Bogus/></WebsiteConfiguration>', 'not xml']) {
    t.equal((await put(xml)).code, 'MalformedXML', xml)
  }
  t.equal((await put('<WebsiteConfiguration><IndexDocument><Suffix>a/b</Suffix></IndexDocument></WebsiteConfiguration>')).code, 'InvalidArgument')
  t.equal((await sendSigned(s.server.url, s.credentials, 'HEAD', '/site?website')).status, 405, 'HEAD ?website is no HeadBucket')
  t.equal((await sendSigned(s.server.url, s.credentials, 'GET', '/site/key?website')).status, 405, 'no website on an object')
  t.equal((await send(s.server.url, 'GET', '/site?website')).code, 'AccessDenied', 'unsigned: AccessDenied')
  t.equal((await sendSigned(s.server.url, s.credentials, 'DELETE', '/site?website')).status, 204)
  t.equal((await sendSigned(s.server.url, s.credentials, 'GET', '/site?website')).code, 'NoSuchWebsiteConfiguration')
})

t.test('spacebox serve --website-port serves bucket websites on a second port', async t => {
  t.throws(() => parseServeArgs(['--memory', '--website-port', 'eighty']), { name: 'UsageError', message: '--website-port "eighty" is not a port number' })
  t.equal(parseServeArgs(['--memory']).websitePort, undefined, 'no websites listener unless asked')
  t.equal(parseServeArgs(['--memory', '--website-port', '8080']).websitePort, 8080)
  let out = ''
  const stop = new AbortController()
  const code = run(['serve', '--memory', '--port', '0', '--website-port', '0', '--bucket', 'site'], { stdout: { write: (text: string) => { out += text } }, stderr: { write: () => {} }, env: {}, signal: stop.signal })
  t.teardown(async () => {
    stop.abort()
    await code
  })
  let port: string | undefined
  for (let waited = 0; port === undefined && waited < 10_000; waited += 20) {
    port = /Bucket websites on port (\d+): http:\/\/<bucket>\.localhost:\d+\//.exec(out)?.[1]
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  t.ok(port, `the websites port is printed: ${out}`)
  const reply = await send(`http://127.0.0.1:${String(port)}`, 'GET', '/', { host: `site.localhost:${String(port)}` })
  assertHtmlError(t, reply, 404, 'NoSuchWebsiteConfiguration')
})

// Versioning on the wire, where the SDK hides the bytes: exact headers and XML, HEAD without
// bodies, and headers that must be absent.
import t, { type Test } from 'tap'
import { createHash } from 'node:crypto'
import { serve, type Served } from './helpers.js'
import { md5Base64, sendSigned, type Reply } from './wire.js'

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'

async function setup (t: Test): Promise<{ s: Served, req: (method: string, path: string, headers?: Record<string, string>, body?: string) => Promise<Reply> }> {
  const s = await serve(t)
  const req = async (method: string, path: string, headers: Record<string, string> = {}, body = ''): Promise<Reply> =>
    await sendSigned(s.server.url, s.credentials, method, path, headers, body)
  t.equal((await req('PUT', '/bkt')).status, 200)
  return { s, req }
}

function versioningBody (status: string): string {
  return `<VersioningConfiguration ${NS}><Status>${status}</Status></VersioningConfiguration>`
}

async function setVersioning (req: Awaited<ReturnType<typeof setup>>['req'], status: string, bucket = 'bkt'): Promise<Reply> {
  const body = versioningBody(status)
  return await req('PUT', `/${bucket}?versioning`, { 'content-md5': md5Base64(body) }, body)
}

/** An error body's elements after Message, up to Resource: the extras S3 adds for this error. */
function extras (res: Reply): string {
  return /<\/Message>(.*)<Resource>/.exec(res.text)?.[1] ?? ''
}

t.test('PUT and GET ?versioning', async t => {
  const { req } = await setup(t)
  const never = await req('GET', '/bkt?versioning')
  t.equal(never.text, `<?xml version="1.0" encoding="UTF-8"?>\n<VersioningConfiguration ${NS}></VersioningConfiguration>`, 'never enabled: no Status')
  const body = versioningBody('Enabled')
  t.equal((await req('PUT', '/bkt?versioning', {}, body)).code, 'InvalidRequest', 'neither Content-MD5 nor a checksum')
  const bad = await req('PUT', '/bkt?versioning', { 'content-md5': md5Base64('x') }, body)
  t.equal(bad.code, 'BadDigest')
  const sha = await req('PUT', '/bkt?versioning', { 'x-amz-checksum-sha256': createHash('sha256').update(body).digest('base64') }, body)
  t.same([sha.status, sha.body.length], [200, 0], 'a checksum alone will do; no body')
  t.match((await req('GET', '/bkt?versioning')).text, `<VersioningConfiguration ${NS}><Status>Enabled</Status></VersioningConfiguration>`)
  for (const doc of [versioningBody('Off'), versioningBody('enabled'), '<VersioningConfiguration><Status>Enabled', 'garbage', '']) {
    const res = await req('PUT', '/bkt?versioning', { 'content-md5': md5Base64(doc) }, doc)
    t.same([res.status, res.code], [400, 'MalformedXML'], JSON.stringify(doc))
  }
  const mfa = `<VersioningConfiguration ${NS}><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`
  t.equal((await req('PUT', '/bkt?versioning', { 'content-md5': md5Base64(mfa) }, mfa)).code, 'NotImplemented', 'MfaDelete Enabled')
  t.equal((await req('PUT', '/bkt?versioning')).status, 400, 'not a CreateBucket')
})

t.test('a bucket never versioned sends no version headers', async t => {
  const { req } = await setup(t)
  const responses = [
    await req('PUT', '/bkt/k', {}, 'data'),
    await req('GET', '/bkt/k'),
    await req('HEAD', '/bkt/k'),
    await req('PUT', '/bkt/copy', { 'x-amz-copy-source': '/bkt/k' }),
    await req('DELETE', '/bkt/k')
  ]
  for (const res of responses) {
    t.ok(res.status < 300, `${res.status}`)
    t.equal(res.headers['x-amz-version-id'], undefined)
    t.equal(res.headers['x-amz-delete-marker'], undefined)
    t.equal(res.headers['x-amz-copy-source-version-id'], undefined)
  }
})

t.test('version headers of a Suspended bucket: none on PUT, null on GET, HEAD and CopyObject', async t => {
  const { req } = await setup(t)
  await setVersioning(req, 'Suspended')
  t.equal((await req('PUT', '/bkt/k', {}, 'data')).headers['x-amz-version-id'], undefined)
  t.equal((await req('GET', '/bkt/k')).headers['x-amz-version-id'], 'null')
  t.equal((await req('HEAD', '/bkt/k?versionId=null')).headers['x-amz-version-id'], 'null')
  const copy = await req('PUT', '/bkt/copy', { 'x-amz-copy-source': '/bkt/k' })
  t.equal(copy.headers['x-amz-version-id'], 'null')
  t.equal(copy.headers['x-amz-copy-source-version-id'], 'null')
  const del = await req('DELETE', '/bkt/k')
  t.same([del.status, del.headers['x-amz-delete-marker'], del.headers['x-amz-version-id']], [204, 'true', 'null'])
})

t.test('delete markers on the wire', async t => {
  const { req } = await setup(t)
  await setVersioning(req, 'Enabled')
  const v1 = (await req('PUT', '/bkt/k', {}, 'data')).headers['x-amz-version-id'] as string
  t.match(v1, /^[A-Za-z0-9._]{32}$/, 'a 32-character id, as AWS issues')
  const del = await req('DELETE', '/bkt/k')
  const marker = del.headers['x-amz-version-id'] as string
  t.same([del.status, del.headers['x-amz-delete-marker'], del.body.length], [204, 'true', 0])

  t.test('GET of the key: 404 NoSuchKey naming the marker; HEAD the same without a body', async t => {
    const get = await req('GET', '/bkt/k')
    t.same([get.status, get.code, get.headers['x-amz-delete-marker'], get.headers['x-amz-version-id']], [404, 'NoSuchKey', 'true', marker])
    t.equal(extras(get), '<Key>k</Key>')
    const head = await req('HEAD', '/bkt/k')
    t.same([head.status, head.body.length, head.headers['x-amz-delete-marker'], head.headers['x-amz-version-id']], [404, 0, 'true', marker])
  })

  t.test('GET and HEAD of the marker\'s id: 405 with Allow: DELETE, the body naming the method', async t => {
    for (const method of ['GET', 'HEAD']) {
      const res = await req(method, `/bkt/k?versionId=${marker}`)
      t.equal(res.status, 405, method)
      t.equal(res.headers['x-amz-delete-marker'], 'true')
      t.equal(res.headers['x-amz-version-id'], marker)
      t.equal(res.headers.allow, 'DELETE')
      const lastModified = res.headers['last-modified'] as string
      t.equal(new Date(lastModified).toUTCString(), lastModified, 'Last-Modified is an HTTP date')
      if (method === 'HEAD') {
        t.equal(res.body.length, 0, 'HEAD: no body')
      } else {
        t.equal(res.code, 'MethodNotAllowed')
        t.equal(extras(res), '<Method>GET</Method><ResourceType>DeleteMarker</ResourceType>')
      }
    }
  })

  t.test('DELETE of the marker\'s id removes it, and says so', async t => {
    const res = await req('DELETE', `/bkt/k?versionId=${marker}`)
    t.same([res.status, res.headers['x-amz-delete-marker'], res.headers['x-amz-version-id']], [204, 'true', marker])
    const get = await req('GET', '/bkt/k')
    t.same([get.status, get.headers['x-amz-version-id'], get.text], [200, v1, 'data'])
    const removed = await req('DELETE', `/bkt/k?versionId=${v1}`)
    t.same([removed.status, removed.headers['x-amz-delete-marker'], removed.headers['x-amz-version-id']], [204, undefined, v1])
  })
})

t.test('bad version ids', async t => {
  const { req } = await setup(t)
  await setVersioning(req, 'Enabled')
  const v1 = (await req('PUT', '/bkt/k', {}, 'data')).headers['x-amz-version-id'] as string
  for (const query of ['versionId=', 'versionId']) {
    const res = await req('GET', `/bkt/k?${query}`)
    t.same([res.status, res.code], [400, 'InvalidArgument'], query)
    t.match(res.text, '<Message>Version id cannot be the empty string</Message><ArgumentName>versionId</ArgumentName><ArgumentValue></ArgumentValue>')
    const head = await req('HEAD', `/bkt/k?${query}`)
    t.same([head.status, head.body.length], [400, 0], `HEAD ?${query}`)
  }
  const bad = await req('GET', '/bkt/k?versionId=abc')
  t.match(bad.text, '<Message>Invalid version id specified</Message><ArgumentName>versionId</ArgumentName><ArgumentValue>abc</ArgumentValue>')
  const unknown = `${v1.slice(0, -1)}${v1.endsWith('x') ? 'y' : 'x'}`
  const missing = await req('GET', `/bkt/k?versionId=${unknown}`)
  t.same([missing.status, missing.code, extras(missing)], [404, 'NoSuchVersion', `<Key>k</Key><VersionId>${unknown}</VersionId>`])
  const del = await req('DELETE', `/bkt/k?versionId=${unknown}`)
  t.same([del.status, del.headers['x-amz-version-id']], [204, unknown], 'DELETE of an unknown id: 204, echoed')
})

t.test('x-amz-copy-source with a version, and its separator percent-encoded', async t => {
  const { req } = await setup(t)
  await setVersioning(req, 'Enabled')
  const v1 = (await req('PUT', '/bkt/a%3Fb', {}, 'first')).headers['x-amz-version-id'] as string
  await req('PUT', '/bkt/a%3Fb', {}, 'second')
  for (const source of [`/bkt/a%3Fb?versionId=${v1}`, `bkt/a%3Fb%3FversionId%3D${v1}`]) {
    const copy = await req('PUT', '/bkt/dst', { 'x-amz-copy-source': source })
    t.equal(copy.status, 200, source)
    t.equal(copy.headers['x-amz-copy-source-version-id'], v1)
    t.match(copy.headers['x-amz-version-id'], /^[A-Za-z0-9._]{32}$/)
    t.equal((await req('GET', '/bkt/dst')).text, 'first')
  }
  t.not((await req('PUT', '/bkt/dst', { 'x-amz-copy-source': '/bkt/a%3Fb' })).headers['x-amz-copy-source-version-id'], v1, 'no id: the current version')
})

t.test('DeleteObjects result children are in S3\'s order', async t => {
  const { req } = await setup(t)
  await setVersioning(req, 'Enabled')
  const v1 = (await req('PUT', '/bkt/a', {}, 'x')).headers['x-amz-version-id'] as string
  const body = `<Delete><Object><Key>a</Key><VersionId>${v1}</VersionId></Object><Object><Key>b</Key></Object><Object><Key>c</Key><VersionId>bad</VersionId></Object></Delete>`
  const res = await req('POST', '/bkt?delete', { 'content-md5': md5Base64(body) }, body)
  const marker = /<DeleteMarkerVersionId>([^<]*)</.exec(res.text)?.[1] ?? ''
  t.match(res.text, `<DeleteResult ${NS}><Deleted><Key>a</Key><VersionId>${v1}</VersionId></Deleted>` +
    `<Deleted><Key>b</Key><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>${marker}</DeleteMarkerVersionId></Deleted>` +
    '<Error><Key>c</Key><VersionId>bad</VersionId><Code>InvalidArgument</Code><Message>Invalid version id specified</Message></Error></DeleteResult>')
  const undo = `<Delete><Object><Key>b</Key><VersionId>${marker}</VersionId></Object></Delete>`
  t.match((await req('POST', '/bkt?delete', { 'content-md5': md5Base64(undo) }, undo)).text,
    `<Deleted><Key>b</Key><VersionId>${marker}</VersionId><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>${marker}</DeleteMarkerVersionId></Deleted>`)
})

t.test('ListVersionsResult: versions and markers in one list, names URL-encoded on request', async t => {
  const { req } = await setup(t)
  await setVersioning(req, 'Enabled')
  const a1 = (await req('PUT', '/bkt/a%20b', {}, 'one')).headers['x-amz-version-id'] as string
  const marker = (await req('DELETE', '/bkt/a%20b')).headers['x-amz-version-id'] as string
  const a2 = (await req('PUT', '/bkt/a%20b', {}, 'three')).headers['x-amz-version-id'] as string
  await req('PUT', '/bkt/d%2Bir/x', {}, 'x')
  const all = await req('GET', '/bkt?versions')
  t.equal(all.headers['content-type'], 'application/xml')
  const kinds = [...all.text.matchAll(/<(Version|DeleteMarker)><Key>[^<]*<\/Key><VersionId>([^<]*)</g)].map(m => `${m[1]!}:${m[2]!}`)
  t.same(kinds.slice(0, 3), [`Version:${a2}`, `DeleteMarker:${marker}`, `Version:${a1}`], 'interleaved, newest first')
  t.match(all.text, `<ListVersionsResult ${NS}><Name>bkt</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>` +
    '<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>')
  t.match(all.text, new RegExp(`<Version><Key>a b</Key><VersionId>${a2}</VersionId><IsLatest>true</IsLatest><LastModified>[^<]+</LastModified>` +
    '<ETag>&quot;[0-9a-f]{32}&quot;</ETag><Size>5</Size><Owner><ID>[0-9a-f]{64}</ID><DisplayName>spacebox</DisplayName></Owner><StorageClass>STANDARD</StorageClass></Version>'))
  t.match(all.text, new RegExp(`<DeleteMarker><Key>a b</Key><VersionId>${marker}</VersionId><IsLatest>false</IsLatest><LastModified>[^<]+</LastModified>` +
    '<Owner><ID>[0-9a-f]{64}</ID><DisplayName>spacebox</DisplayName></Owner></DeleteMarker>'))

  const page = await req('GET', '/bkt?versions&encoding-type=url&max-keys=1&key-marker=a%20b&version-id-marker=' + a2)
  t.match(page.text, `<KeyMarker>a+b</KeyMarker><VersionIdMarker>${a2}</VersionIdMarker><NextKeyMarker>a+b</NextKeyMarker>` +
    `<NextVersionIdMarker>${marker}</NextVersionIdMarker><MaxKeys>1</MaxKeys><IsTruncated>true</IsTruncated><EncodingType>url</EncodingType>`)
  const rolled = await req('GET', '/bkt?versions&encoding-type=url&delimiter=%2B&prefix=d')
  t.match(rolled.text, '<Prefix>d</Prefix>')
  t.match(rolled.text, '<Delimiter>%2B</Delimiter>')
  t.match(rolled.text, '<CommonPrefixes><Prefix>d%2B</Prefix></CommonPrefixes>')
  const invalid = await req('GET', '/bkt?versions&encoding-type=base64')
  t.same([invalid.status, invalid.code], [400, 'InvalidArgument'])
})

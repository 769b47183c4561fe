import t, { type Test } from 'tap'
import { serve, type Served } from './helpers.js'
import { md5Base64, send, sendSigned, type Reply } from './wire.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'
const XSI = 'http://www.w3.org/2001/XMLSchema-instance'
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers'
const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'

interface Fixture { s: Served, ownerId: string, put: (method: string, path: string, headers?: Record<string, string>, body?: string | Buffer) => Promise<Reply> }

async function setup (t: Test, options: Parameters<typeof serve>[1] = {}): Promise<Fixture> {
  const s = await serve(t, options)
  await s.box.createBucket('bkt')
  await s.box.putObject('bkt', 'k', 'data')
  const ownerId = (await s.box.getBucketAcl('bkt')).owner.id
  return { s, ownerId, put: async (method, path, headers = {}, body = '') => await sendSigned(s.server.url, s.credentials, method, path, headers, body) }
}

/** The document S3 answers GET ?acl with, written out here from S3's examples, not from the adapter. */
function expectedAcl (ownerId: string, groups: Array<[string, string]>): string {
  const user = `<ID>${ownerId}</ID><DisplayName>spacebox</DisplayName>`
  const grants = [`<Grant><Grantee xmlns:xsi="${XSI}" xsi:type="CanonicalUser">${user}</Grantee><Permission>FULL_CONTROL</Permission></Grant>`,
    ...groups.map(([uri, p]) => `<Grant><Grantee xmlns:xsi="${XSI}" xsi:type="Group"><URI>${uri}</URI></Grantee><Permission>${p}</Permission></Grant>`)]
  return `<?xml version="1.0" encoding="UTF-8"?>\n<AccessControlPolicy xmlns="${NS}"><Owner>${user}</Owner><AccessControlList>${grants.join('')}</AccessControlList></AccessControlPolicy>`
}

/** A PUT ?acl body: the owner, then grants given as raw Grantee elements and permissions. */
function aclBody (ownerId: string, grants: Array<[string, string]>): string {
  return `<AccessControlPolicy xmlns="${NS}"><Owner><ID>${ownerId}</ID></Owner><AccessControlList>` +
    grants.map(([grantee, p]) => `<Grant>${grantee}<Permission>${p}</Permission></Grant>`).join('') + '</AccessControlList></AccessControlPolicy>'
}

const owner = (id: string): string => `<Grantee xmlns:xsi="${XSI}" xsi:type="CanonicalUser"><ID>${id}</ID></Grantee>`
const group = (uri: string): string => `<Grantee xmlns:xsi="${XSI}" xsi:type="Group"><URI>${uri}</URI></Grantee>`

/** Nothing was made public: the object and the bucket refuse unsigned callers, and both ACLs are private. */
async function stillPrivate (t: Test, f: Fixture, what: string): Promise<void> {
  t.equal((await send(f.s.server.url, 'GET', '/bkt/k')).status, 403, `${what}: object not public`)
  t.equal((await send(f.s.server.url, 'GET', '/bkt?list-type=2')).status, 403, `${what}: bucket not public`)
  t.equal((await f.s.box.getObjectAcl('bkt', 'k')).acl, 'private', `${what}: object ACL unchanged`)
  t.equal((await f.s.box.getBucketAcl('bkt')).acl, 'private', `${what}: bucket ACL unchanged`)
}

t.test('GET ?acl answers S3\'s document byte for byte, for every canned ACL', async t => {
  const f = await setup(t)
  const cases: Array<[string, Array<[string, string]>]> = [
    ['private', []],
    ['public-read', [[ALL_USERS, 'READ']]],
    ['public-read-write', [[ALL_USERS, 'READ'], [ALL_USERS, 'WRITE']]],
    ['authenticated-read', [[AUTHENTICATED_USERS, 'READ']]]
  ]
  for (const [acl, groups] of cases) {
    t.equal((await f.put('PUT', '/bkt?acl', { 'x-amz-acl': acl })).status, 200, `PUT bucket ${acl}`)
    const bucket = await f.put('GET', '/bkt?acl')
    t.equal(bucket.status, 200)
    t.equal(bucket.headers['content-type'], 'application/xml')
    t.equal(bucket.text, expectedAcl(f.ownerId, groups), `bucket ${acl}`)
    t.equal((await f.put('PUT', '/bkt/k?acl', { 'x-amz-acl': acl })).status, 200, `PUT object ${acl}`)
    const object = await f.put('GET', '/bkt/k?acl')
    t.equal(object.text, expectedAcl(f.ownerId, groups), `object ${acl}`)
    t.equal(object.headers['x-amz-version-id'], undefined, 'no version id in an unversioned bucket')
  }
})

t.test('GET ?acl of a versioned object names the version', async t => {
  const f = await setup(t)
  await f.s.box.putBucketVersioning('bkt', 'Enabled')
  const v1 = (await f.s.box.putObject('bkt', 'v', 'one', { acl: 'public-read' })).versionId!
  const v2 = (await f.s.box.putObject('bkt', 'v', 'two')).versionId!
  const latest = await f.put('GET', '/bkt/v?acl')
  t.equal(latest.headers['x-amz-version-id'], v2)
  t.equal(latest.text, expectedAcl(f.ownerId, []))
  const first = await f.put('GET', `/bkt/v?acl&versionId=${v1}`)
  t.equal(first.headers['x-amz-version-id'], v1)
  t.equal(first.text, expectedAcl(f.ownerId, [[ALL_USERS, 'READ']]))
  const put = await f.put('PUT', `/bkt/v?acl&versionId=${v2}`, { 'x-amz-acl': 'public-read' })
  t.equal(put.status, 200)
  t.equal(put.headers['x-amz-version-id'], v2, 'PutObjectAcl names the version it changed')
  t.equal((await send(f.s.server.url, 'GET', '/bkt/v')).text, 'two')
})

t.test('an unknown canned ACL is InvalidArgument naming x-amz-acl, on every request that takes one', async t => {
  const f = await setup(t)
  const requests: Array<[string, string, string]> = [
    ['PutObject', 'PUT', '/bkt/new'],
    ['CreateMultipartUpload', 'POST', '/bkt/new?uploads'],
    ['CreateBucket', 'PUT', '/newbucket'],
    ['PutBucketAcl', 'PUT', '/bkt?acl'],
    ['PutObjectAcl', 'PUT', '/bkt/k?acl']
  ]
  for (const [name, method, path] of requests) {
    const res = await f.put(method, path, { 'x-amz-acl': 'Public-Read' })
    t.equal(res.status, 400, `${name}: 400`)
    t.equal(res.code, 'InvalidArgument', `${name}: InvalidArgument (canned names are case-sensitive)`)
    t.match(res.text, '<ArgumentName>x-amz-acl</ArgumentName><ArgumentValue>Public-Read</ArgumentValue>', `${name}: names the header and value`)
  }
  const copy = await f.put('PUT', '/bkt/new', { 'x-amz-copy-source': '/bkt/k', 'x-amz-acl': 'everyone' })
  t.equal(copy.code, 'InvalidArgument', 'CopyObject')
  t.equal((await f.put('HEAD', '/newbucket')).status, 404, 'no bucket created')
  t.equal((await f.put('HEAD', '/bkt/new')).status, 404, 'no object stored')
  t.same((await f.s.box.listMultipartUploads('bkt')).uploads, [], 'no upload begun')
  await stillPrivate(t, f, 'unknown canned ACL')
})

t.test('grant headers are NotImplemented, saying only canned ACLs are kept; with x-amz-acl, InvalidRequest', async t => {
  const f = await setup(t)
  const grants: Array<[string, string]> = [
    ['x-amz-grant-read', `uri="${ALL_USERS}"`],
    ['x-amz-grant-full-control', `id="${'0'.repeat(64)}"`],
    ['x-amz-grant-write-acp', 'emailAddress="someone@example.com"']
  ]
  for (const [name, value] of grants) {
    for (const [method, path] of [['PUT', '/bkt/new'], ['POST', '/bkt/new?uploads'], ['PUT', '/newbucket'], ['PUT', '/bkt?acl'], ['PUT', '/bkt/k?acl']]) {
      const res = await f.put(method!, path!, { [name]: value })
      t.equal(res.status, 501, `${name} on ${method} ${path}`)
      t.equal(res.code, 'NotImplemented')
      t.match(res.text, /canned ACLs only/, 'the message says why')
    }
  }
  const both = await f.put('PUT', '/bkt/k?acl', { 'x-amz-acl': 'public-read', 'x-amz-grant-read': `uri="${ALL_USERS}"` })
  t.equal(both.code, 'InvalidRequest')
  t.match(both.text, 'Specifying both Canned ACLs and Header Grants is not allowed')
  t.equal((await f.put('PUT', '/bkt/new', { 'x-amz-acl': 'private', 'x-amz-grant-read': `uri="${ALL_USERS}"` }, 'x')).code, 'InvalidRequest')
  t.equal((await f.put('HEAD', '/bkt/new')).status, 404, 'no object stored')
  t.equal((await f.put('HEAD', '/newbucket')).status, 404, 'no bucket created')
  await stillPrivate(t, f, 'grant headers')
})

t.test('PUT ?acl checks what it is given in S3\'s order', async t => {
  const f = await setup(t)
  const publicRead = aclBody(f.ownerId, [[owner(f.ownerId), 'FULL_CONTROL'], [group(ALL_USERS), 'READ']])
  const none = await f.put('PUT', '/bkt/k?acl')
  t.equal(none.code, 'MissingSecurityHeader', 'no header, no body')
  t.match(none.text, '<MissingHeaderName>x-amz-acl</MissingHeaderName>')
  t.equal((await f.put('PUT', '/bkt?acl')).code, 'MissingSecurityHeader')
  const both = await f.put('PUT', '/bkt/k?acl', { 'x-amz-acl': 'public-read' }, publicRead)
  t.equal(both.status, 400)
  t.equal(both.code, 'UnexpectedContent', 'a header and a body')
  t.equal((await f.put('PUT', '/bkt?acl', { 'x-amz-grant-read': `uri="${ALL_USERS}"` }, publicRead)).code, 'UnexpectedContent')
  t.equal((await f.put('PUT', '/bkt/k?acl', { 'x-amz-acl': 'public-read', 'x-amz-grant-read': `uri="${ALL_USERS}"` }, publicRead)).code, 'InvalidRequest',
    'both kinds of header come first')
  await stillPrivate(t, f, 'refused combinations')
  const ok = await f.put('PUT', '/bkt/k?acl', { 'content-md5': md5Base64(publicRead) }, publicRead)
  t.equal(ok.status, 200, 'a body alone, with its Content-MD5')
  t.equal(ok.text, '')
  t.equal((await send(f.s.server.url, 'GET', '/bkt/k')).text, 'data')
})

t.test('ACL bodies that are not well-formed or off S3\'s schema are MalformedACLError', async t => {
  const f = await setup(t)
  const id = f.ownerId
  const full: [string, string] = [owner(id), 'FULL_CONTROL']
  const read: [string, string] = [group(ALL_USERS), 'READ']
  const bodies: Array<[string, string]> = [
    ['not XML', 'public-read'],
    ['truncated', aclBody(id, [full, read]).slice(0, 120)],
    ['another root', `<AccessControlList>${aclBody(id, [full, read])}</AccessControlList>`],
    ['two roots', aclBody(id, [full]) + aclBody(id, [full])],
    ['no Owner', `<AccessControlPolicy><AccessControlList><Grant>${owner(id)}<Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`],
    ['an empty owner ID', aclBody('', [full, read])],
    ['no AccessControlList', `<AccessControlPolicy><Owner><ID>${id}</ID></Owner></AccessControlPolicy>`],
    ['an unknown permission', aclBody(id, [full, [group(ALL_USERS), 'read']])],
    ['no permission', aclBody(id, [full]).replace('<Permission>FULL_CONTROL</Permission>', '')],
    ['no grantee type', aclBody(id, [full, [`<Grantee><URI>${ALL_USERS}</URI></Grantee>`, 'READ']])],
    ['an unknown grantee type', aclBody(id, [full, [`<Grantee xmlns:xsi="${XSI}" xsi:type="Everyone"><URI>${ALL_USERS}</URI></Grantee>`, 'READ']])],
    ['a group without a URI', aclBody(id, [full, [`<Grantee xmlns:xsi="${XSI}" xsi:type="Group"><ID>${id}</ID></Grantee>`, 'READ']])],
    ['a user without an ID', aclBody(id, [full, [`<Grantee xmlns:xsi="${XSI}" xsi:type="CanonicalUser"><URI>${ALL_USERS}</URI></Grantee>`, 'READ']])],
    ['an entity declaration', `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "${ALL_USERS}">]>` + aclBody(id, [full, [group('&x;'), 'READ']])]
  ]
  for (const [what, body] of bodies) {
    for (const path of ['/bkt/k?acl', '/bkt?acl']) {
      const res = await f.put('PUT', path, {}, body)
      t.equal(res.status, 400, `${what} (${path}): 400`)
      t.equal(res.code, 'MalformedACLError', `${what} (${path})`)
    }
  }
  t.match((await f.put('PUT', '/bkt?acl', {}, 'x')).text, 'The XML you provided was not well-formed or did not validate against our published schema')
  await stillPrivate(t, f, 'malformed bodies')
})

t.test('ACL bodies with grantees spacebox does not have are refused, and make nothing public', async t => {
  const f = await setup(t)
  const id = f.ownerId
  const full: [string, string] = [owner(id), 'FULL_CONTROL']
  const refused: Array<[string, string, string, string?]> = [
    ['an unknown group URI', aclBody(id, [full, [group('http://acs.amazonaws.com/groups/global/Everyone'), 'READ']]), 'InvalidArgument', 'Group/URI'],
    ['another canonical user', aclBody(id, [full, [owner('ab'.repeat(32)), 'READ']]), 'InvalidArgument', 'CanonicalUser/ID'],
    ['another owner', aclBody('ab'.repeat(32), [full, [group(ALL_USERS), 'READ']]), 'InvalidArgument', 'CanonicalUser/ID'],
    ['an e-mail grantee', aclBody(id, [full, [`<Grantee xmlns:xsi="${XSI}" xsi:type="AmazonCustomerByEmail"><EmailAddress>a@example.com</EmailAddress></Grantee>`, 'READ']]), 'NotImplemented'],
    ['the LogDelivery group', aclBody(id, [full, [group('http://acs.amazonaws.com/groups/s3/LogDelivery'), 'WRITE']]), 'NotImplemented'],
    ['AllUsers FULL_CONTROL', aclBody(id, [full, [group(ALL_USERS), 'FULL_CONTROL']]), 'NotImplemented'],
    ['the owner READ alone', aclBody(id, [[owner(id), 'READ'], [group(ALL_USERS), 'READ']]), 'NotImplemented'],
    ['no grants at all', aclBody(id, []), 'NotImplemented']
  ]
  for (const [what, body, code, argument] of refused) {
    for (const path of ['/bkt/k?acl', '/bkt?acl']) {
      const res = await f.put('PUT', path, {}, body)
      t.equal(res.code, code, `${what} (${path})`)
      if (argument !== undefined) t.match(res.text, `<ArgumentName>${argument}</ArgumentName>`)
      if (code === 'NotImplemented') t.match(res.text, /canned ACLs only/, 'the message says why')
    }
  }
  await stillPrivate(t, f, 'unknown grantees')
})

t.test('an ACL body may bind the XML Schema instance namespace to any prefix, and be indented', async t => {
  const f = await setup(t)
  const body = `<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="${NS}">
  <Owner>
    <ID>${f.ownerId}</ID>
    <DisplayName>whoever</DisplayName>
  </Owner>
  <AccessControlList>
    <Grant>
      <Grantee xmlns:i="${XSI}" i:type="CanonicalUser"><ID>${f.ownerId}</ID></Grantee>
      <Permission>FULL_CONTROL</Permission>
    </Grant>
    <Grant>
      <Grantee xmlns:i="${XSI}" i:type="Group"><URI>${AUTHENTICATED_USERS}</URI></Grantee>
      <Permission>READ</Permission>
    </Grant>
  </AccessControlList>
</AccessControlPolicy>`
  t.equal((await f.put('PUT', '/bkt?acl', {}, body)).status, 200)
  t.equal((await f.s.box.getBucketAcl('bkt')).acl, 'authenticated-read')
})

t.test('oversized ACL bodies are refused unread, and make nothing public', async t => {
  const f = await setup(t)
  const grant = `<Grant>${group(ALL_USERS)}<Permission>READ</Permission></Grant>`
  const huge = aclBody(f.ownerId, [[owner(f.ownerId), 'FULL_CONTROL']]).replace('</AccessControlList>', grant.repeat(1000) + '</AccessControlList>')
  t.ok(huge.length > 64 * 1024)
  for (const path of ['/bkt/k?acl', '/bkt?acl']) {
    const res = await f.put('PUT', path, {}, huge)
    t.equal(res.status, 400, path)
    t.equal(res.code, 'MaxMessageLengthExceeded')
  }
  await stillPrivate(t, f, 'oversized bodies')
})

t.test('oversized policies are MalformedPolicy, and nothing is stored', async t => {
  const f = await setup(t)
  const statement = (i: number): string =>
    `{"Sid":"s${i}","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/public-${i}/*"}`
  const big = `{"Version":"2012-10-17","Statement":[${Array.from({ length: 250 }, (_, i) => statement(i)).join(',')}]}`
  t.ok(big.length > 20 * 1024 && big.length < 64 * 1024, 'past S3\'s 20 KB without a byte of whitespace')
  const over = await f.put('PUT', '/bkt?policy', {}, big)
  t.equal(over.status, 400)
  t.equal(over.code, 'MalformedPolicy')
  const huge = `{"Version":"2012-10-17","Statement":[${Array.from({ length: 1000 }, (_, i) => statement(i)).join(',')}]}`
  t.ok(huge.length > 64 * 1024)
  t.equal((await f.put('PUT', '/bkt?policy', {}, huge)).code, 'MalformedPolicy', 'refused before it is read whole')
  t.equal((await f.put('GET', '/bkt?policy')).code, 'NoSuchBucketPolicy', 'no policy stored')
  t.equal((await send(f.s.server.url, 'GET', '/bkt/public-1/x')).status, 403)
})

t.test('a method the subresource does not take is MethodNotAllowed, never that method\'s plain operation', async t => {
  const f = await setup(t)
  const requests: Array<[string, string]> = [
    ['DELETE', '/bkt/k?acl'], ['DELETE', '/bkt?acl'], ['HEAD', '/bkt/k?acl'], ['HEAD', '/bkt?acl'], ['PUT', '/bkt?policyStatus'],
    ['DELETE', '/bkt?policyStatus'], ['GET', '/bkt/k?policy'], ['PUT', '/bkt/k?policy'], ['DELETE', '/bkt/k?policy'], ['GET', '/bkt/k?policyStatus']
  ]
  for (const [method, path] of requests) {
    const res = await f.put(method, path, {}, '')
    t.equal(res.status, 405, `${method} ${path}`)
  }
  t.equal((await f.s.box.headObject('bkt', 'k')).size, 4, 'the object is still there')
  t.ok(await f.s.box.headBucket('bkt'), 'so is the bucket')
  const post = await f.put('POST', '/bkt/k?acl', {}, '')
  t.ok(post.status >= 400, 'POST ?acl is refused')
  t.equal((await f.s.box.headObject('bkt', 'k')).size, 4)
})

t.test('the spaces profile serves ACLs and policies, and answers ?policyStatus as Spaces does', async t => {
  const f = await setup(t, { server: { profile: 'spaces' } })
  t.equal((await f.put('PUT', '/bkt/k?acl', { 'x-amz-acl': 'public-read' })).status, 200)
  t.equal((await send(f.s.server.url, 'GET', '/bkt/k')).text, 'data')
  t.equal((await f.put('GET', '/bkt?acl')).status, 200)
  const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bkt/*' }] })
  t.equal((await f.put('PUT', '/bkt?policy', {}, policy)).status, 204)
  const status = await f.put('GET', '/bkt?policyStatus')
  t.equal(status.status, 501)
  t.equal(status.code, 'NotImplemented')
})

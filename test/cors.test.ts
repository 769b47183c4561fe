import t from 'tap'
import { Spacebox, matchCors, type CorsRule } from '../lib/index.js'
import { backends, tempDir } from './helpers.js'

const RULES: CorsRule[] = [
  { id: 'uploads', allowedOrigins: ['https://app.example.com', 'https://*.example.com'], allowedMethods: ['PUT', 'POST'], allowedHeaders: ['content-type', 'x-amz-*'], exposeHeaders: ['ETag'], maxAgeSeconds: 3000 },
  { allowedOrigins: ['*'], allowedMethods: ['GET', 'HEAD'] }
]

for (const backend of backends) {
  t.test(`put, get and delete a CORS configuration (${backend.name})`, async t => {
    const box = await backend.open(t)
    await box.createBucket('site')
    await t.rejects(box.getBucketCors('site'), { code: 'NoSuchCORSConfiguration', bucket: 'site' }, 'none before the first put')
    await box.putBucketCors('site', RULES)
    t.same(await box.getBucketCors('site'), RULES)

    const got = await box.getBucketCors('site')
    got[0]!.allowedOrigins.push('https://evil.example')
    t.same(await box.getBucketCors('site'), RULES, 'the caller gets a copy, not the stored rules')

    await box.putBucketCors('site', [{ allowedOrigins: ['https://a.test'], allowedMethods: ['GET'], allowedHeaders: [], exposeHeaders: [] }])
    t.same(await box.getBucketCors('site'), [{ allowedOrigins: ['https://a.test'], allowedMethods: ['GET'] }], 'a put replaces; empty lists are dropped')

    await box.deleteBucketCors('site')
    await t.rejects(box.getBucketCors('site'), { code: 'NoSuchCORSConfiguration' })
    await box.deleteBucketCors('site')
    t.pass('deleting an absent configuration succeeds')

    await box.putBucketCors('site', RULES)
    await box.deleteBucket('site')
    await box.createBucket('site')
    await t.rejects(box.getBucketCors('site'), { code: 'NoSuchCORSConfiguration' }, 'a new bucket of the same name starts without rules')
  })

  t.test(`CORS calls on a missing bucket (${backend.name})`, async t => {
    const box = await backend.open(t)
    await t.rejects(box.putBucketCors('nope', RULES), { code: 'NoSuchBucket' })
    await t.rejects(box.getBucketCors('nope'), { code: 'NoSuchBucket' })
    await t.rejects(box.deleteBucketCors('nope'), { code: 'NoSuchBucket' })
    await t.rejects(box.getBucketCors('Bad_Name'), { code: 'InvalidBucketName' })
  })
}

t.test('invalid configurations are refused with S3 codes and messages', async t => {
  const box = await backends[0]!.open(t)
  await box.createBucket('cfg')
  const rule = (extra: object): CorsRule => ({ allowedOrigins: ['https://a.test'], allowedMethods: ['GET'], ...extra })
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['no rules', [], 'InvalidArgument', /at least one CORSRule/],
    ['101 rules', Array.from({ length: 101 }, () => rule({})), 'InvalidRequest', /^The number of CORS rules should not exceed allowed limit of 100 rules\.$/],
    ['no origin', [rule({ allowedOrigins: [] })], 'InvalidArgument', /^Each CORSRule must identify at least one origin and one method\.$/],
    ['no method', [rule({ allowedMethods: [] })], 'InvalidArgument', /^Each CORSRule must identify at least one origin and one method\.$/],
    ['method OPTIONS', [rule({ allowedMethods: ['GET', 'OPTIONS'] })], 'InvalidRequest', /^Found unsupported HTTP method in CORS config\. Unsupported method is OPTIONS$/],
    ['lowercase method', [rule({ allowedMethods: ['get'] })], 'InvalidRequest', /Unsupported method is get$/],
    ['two wildcards in an origin', [rule({ allowedOrigins: ['https://*.example.*'] })], 'InvalidRequest', /^AllowedOrigin "https:\/\/\*\.example\.\*" can not have more than one wildcard\.$/],
    ['two wildcards in a header', [rule({ allowedHeaders: ['x-*-*'] })], 'InvalidRequest', /^AllowedHeader "x-\*-\*" can not have more than one wildcard\.$/],
    ['negative max age', [rule({ maxAgeSeconds: -1 })], 'InvalidArgument', /^MaxAgeSeconds "-1" is not a valid value\.$/],
    ['fractional max age', [rule({ maxAgeSeconds: 1.5 })], 'InvalidArgument', /MaxAgeSeconds/],
    ['max age as a string', [rule({ maxAgeSeconds: '60' })], 'InvalidArgument', /MaxAgeSeconds/],
    ['ID of 256 characters', [rule({ id: 'i'.repeat(256) })], 'InvalidRequest', /^The ID value can be up to 255 characters long\./],
    ['not a list', 'GET', 'InvalidArgument', /CORSRule/],
    ['a rule that is not an object', [null], 'InvalidArgument', /CORSRule must be an object/],
    ['origins not strings', [rule({ allowedOrigins: [1] })], 'InvalidArgument', /AllowedOrigin must be a list of strings/],
    ['expose headers not a list', [rule({ exposeHeaders: 'ETag' })], 'InvalidArgument', /ExposeHeader must be a list of strings/]
  ]
  for (const [label, rules, code, message] of cases) {
    await t.rejects(box.putBucketCors('cfg', rules as CorsRule[]), { code, message, bucket: 'cfg' }, label)
  }
  await t.rejects(box.getBucketCors('cfg'), { code: 'NoSuchCORSConfiguration' }, 'nothing was stored')

  const limits = [
    rule({ id: 'i'.repeat(255), maxAgeSeconds: 0, allowedOrigins: ['*', ''], allowedHeaders: ['*'] }),
    ...Array.from({ length: 99 }, () => rule({ maxAgeSeconds: 2 ** 31 - 1 }))
  ]
  await box.putBucketCors('cfg', limits)
  t.same(await box.getBucketCors('cfg'), limits, 'the limits themselves are accepted')
})

t.test('the configuration survives a reopen (disk)', async t => {
  const location = await tempDir(t)
  let box = await Spacebox.open({ location })
  await box.createBucket('kept')
  await box.createBucket('dropped')
  await box.putBucketCors('kept', RULES)
  await box.putBucketCors('dropped', RULES)
  await box.deleteBucketCors('dropped')
  await box.close()
  box = await Spacebox.open({ location })
  t.teardown(async () => { await box.close() })
  t.same(await box.getBucketCors('kept'), RULES)
  await t.rejects(box.getBucketCors('dropped'), { code: 'NoSuchCORSConfiguration' })
})

t.test('scoped keys need the admin action on the bucket', async t => {
  const box = await backends[0]!.open(t)
  await box.createBucket('alpha')
  await box.createBucket('beta')
  const full = box.as((await box.keys.create({ name: 'full', grants: [{ bucket: 'alpha', permission: 'fullaccess' }] })).accessKeyId)
  const writer = box.as((await box.keys.create({ name: 'writer', grants: [{ bucket: 'alpha', permission: 'readwrite' }] })).accessKeyId)

  await full.putBucketCors('alpha', RULES)
  t.same(await full.getBucketCors('alpha'), RULES)
  await t.rejects(full.putBucketCors('beta', RULES), { code: 'AccessDenied' }, 'not on another bucket')

  await t.rejects(writer.putBucketCors('alpha', []), { code: 'AccessDenied' }, 'refused before the rules are checked')
  await t.rejects(writer.getBucketCors('alpha'), { code: 'AccessDenied' })
  await t.rejects(writer.deleteBucketCors('alpha'), { code: 'AccessDenied' })
  t.same(await box.getBucketCors('alpha'), RULES, 'the refused delete changed nothing')

  await full.deleteBucketCors('alpha')
  await t.rejects(full.getBucketCors('alpha'), { code: 'NoSuchCORSConfiguration' })
})

t.test('matchCors picks the first rule that allows origin, method and headers', async t => {
  const rules: CorsRule[] = [
    { id: 'exact', allowedOrigins: ['https://app.example.com'], allowedMethods: ['PUT'], allowedHeaders: ['Content-Type', 'x-amz-*'] },
    { id: 'sub', allowedOrigins: ['https://*.example.com'], allowedMethods: ['GET', 'PUT'] },
    { id: 'narrow', allowedOrigins: ['http://start*'], allowedMethods: ['DELETE'], allowedHeaders: ['x-one'] },
    { id: 'middle', allowedOrigins: ['http://start*end'], allowedMethods: ['DELETE'], allowedHeaders: ['*'] },
    { id: 'any', allowedOrigins: ['*'], allowedMethods: ['HEAD'] }
  ]
  const id = (origin: string, method: string, requestHeaders?: string[]): string | undefined =>
    matchCors(rules, requestHeaders === undefined ? { origin, method } : { origin, method, requestHeaders })?.id

  t.equal(id('https://app.example.com', 'PUT'), 'exact')
  t.equal(id('https://app.example.com', 'PUT', ['content-type', 'X-Amz-Meta-Tag']), 'exact', 'headers match without regard to case, x-amz-* by wildcard')
  t.equal(id('https://app.example.com', 'PUT', ['x-amz-date', 'authorization']), undefined, 'one header not allowed refuses all; a rule without allowedHeaders allows none')
  t.equal(id('https://app.example.com', 'GET'), 'sub', 'a method the first rule lacks moves on')
  t.equal(id('https://cdn.example.com', 'GET'), 'sub')
  t.equal(id('https://a.b.example.com', 'GET'), 'sub', '* spans dots')
  t.equal(id('https://example.com', 'GET'), undefined, 'the wildcard does not swallow the dot before it')
  t.equal(id('https://cdn.example.com.evil.test', 'GET'), undefined, 'patterns are anchored at the end')
  t.equal(id('https://APP.example.com', 'PUT'), 'sub', 'origins are case-sensitive: the exact rule misses, the wildcard rule still matches')
  t.equal(id('HTTPS://app.example.com', 'PUT'), undefined, 'case-sensitive scheme')
  t.equal(id('https://app.example.com/', 'PUT'), undefined, 'a trailing slash is another origin')
  t.equal(id('https://app.example.com', 'put'), undefined, 'methods are case-sensitive')
  t.equal(id('http://startend', 'DELETE', ['X-One']), 'narrow')
  t.equal(id('http://startend', 'DELETE', ['x-one', 'anything']), 'middle', 'a header the first rule lacks moves on; * matches the empty string and any header')
  t.equal(id('http://start-12-end', 'DELETE', ['x-two']), 'middle')
  t.equal(id('http://0start-end', 'DELETE'), undefined, 'patterns are anchored at the start')
  t.equal(id('null', 'HEAD'), 'any')
  t.equal(id('anything at all', 'POST'), undefined, 'no rule allows POST')
  t.equal(matchCors([], { origin: 'https://a.test', method: 'GET' }), undefined)
  t.equal(matchCors([{ allowedOrigins: ['a*b*c'], allowedMethods: ['GET'] }], { origin: 'aXbYc', method: 'GET' })?.allowedOrigins[0], 'a*b*c', 'unchecked rules with many wildcards still match soundly')
  t.equal(matchCors([{ allowedOrigins: ['a*b*c'], allowedMethods: ['GET'] }], { origin: 'ac', method: 'GET' }), undefined)
  t.equal(matchCors([{ allowedOrigins: ['ab*ba'], allowedMethods: ['GET'] }], { origin: 'aba', method: 'GET' }), undefined, 'prefix and suffix may not overlap')
})

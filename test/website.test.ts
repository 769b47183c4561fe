import t from 'tap'
import { Spacebox, type WebsiteConfiguration, type WebsiteRoutingRule } from '../lib/index.js'
import { checkWebsiteConfiguration, compileWebsite, redirectKey } from '../lib/website.js'
import { backends } from './helpers.js'

const SITE: WebsiteConfiguration = {
  indexDocument: { suffix: 'index.html' },
  errorDocument: { key: 'errors/404.html' },
  routingRules: [
    { condition: { keyPrefixEquals: 'docs/' }, redirect: { replaceKeyPrefixWith: 'documents/' } },
    { condition: { httpErrorCodeReturnedEquals: 404, keyPrefixEquals: 'img/' }, redirect: { hostName: 'cdn.example.com', protocol: 'https', httpRedirectCode: 302 } }
  ]
}

for (const backend of backends) {
  t.test(`${backend.name}: putBucketWebsite() stores a checked copy that getBucketWebsite() returns, and it survives a reopen`, async t => {
    const box = await backend.open(t)
    await box.createBucket('site')
    await t.rejects(box.getBucketWebsite('site'), { code: 'NoSuchWebsiteConfiguration', message: 'The specified bucket does not have a website configuration', bucket: 'site' })
    const given = structuredClone(SITE)
    await box.putBucketWebsite('site', given)
    given.indexDocument!.suffix = 'changed.html'
    t.same(await box.getBucketWebsite('site'), SITE, 'as given at the time')
    const copy = await box.getBucketWebsite('site')
    copy.routingRules!.pop()
    t.equal((await box.getBucketWebsite('site')).routingRules?.length, 2, 'what get returns is a copy')

    await box.putBucketWebsite('site', { redirectAllRequestsTo: { hostName: 'example.com' } })
    t.same(await box.getBucketWebsite('site'), { redirectAllRequestsTo: { hostName: 'example.com' } }, 'a put replaces the configuration whole')
    await box.deleteBucketWebsite('site')
    await t.rejects(box.getBucketWebsite('site'), { code: 'NoSuchWebsiteConfiguration' })
    await box.deleteBucketWebsite('site')
    t.pass('deleting what is not there succeeds')
    await box.putBucketWebsite('site', SITE)
    t.same((await box.bucketWebsite('site'))?.config, SITE, 'the compiled form holds the same configuration')
    t.ok(Object.isFrozen((await box.bucketWebsite('site'))?.config.routingRules?.[0]?.redirect), 'and is frozen')
  })
}

t.test('the configuration persists in the bucket record', async t => {
  const { tempDir } = await import('./helpers.js')
  const location = await tempDir(t)
  let box = await Spacebox.open({ location })
  await box.createBucket('site')
  await box.putBucketWebsite('site', SITE)
  await box.close()
  box = await Spacebox.open({ location })
  t.teardown(async () => { await box.close() })
  t.same(await box.getBucketWebsite('site'), SITE)
  t.equal((await box.bucketWebsite('site'))?.beforeLookup('docs/a')?.redirect.replaceKeyPrefixWith, 'documents/')
})

t.test('website calls on a missing bucket reject with NoSuchBucket; bucketWebsite() is undefined without a configuration', async t => {
  const box = await Spacebox.open({ memory: true })
  t.teardown(async () => { await box.close() })
  await t.rejects(box.putBucketWebsite('nope', SITE), { code: 'NoSuchBucket' })
  await t.rejects(box.getBucketWebsite('nope'), { code: 'NoSuchBucket' })
  await t.rejects(box.deleteBucketWebsite('nope'), { code: 'NoSuchBucket' })
  await t.rejects(box.bucketWebsite('nope'), { code: 'NoSuchBucket' })
  await t.rejects(box.bucketWebsite('Not.A_Valid.Name'), { code: 'NoSuchBucket' }, 'a Host-derived name that is no bucket name is no bucket either')
  await box.createBucket('plain')
  t.equal(await box.bucketWebsite('plain'), undefined)
})

t.test('configuring a website needs fullaccess on the bucket', async t => {
  const box = await Spacebox.open({ memory: true })
  t.teardown(async () => { await box.close() })
  await box.createBucket('site')
  const writer = await box.keys.create({ name: 'writer', grants: [{ bucket: 'site', permission: 'readwrite', publish: true }] })
  const admin = await box.keys.create({ name: 'admin', grants: [{ bucket: 'site', permission: 'fullaccess' }] })
  await t.rejects(box.as(writer.accessKeyId).putBucketWebsite('site', SITE), { code: 'AccessDenied' })
  await t.rejects(box.as(writer.accessKeyId).getBucketWebsite('site'), { code: 'AccessDenied' })
  await t.rejects(box.as(writer.accessKeyId).deleteBucketWebsite('site'), { code: 'AccessDenied' })
  await t.rejects(box.anonymous().putBucketWebsite('site', SITE), { code: 'AccessDenied' })
  await box.as(admin.accessKeyId).putBucketWebsite('site', SITE)
  t.same(await box.as(admin.accessKeyId).getBucketWebsite('site'), SITE)
  await box.as(admin.accessKeyId).deleteBucketWebsite('site')
  await t.rejects(box.getBucketWebsite('site'), { code: 'NoSuchWebsiteConfiguration' })
})

t.test('invalid configurations are refused with S3\'s codes, and nothing is stored', async t => {
  const box = await Spacebox.open({ memory: true })
  t.teardown(async () => { await box.close() })
  await box.createBucket('site')
  const index = { suffix: 'index.html' }
  const rule = (redirect: object, condition?: object): object => ({ indexDocument: index, routingRules: [{ redirect, ...(condition === undefined ? {} : { condition }) }] })
  const long = 'k'.repeat(1025)
  const cases: Array<[string, unknown, string, RegExp?]> = [
    ['empty', {}, 'InvalidArgument', /IndexDocument or RedirectAllRequestsTo/],
    ['an error document alone', { errorDocument: { key: 'e.html' } }, 'InvalidArgument'],
    ['an empty suffix', { indexDocument: { suffix: '' } }, 'InvalidArgument', /^The IndexDocument Suffix is not well formed$/],
    ['a suffix with a slash', { indexDocument: { suffix: 'a/index.html' } }, 'InvalidArgument', /Suffix is not well formed/],
    ['no suffix', { indexDocument: {} }, 'InvalidArgument', /Suffix is not well formed/],
    ['an empty error key', { indexDocument: index, errorDocument: { key: '' } }, 'InvalidArgument', /^The ErrorDocument Key is not well formed$/],
    ['a suffix over 1024 bytes', { indexDocument: { suffix: long } }, 'InvalidArgument', /1024 bytes/],
    ['an error key over 1024 bytes', { indexDocument: index, errorDocument: { key: '€'.repeat(342) } }, 'InvalidArgument', /1024 bytes/],
    ['redirect-all beside an index document', { redirectAllRequestsTo: { hostName: 'h' }, indexDocument: index }, 'InvalidArgument', /cannot be combined/],
    ['redirect-all beside routing rules', { redirectAllRequestsTo: { hostName: 'h' }, routingRules: [] }, 'InvalidArgument'],
    ['redirect-all without a host', { redirectAllRequestsTo: {} }, 'InvalidArgument'],
    ['redirect-all to ftp', { redirectAllRequestsTo: { hostName: 'h', protocol: 'ftp' } }, 'InvalidRequest', /^Invalid protocol, protocol can be http or https/],
    ['redirect-all to HTTPS in capitals', { redirectAllRequestsTo: { hostName: 'h', protocol: 'HTTPS' } }, 'InvalidRequest'],
    ['a host with a path', { redirectAllRequestsTo: { hostName: 'example.com/evil' } }, 'InvalidArgument', /not a host name/],
    ['a host with CR LF', { redirectAllRequestsTo: { hostName: 'example.com\r\nSet-Cookie: a=b' } }, 'InvalidArgument'],
    ['a host with user info', { redirectAllRequestsTo: { hostName: 'user@example.com' } }, 'InvalidArgument'],
    ['a host over 255 characters', { redirectAllRequestsTo: { hostName: 'h'.repeat(256) } }, 'InvalidArgument'],
    ['51 routing rules', { indexDocument: index, routingRules: Array.from({ length: 51 }, () => ({ redirect: { hostName: 'h' } })) }, 'InvalidRequest',
      /^51 routing rules provided, the number of routing rules in a website configuration is limited to 50\.$/],
    ['an empty redirect', rule({}), 'InvalidArgument', /Redirect needs/],
    ['an empty condition', rule({ hostName: 'h' }, {}), 'InvalidArgument', /Condition needs/],
    ['both key replacements', rule({ replaceKeyWith: 'a', replaceKeyPrefixWith: 'b' }), 'InvalidRequest', /^You can only define ReplaceKeyPrefix or ReplaceKey but not both\.$/],
    ['redirect code 300', rule({ httpRedirectCode: 300 }), 'InvalidRequest', /^The provided HTTP redirect code \(300\) is not valid\. Valid codes are 3XX except 300\.$/],
    ['redirect code 306', rule({ httpRedirectCode: 306 }), 'InvalidRequest'],
    ['redirect code 200', rule({ httpRedirectCode: 200 }), 'InvalidRequest'],
    ['redirect code 301.5', rule({ httpRedirectCode: 301.5 }), 'InvalidArgument'],
    ['a redirect protocol of ftp', rule({ protocol: 'ftp' }), 'InvalidRequest', /Invalid protocol/],
    ['a redirect host with a space', rule({ hostName: 'a b' }), 'InvalidArgument'],
    ['a replacement over 1024 bytes', rule({ replaceKeyWith: long }), 'InvalidArgument'],
    ['error code 399', rule({ hostName: 'h' }, { httpErrorCodeReturnedEquals: 399 }), 'InvalidRequest', /^The provided HTTP error code \(399\) is not valid\. Valid codes are 4XX or 5XX\.$/],
    ['error code 418', rule({ hostName: 'h' }, { httpErrorCodeReturnedEquals: 418 }), 'InvalidRequest'],
    ['error code 600', rule({ hostName: 'h' }, { httpErrorCodeReturnedEquals: 600 }), 'InvalidRequest'],
    ['a prefix over 1024 bytes', rule({ hostName: 'h' }, { keyPrefixEquals: long }), 'InvalidArgument']
  ]
  for (const [name, config, code, message] of cases) {
    await t.rejects(box.putBucketWebsite('site', config as WebsiteConfiguration), { code, ...(message === undefined ? {} : { message }), bucket: 'site' }, name)
  }
  // A caller's bug (a wrong type, a field the configuration has not) is a TypeError, as for every call.
  const bugs: Array<[string, unknown]> = [
    ['not an object', 'index.html'],
    ['null', null],
    ['an unknown field', { indexDocument: index, indexDoc: index }],
    ['an unknown field in a redirect', rule({ hostName: 'h', host: 'h' })],
    ['a suffix that is not a string', { indexDocument: { suffix: 7 } }],
    ['an index document that is a string', { indexDocument: 'index.html' }],
    ['routing rules that are no list', { indexDocument: index, routingRules: { redirect: {} } }],
    ['a rule without redirect', { indexDocument: index, routingRules: [{ condition: { keyPrefixEquals: 'a' } }] }],
    ['redirect code as a string', rule({ httpRedirectCode: '301' })],
    ['a host that is not a string', { redirectAllRequestsTo: { hostName: 1 } }],
    ['a protocol that is not a string', rule({ protocol: true })],
    ['a prefix that is not a string', rule({ hostName: 'h' }, { keyPrefixEquals: 1 })]
  ]
  for (const [name, config] of bugs) await t.rejects(box.putBucketWebsite('site', config as WebsiteConfiguration), TypeError, name)
  await t.rejects(box.getBucketWebsite('site'), { code: 'NoSuchWebsiteConfiguration' }, 'nothing was stored')
  const suffix = await box.putBucketWebsite('site', { indexDocument: { suffix: '' } }).catch((err: { detail?: unknown }) => err.detail)
  t.same(suffix, { argumentName: 'IndexDocument', argumentValue: '' }, 'InvalidArgument names the argument, as S3\'s does')
})

t.test('what the checks accept: the limits themselves, every valid code, hosts with ports and IPv6', async t => {
  const fifty: WebsiteRoutingRule[] = Array.from({ length: 50 }, (_, i) => ({ condition: { keyPrefixEquals: 'k'.repeat(1024) }, redirect: { replaceKeyPrefixWith: String(i).repeat(1) } }))
  t.equal(checkWebsiteConfiguration({ indexDocument: { suffix: 's'.repeat(1024) }, routingRules: fifty }, 'b').routingRules?.length, 50)
  for (const code of [301, 302, 303, 304, 305, 307, 308]) {
    t.equal(checkWebsiteConfiguration({ indexDocument: { suffix: 'i' }, routingRules: [{ redirect: { httpRedirectCode: code } }] }, 'b').routingRules?.[0]?.redirect.httpRedirectCode, code)
  }
  for (const status of [400, 403, 404, 417, 500, 503, 505]) {
    t.ok(checkWebsiteConfiguration({ indexDocument: { suffix: 'i' }, routingRules: [{ condition: { httpErrorCodeReturnedEquals: status }, redirect: { hostName: 'h' } }] }, 'b'))
  }
  for (const hostName of ['example.com', 'localhost:8080', 'www.example.com', '[::1]:9000', '127.0.0.1', 'a_b.example']) {
    t.same(checkWebsiteConfiguration({ redirectAllRequestsTo: { hostName, protocol: 'https' } }, 'b'), { redirectAllRequestsTo: { hostName, protocol: 'https' } }, hostName)
  }
  t.same(checkWebsiteConfiguration({ indexDocument: { suffix: 'i' }, routingRules: [] }, 'b'), { indexDocument: { suffix: 'i' } }, 'an empty list of rules is no rules')
  t.same(checkWebsiteConfiguration({ indexDocument: { suffix: 'i' }, routingRules: [{ condition: { keyPrefixEquals: '' }, redirect: { replaceKeyPrefixWith: '' } }] }, 'b').routingRules,
    [{ condition: { keyPrefixEquals: '' }, redirect: { replaceKeyPrefixWith: '' } }], 'empty prefix and replacement are kept: they mean something')
})

t.test('which routing rule applies, and where it sends a key', async t => {
  const policy = compileWebsite(checkWebsiteConfiguration({
    indexDocument: { suffix: 'index.html' },
    routingRules: [
      { condition: { httpErrorCodeReturnedEquals: 404 }, redirect: { replaceKeyWith: 'missing.html' } },
      { condition: { keyPrefixEquals: 'docs/' }, redirect: { replaceKeyPrefixWith: 'documents/' } },
      { condition: { keyPrefixEquals: 'img/', httpErrorCodeReturnedEquals: 403 }, redirect: { hostName: 'cdn.example.com' } },
      { condition: { keyPrefixEquals: 'docs/old/' }, redirect: { replaceKeyPrefixWith: 'never/' } }
    ]
  }, 'b'))
  t.equal(policy.beforeLookup('docs/old/a.html')?.redirect.replaceKeyPrefixWith, 'documents/', 'the first rule that applies wins')
  t.equal(policy.beforeLookup('img/a.png'), undefined, 'a rule with an error code never applies before the lookup')
  t.equal(policy.beforeLookup('index.html'), undefined)
  t.equal(policy.afterError('anything', 404)?.redirect.replaceKeyWith, 'missing.html')
  t.equal(policy.afterError('img/a.png', 403)?.redirect.hostName, 'cdn.example.com')
  t.equal(policy.afterError('css/a.css', 403), undefined, 'both conditions must hold')
  t.equal(policy.afterError('docs/a', 403), undefined, 'a prefix-only rule never applies after an error')

  const always = compileWebsite({ indexDocument: { suffix: 'i' }, routingRules: [{ redirect: { hostName: 'elsewhere.example' } }] })
  t.equal(always.beforeLookup('any/key')?.redirect.hostName, 'elsewhere.example', 'a rule without a condition applies to every request')
  t.equal(always.afterError('any/key', 404), undefined)

  t.equal(redirectKey({ condition: { keyPrefixEquals: 'docs/' }, redirect: { replaceKeyPrefixWith: 'documents/' } }, 'docs/a/b.html'), 'documents/a/b.html')
  t.equal(redirectKey({ condition: { keyPrefixEquals: 'docs/' }, redirect: { replaceKeyPrefixWith: '' } }, 'docs/a.html'), 'a.html')
  t.equal(redirectKey({ redirect: { replaceKeyPrefixWith: 'v2/' } }, 'a.html'), 'v2/a.html', 'without a prefix condition the replacement goes in front')
  t.equal(redirectKey({ condition: { keyPrefixEquals: 'docs/' }, redirect: { replaceKeyWith: 'x.html' } }, 'docs/a.html'), 'x.html')
  t.equal(redirectKey({ redirect: { hostName: 'h' } }, 'docs/a.html'), 'docs/a.html', 'no replacement keeps the key')
})

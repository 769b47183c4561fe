import t from 'tap'
import { Spacebox, type CorsRule } from '../../lib/index.js'
import { corsConfigurationXml, corsHeaders, parseCorsConfiguration, preflight } from '../../lib/s3/cors.js'
import { S3Error, toS3Error } from '../../lib/s3/errors.js'
import { compileCors } from '../../lib/cors.js'

const NS = 'http://s3.amazonaws.com/doc/2006-03-01/'
const MALFORMED = { code: 'MalformedXML', message: 'The XML you provided was not well-formed or did not validate against our published schema' }
const VARY = 'Origin, Access-Control-Request-Headers, Access-Control-Request-Method'

t.test('a configuration parses, and its GetBucketCors body parses back to the same rules', async t => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<CORSConfiguration xmlns="${NS}">
  <CORSRule>
    <ID>upload &amp; read</ID>
    <AllowedOrigin>https://app.example.com?a=1&amp;b=&lt;2&gt;</AllowedOrigin>
    <AllowedOrigin> https://*.example.com </AllowedOrigin>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>
      POST
    </AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <ExposeHeader>x-amz-version-id</ExposeHeader>
    <MaxAgeSeconds> 0300 </MaxAgeSeconds>
  </CORSRule>
  <CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>
</CORSConfiguration>`
  const rules = parseCorsConfiguration(xml)
  const expected: CorsRule[] = [
    {
      id: 'upload & read',
      allowedOrigins: ['https://app.example.com?a=1&b=<2>', 'https://*.example.com'],
      allowedMethods: ['PUT', 'POST'],
      allowedHeaders: ['*'],
      exposeHeaders: ['ETag', 'x-amz-version-id'],
      maxAgeSeconds: 300
    },
    { allowedOrigins: ['*'], allowedMethods: ['GET'] }
  ]
  t.same(rules, expected, 'entities decoded, tokens trimmed, "0300" converted only at the end')
  t.equal(typeof rules[0]!.maxAgeSeconds, 'number')
  t.notOk('allowedHeaders' in rules[1]!, 'a rule with only the required elements has no empty lists')

  const body = corsConfigurationXml(rules)
  t.ok(body.startsWith(`<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration xmlns="${NS}"><CORSRule><ID>upload &amp; read</ID>`))
  t.match(body, '<AllowedOrigin>https://app.example.com?a=1&amp;b=&lt;2&gt;</AllowedOrigin>', 'origins are escaped')
  t.match(body, '<MaxAgeSeconds>300</MaxAgeSeconds>')
  t.match(body, '<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>', 'absent elements are left out')
  t.same(parseCorsConfiguration(body), expected, 'round trip')
})

t.test('the namespace is optional, prefixes are ignored, IDs are kept as sent', async t => {
  t.same(parseCorsConfiguration('<CORSConfiguration><CORSRule><AllowedOrigin></AllowedOrigin><AllowedMethod>HEAD</AllowedMethod><ID> a b </ID></CORSRule></CORSConfiguration>'),
    [{ id: ' a b ', allowedOrigins: [''], allowedMethods: ['HEAD'] }], 'an empty origin is accepted, as S3 does')
  t.same(parseCorsConfiguration(`<s3:CORSConfiguration xmlns:s3="${NS}"><s3:CORSRule><s3:AllowedOrigin>o</s3:AllowedOrigin><s3:AllowedMethod>GET</s3:AllowedMethod><s3:MaxAgeSeconds>-1</s3:MaxAgeSeconds></s3:CORSRule></s3:CORSConfiguration>`),
    [{ allowedOrigins: ['o'], allowedMethods: ['GET'], maxAgeSeconds: -1 }], 'a negative integer parses; putBucketCors refuses it')
  t.same(parseCorsConfiguration('<CORSConfiguration><CORSRule><AllowedOrigin>o</AllowedOrigin><AllowedMethod>FETCH</AllowedMethod></CORSRule></CORSConfiguration>'),
    [{ allowedOrigins: ['o'], allowedMethods: ['FETCH'] }], 'methods are checked by the engine, not the parser')
})

t.test('bad documents are MalformedXML', async t => {
  const rule = '<AllowedOrigin>o</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'
  const cases: Array<[string, string]> = [
    ['not XML', 'cors please'],
    ['empty body', ''],
    ['unclosed element', `<CORSConfiguration><CORSRule>${rule}</CORSConfiguration>`],
    ['another root', `<LifecycleConfiguration><CORSRule>${rule}</CORSRule></LifecycleConfiguration>`],
    ['two roots', `<CORSConfiguration><CORSRule>${rule}</CORSRule></CORSConfiguration><CORSConfiguration/>`],
    ['no rules', '<CORSConfiguration/>'],
    ['no rules, whitespace only', '<CORSConfiguration>\n  \n</CORSConfiguration>'],
    ['text in the root', '<CORSConfiguration>hello</CORSConfiguration>'],
    ['an empty rule', '<CORSConfiguration><CORSRule/></CORSConfiguration>'],
    ['no origin', '<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>'],
    ['no method', '<CORSConfiguration><CORSRule><AllowedOrigin>o</AllowedOrigin></CORSRule></CORSConfiguration>'],
    ['unknown element in a rule', `<CORSConfiguration><CORSRule>${rule}<AllowedOrigins>x</AllowedOrigins></CORSRule></CORSConfiguration>`],
    ['a rule inside a rule', `<CORSConfiguration><CORSRule>${rule}<CORSRule>${rule}</CORSRule></CORSRule></CORSConfiguration>`],
    ['unknown element beside the rules', `<CORSConfiguration><CORSRule>${rule}</CORSRule><Rule/></CORSConfiguration>`],
    ['text in a rule', `<CORSConfiguration><CORSRule>${rule}stray</CORSRule></CORSConfiguration>`],
    ['an element inside an origin', '<CORSConfiguration><CORSRule><AllowedOrigin><b>o</b></AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>'],
    ['two IDs', `<CORSConfiguration><CORSRule>${rule}<ID>a</ID><ID>b</ID></CORSRule></CORSConfiguration>`],
    ['two MaxAgeSeconds', `<CORSConfiguration><CORSRule>${rule}<MaxAgeSeconds>1</MaxAgeSeconds><MaxAgeSeconds>2</MaxAgeSeconds></CORSRule></CORSConfiguration>`],
    ['a fractional MaxAgeSeconds', `<CORSConfiguration><CORSRule>${rule}<MaxAgeSeconds>1.5</MaxAgeSeconds></CORSRule></CORSConfiguration>`],
    ['an empty MaxAgeSeconds', `<CORSConfiguration><CORSRule>${rule}<MaxAgeSeconds/></CORSRule></CORSConfiguration>`],
    ['a document type', '<!DOCTYPE x [<!ENTITY e "evil">]><CORSConfiguration><CORSRule><AllowedOrigin>&e;</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>'],
    ['a reserved name', `<CORSConfiguration><CORSRule>${rule}<__proto__>x</__proto__></CORSRule></CORSConfiguration>`]
  ]
  for (const [label, xml] of cases) t.throws(() => parseCorsConfiguration(xml), MALFORMED, label)
})

t.test('parsed rules are checked by putBucketCors with S3 codes', async t => {
  const box = await Spacebox.open({ memory: true })
  t.teardown(async () => { await box.close() })
  await box.createBucket('site')
  const put = async (inner: string): Promise<unknown> =>
    await box.putBucketCors('site', parseCorsConfiguration(`<CORSConfiguration><CORSRule>${inner}</CORSRule></CORSConfiguration>`)).catch(toS3Error)
  t.match(await put('<AllowedOrigin>o</AllowedOrigin><AllowedMethod/>'), { code: 'InvalidRequest', message: 'Found unsupported HTTP method in CORS config. Unsupported method is ', status: 400 })
  t.match(await put('<AllowedOrigin>*example*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>'),
    { code: 'InvalidRequest', message: 'AllowedOrigin "*example*.com" can not have more than one wildcard.' })
  t.match(await box.getBucketCors('site').catch(toS3Error), { code: 'NoSuchCORSConfiguration', status: 404 })
})

t.test('preflight', async t => {
  const rules: CorsRule[] = [
    { allowedOrigins: ['https://localhost:4200'], allowedMethods: ['GET', 'PUT'], allowedHeaders: ['*'], maxAgeSeconds: 3000 },
    { allowedOrigins: ['http://*.origin.com'], allowedMethods: ['PUT'], allowedHeaders: ['content-type', 'x-amz-*'], exposeHeaders: ['ETag'] },
    { allowedOrigins: ['*'], allowedMethods: ['GET'] }
  ]
  const policy = compileCors(rules)

  t.same(preflight(policy, { origin: 'https://localhost:4200', 'access-control-request-method': 'PUT' }), {
    status: 200,
    headers: {
      'access-control-allow-origin': 'https://localhost:4200',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-max-age': '3000',
      'access-control-allow-credentials': 'true',
      vary: VARY
    }
  }, 'no headers requested: no Access-Control-Allow-Headers')

  t.same(preflight(policy, { origin: 'http://test.origin.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'Content-Type,X-Amz-Date, x-amz-checksum-crc32' }).headers, {
    'access-control-allow-origin': 'http://test.origin.com',
    'access-control-allow-methods': 'PUT',
    'access-control-expose-headers': 'ETag',
    'access-control-allow-credentials': 'true',
    'access-control-allow-headers': 'content-type, x-amz-date, x-amz-checksum-crc32',
    vary: VARY
  }, 'a wildcard origin is echoed; requested headers come back lowercase, in order; ETag is exposed to a presigned PUT')

  t.same(preflight(policy, { origin: 'http://random:1234', 'access-control-request-method': 'GET' }).headers, {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET',
    vary: VARY
  }, 'an origin allowed by * is answered *, without credentials')

  const denied = {
    code: 'AccessForbidden',
    status: 403,
    message: 'CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / ' +
      'Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.'
  }
  t.throws(() => preflight(policy, { origin: 'http://localhost:4200', 'access-control-request-method': 'PUT' }, 'OBJECT'),
    { ...denied, extras: { Method: 'PUT', ResourceType: 'OBJECT' } }, 'another scheme is another origin')
  t.throws(() => preflight(policy, { origin: 'http://test.origin.com/', 'access-control-request-method': 'PUT' }), denied, 'a trailing slash does not match')
  t.throws(() => preflight(policy, { origin: 'http://x.origin.com', 'access-control-request-method': 'DELETE' }), { ...denied, extras: { Method: 'DELETE', ResourceType: 'BUCKET' } })
  t.throws(() => preflight(policy, { origin: 'http://x.origin.com', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization' }), denied, 'a header no rule allows')
  t.throws(() => preflight(policy, { origin: 'http://random:1234', 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-amz-date' }), denied, 'a rule without AllowedHeader allows none')

  const notEnabled = { code: 'AccessForbidden', status: 403, message: 'CORSResponse: CORS is not enabled for this bucket.' }
  t.throws(() => preflight(undefined, { origin: 'https://a.test', 'access-control-request-method': 'PUT' }, 'OBJECT'), { ...notEnabled, extras: { Method: 'PUT', ResourceType: 'BUCKET' } })
  t.throws(() => preflight(undefined, { origin: 'https://a.test' }), { ...notEnabled, extras: { Method: 'OPTIONS' } }, 'no method and no rules: the rules are reported')

  const insufficient = { code: 'BadRequest', status: 400, message: 'Insufficient information. Origin request header needed.' }
  t.throws(() => preflight(policy, {}), insufficient)
  t.throws(() => preflight(undefined, { 'access-control-request-method': 'GET' }), insufficient, 'no Origin comes before no rules')
  t.throws(() => preflight(policy, { origin: '', 'access-control-request-method': 'GET' }), insufficient, 'an empty Origin is none')
  t.throws(() => preflight(policy, { origin: 'https://localhost:4200' }), insufficient, 'no Access-Control-Request-Method')
  t.ok(new S3Error('AccessForbidden', '').status === 403, 'the adapter maps AccessForbidden to 403')
})

t.test('headers for actual requests', async t => {
  const rules: CorsRule[] = [
    { allowedOrigins: ['https://app.test'], allowedMethods: ['GET', 'PUT'], exposeHeaders: ['ETag', 'x-amz-request-id'], maxAgeSeconds: 60 },
    { allowedOrigins: ['*'], allowedMethods: ['GET'] }
  ]
  const policy = compileCors(rules)
  t.same(corsHeaders(policy, { origin: 'https://app.test' }, 'PUT'), {
    'access-control-allow-origin': 'https://app.test',
    'access-control-allow-methods': 'GET, PUT',
    'access-control-expose-headers': 'ETag, x-amz-request-id',
    'access-control-max-age': '60',
    'access-control-allow-credentials': 'true',
    vary: VARY
  }, 'a browser can read the ETag of its PUT')
  t.same(corsHeaders(policy, { origin: 'https://app.test', 'x-amz-request-payer': 'requester' }, 'GET')['access-control-allow-origin'], 'https://app.test', 'request headers are not checked')
  t.same(corsHeaders(policy, { origin: 'https://other.test' }, 'GET'), { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET', vary: VARY })
  t.same(corsHeaders(policy, { origin: 'https://other.test' }, 'PUT'), {}, 'a method no rule allows: no CORS headers, the request itself goes on')
  t.same(corsHeaders(policy, { origin: 'https://app.test', 'access-control-request-method': 'DELETE' }, 'GET'), {}, 'Access-Control-Request-Method stands in for the method, as in S3')
  t.same(corsHeaders(policy, {}, 'GET'), {}, 'no Origin: not a CORS request')
  t.same(corsHeaders(undefined, { origin: 'https://app.test' }, 'GET'), {}, 'no rules')
  t.same(corsHeaders(policy, { origin: ['https://app.test', 'https://other.test'] as unknown as string }, 'PUT')['access-control-allow-origin'], 'https://app.test', 'a repeated header: the first counts')
})

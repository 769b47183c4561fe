// The bucket policy language on its own: what PutBucketPolicy accepts (real-world policies) and
// refuses (each MalformedPolicy case with S3's message), how a request is decided, which statements
// make a bucket public, and that hostile documents and requests cost a bounded amount.
// Policy variables are written `${aws:username}` in policy text, so such strings appear here as text.
/* eslint-disable no-template-curly-in-string */
import t, { type Test } from 'tap'
import { compilePolicy, evaluatePolicy, publicStatements, type CompiledPolicy, type PolicyContext, type PolicyRequest } from '../lib/access/bucket-policy.js'
import { SpaceboxError } from '../lib/errors.js'

const B = 'photos'
const ARN = `arn:aws:s3:::${B}`
const KEY = 'SBAAAAAAAAAAAAAAAAAA'
const OTHER = 'SBBBBBBBBBBBBBBBBBBB'

type Doc = Record<string, unknown>
const policy = (statements: Doc | Doc[], extra: Doc = {}): string => JSON.stringify({ Version: '2012-10-17', ...extra, Statement: statements })
const compile = (statements: Doc | Doc[], extra: Doc = {}): CompiledPolicy => compilePolicy(policy(statements, extra), B)
const allowAll = (more: Doc = {}): Doc => ({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `${ARN}/*`, ...more })

/** The decision for `action` by `principal`, on the object `key` (or the bucket, without one). */
function decide (p: CompiledPolicy, action: string, options: { principal?: string, key?: string, context?: PolicyContext } = {}): ReturnType<typeof evaluatePolicy> {
  const request: PolicyRequest = { principal: options.principal, action, bucket: B, context: options.context ?? {} }
  if (options.key !== undefined) request.key = options.key
  return evaluatePolicy(p, request)
}

/** Assert that `text` is refused with MalformedPolicy and exactly `message`. */
function refuses (t: Test, text: string, message: string, bucket = B): void {
  try {
    compilePolicy(text, bucket)
    t.fail(`accepted a policy that should fail with: ${message}`)
  } catch (err) {
    t.ok(err instanceof SpaceboxError, 'a SpaceboxError')
    t.equal((err as SpaceboxError).code, 'MalformedPolicy')
    t.equal((err as SpaceboxError).bucket, bucket)
    t.equal((err as Error).message, message)
  }
}
const refusesStatement = (t: Test, statement: Doc, message: string): void => { refuses(t, policy([statement]), message) }

t.test('real-world policies', async t => {
  t.test('public read of the bucket\'s objects', async t => {
    const p = compilePolicy(JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Sid: 'PublicReadGetObject', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject'], Resource: [`${ARN}/*`] }]
    }), B)
    t.equal(decide(p, 's3:GetObject', { key: 'cat.jpg' }), 'allow', 'anyone, anonymous included, may read an object')
    t.equal(decide(p, 's3:GetObject', { key: 'a/b/c.jpg', principal: KEY }), 'allow', 'signed callers too')
    t.equal(decide(p, 's3:GetObjectVersion', { key: 'cat.jpg' }), undefined, 'reading a named version is another action')
    t.equal(decide(p, 's3:PutObject', { key: 'cat.jpg' }), undefined, 'writing is not granted')
    t.equal(decide(p, 's3:ListBucket'), undefined, 'listing is not granted')
    t.same(publicStatements(p), [{ index: 0, sid: 'PublicReadGetObject', actions: ['s3:GetObject'], notAction: false, resources: [`${ARN}/*`], notResource: false }])
    t.equal(p.bucket, B)
    t.equal(p.version, '2012-10-17')
    t.equal(p.id, undefined)
  })

  t.test('deny unless the request came over TLS', async t => {
    const p = compilePolicy(JSON.stringify({
      Version: '2012-10-17',
      Id: 'RequireTls',
      Statement: [
        allowAll({ Sid: 'Read' }),
        { Sid: 'AllowSSLRequestsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [ARN, `${ARN}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }
      ]
    }), B)
    t.equal(p.id, 'RequireTls')
    t.equal(decide(p, 's3:GetObject', { key: 'x', context: { secureTransport: false } }), 'deny', 'plain HTTP is denied, the Allow notwithstanding')
    t.equal(decide(p, 's3:ListBucket', { principal: KEY, context: { secureTransport: false } }), 'deny', 'for signed callers and bucket actions too')
    t.equal(decide(p, 's3:GetObject', { key: 'x', context: { secureTransport: true } }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'x' }), 'allow', 'a request that does not say (an embedded call) is not denied: Bool needs the key')
    t.equal(publicStatements(p).length, 1, 'only the Allow counts as public')
  })

  t.test('an IP allow-list', async t => {
    const p = compile(allowAll({ Condition: { IpAddress: { 'aws:SourceIp': ['192.0.2.0/24', '2001:db8::/32', '203.0.113.7'] } } }))
    const from = (sourceIp: string | undefined): ReturnType<typeof evaluatePolicy> => decide(p, 's3:GetObject', { key: 'x', context: { sourceIp } })
    t.equal(from('192.0.2.1'), 'allow')
    t.equal(from('192.0.2.255'), 'allow')
    t.equal(from('192.0.3.0'), undefined)
    t.equal(from('203.0.113.7'), 'allow', 'a bare address is a /32')
    t.equal(from('203.0.113.8'), undefined)
    t.equal(from('::ffff:192.0.2.9'), 'allow', 'an IPv4-mapped IPv6 address (a dual-stack socket) counts as IPv4')
    t.equal(from('2001:db8:1234::1'), 'allow')
    t.equal(from('2001:db9::1'), undefined)
    t.equal(from('fe80::1%eth0'), undefined, 'a zone index is dropped, not an error')
    t.equal(from(undefined), undefined, 'no address: IpAddress does not hold')
    t.equal(from('not an address'), undefined, 'an unreadable address counts as none')
    t.same(publicStatements(p), [], 'pinned to fixed ranges: not public')

    const deny = compile([allowAll(), { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [ARN, `${ARN}/*`], Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }])
    t.equal(decide(deny, 's3:GetObject', { key: 'x', context: { sourceIp: '10.1.2.3' } }), 'allow')
    t.equal(decide(deny, 's3:GetObject', { key: 'x', context: { sourceIp: '11.0.0.1' } }), 'deny')
    t.equal(decide(deny, 's3:GetObject', { key: 'x' }), 'deny', 'no address: NotIpAddress holds, as IAM documents')
  })

  t.test('listing limited to a prefix with s3:prefix', async t => {
    const p = compile([
      { Sid: 'ListHome', Effect: 'Allow', Principal: { AWS: [KEY] }, Action: 's3:ListBucket', Resource: ARN, Condition: { StringLike: { 's3:prefix': ['', 'home/', 'home/alice/*'] }, StringEquals: { 's3:delimiter': '/' } } },
      { Sid: 'ReadHome', Effect: 'Allow', Principal: { AWS: KEY }, Action: ['s3:GetObject', 's3:PutObject'], Resource: `${ARN}/home/alice/*` }
    ])
    const list = (context: PolicyContext, principal: string | undefined): ReturnType<typeof evaluatePolicy> =>
      evaluatePolicy(p, { principal, action: 's3:ListBucket', bucket: B, context })
    t.equal(list({ prefix: 'home/alice/docs/', delimiter: '/' }, KEY), 'allow')
    t.equal(list({ prefix: 'home/', delimiter: '/' }, KEY), 'allow')
    t.equal(list({ prefix: '', delimiter: '/' }, KEY), 'allow')
    t.equal(list({ prefix: 'home/bob/', delimiter: '/' }, KEY), undefined)
    t.equal(list({ delimiter: '/' }, KEY), undefined, 'a listing that names no prefix is not covered')
    t.equal(list({ prefix: 'home/alice/' }, KEY), undefined, 'both keys must hold')
    t.equal(list({ prefix: 'home/alice/', delimiter: '/' }, OTHER), undefined, 'only the named key')
    t.equal(list({ prefix: 'home/alice/', delimiter: '/' }, undefined), undefined, 'anonymous callers are not that key')
    t.equal(decide(p, 's3:PutObject', { principal: KEY, key: 'home/alice/notes.txt' }), 'allow')
    t.equal(decide(p, 's3:PutObject', { principal: KEY, key: 'home/bob/notes.txt' }), undefined)
    t.same(publicStatements(p), [], 'fixed principals: not public')
  })

  t.test('a Deny to one key', async t => {
    const p = compile([
      { Effect: 'Allow', Principal: { AWS: [KEY, OTHER] }, Action: 's3:*', Resource: [ARN, `${ARN}/*`] },
      { Effect: 'Deny', Principal: { AWS: KEY }, Action: 's3:DeleteObject', Resource: `${ARN}/*` }
    ])
    t.equal(decide(p, 's3:DeleteObject', { principal: KEY, key: 'x' }), 'deny')
    t.equal(decide(p, 's3:DeleteObject', { principal: OTHER, key: 'x' }), 'allow')
    t.equal(decide(p, 's3:DeleteObject', { key: 'x' }), undefined, 'anonymous callers are neither key')
    t.equal(decide(p, 's3:GetObject', { principal: KEY, key: 'x' }), 'allow')
  })

  t.test('referer-restricted reads are public, as S3 counts them', async t => {
    const p = compile(allowAll({ Sid: 'HotlinkGuard', Condition: { StringLike: { 'aws:Referer': ['https://www.example.com/*', 'https://example.com/*'] } } }))
    t.equal(decide(p, 's3:GetObject', { key: 'x', context: { referer: 'https://example.com/page' } }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'x', context: { referer: 'https://evil.example/' } }), undefined)
    t.equal(decide(p, 's3:GetObject', { key: 'x' }), undefined)
    t.equal(publicStatements(p).length, 1, 'anyone can send a Referer')
  })

  t.test('a lone statement object, no Version, and ARN or service principals', async t => {
    const p = compilePolicy(JSON.stringify({
      Statement: { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHEXAMPLE', Service: 'cloudfront.amazonaws.com', CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' }, Action: 's3:GetObject', Resource: `${ARN}/*` }
    }), B)
    t.equal(p.version, '2008-10-17', 'the default version')
    t.equal(decide(p, 's3:GetObject', { key: 'x' }), undefined, 'no spacebox caller is those principals')
    t.equal(decide(p, 's3:GetObject', { key: 'x', principal: 'arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHEXAMPLE' }), 'allow', 'an ARN is an opaque id')
    t.same(publicStatements(p), [])
  })

  t.test('multipart, versioning and ACL actions written for AWS validate', async t => {
    const p = compile([
      { Effect: 'Allow', Principal: { AWS: KEY }, Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts', 's3:PutObjectAcl', 's3:GetObjectVersion', 's3:DeleteObjectVersion', 's3:GetObjectTagging'], Resource: `${ARN}/*` },
      { Effect: 'Allow', Principal: { AWS: KEY }, Action: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads', 's3:GetBucketLocation', 's3:GetBucketPolicyStatus', 's3:PutBucketCORS', 's3:GetLifecycleConfiguration', 's3:PutBucketOwnershipControls'], Resource: ARN },
      { Effect: 'Allow', Principal: { AWS: KEY }, Action: ['s3:Get*', 's3:List*'], Resource: [ARN, `${ARN}/*`] }
    ])
    t.equal(decide(p, 's3:ListMultipartUploadParts', { principal: KEY, key: 'big' }), 'allow')
    t.equal(decide(p, 's3:ListBucketVersions', { principal: KEY }), 'allow')
    t.equal(decide(p, 's3:GetBucketAcl', { principal: KEY }), 'allow', 's3:Get* covers bucket actions too')
  })
})

t.test('actions', async t => {
  t.test('match without regard to case, with * and ? wildcards', async t => {
    const p = compile([
      { Effect: 'Allow', Principal: '*', Action: ['S3:getobject', 's3:?utObject'], Resource: `${ARN}/*` },
      { Effect: 'Allow', Principal: { AWS: KEY }, Action: '*', Resource: [ARN, `${ARN}/*`] },
      { Effect: 'Allow', Principal: { AWS: OTHER }, Action: 's3:*', Resource: ARN }
    ])
    t.equal(decide(p, 's3:GetObject', { key: 'x' }), 'allow')
    t.equal(decide(p, 'S3:GETOBJECT', { key: 'x' }), 'allow', 'the request\'s name too')
    t.equal(decide(p, 's3:PutObject', { key: 'x' }), 'allow')
    t.equal(decide(p, 's3:DeleteObject', { key: 'x' }), undefined)
    t.equal(decide(p, 's3:DeleteBucket', { principal: KEY }), 'allow', '* is every action')
    t.equal(decide(p, 's3:DeleteBucket', { principal: OTHER }), 'allow')
    t.equal(decide(p, 's3:DeleteObject', { principal: OTHER, key: 'x' }), undefined, 's3:* on the bucket ARN alone names no object')
  })

  t.test('NotAction applies to every action but those named', async t => {
    const p = compile([
      allowAll({ Action: 's3:*', Resource: [ARN, `${ARN}/*`] }),
      { Effect: 'Deny', Principal: '*', NotAction: ['s3:GetObject', 's3:List*'], Resource: [ARN, `${ARN}/*`] }
    ])
    t.equal(decide(p, 's3:GetObject', { key: 'x' }), 'allow')
    t.equal(decide(p, 's3:ListBucket'), 'allow')
    t.equal(decide(p, 's3:PutObject', { key: 'x' }), 'deny')
    t.equal(decide(p, 's3:DeleteBucket'), 'deny')
    const [statement] = publicStatements(p)
    t.same(statement, { index: 0, sid: undefined, actions: ['s3:*'], notAction: false, resources: [ARN, `${ARN}/*`], notResource: false })
  })

  t.test('the known actions are AWS\'s bucket and object actions', async t => {
    for (const action of ['s3:GetObjectAttributes', 's3:RestoreObject', 's3:PutObjectRetention', 's3:BypassGovernanceRetention', 's3:ReplicateObject', 's3:ObjectOwnerOverrideToBucketOwner']) {
      t.equal(decide(compile(allowAll({ Action: action })), action, { key: 'k' }), 'allow', action)
    }
    for (const action of ['s3:PutBucketVersioning', 's3:GetBucketWebsite', 's3:DeleteBucketWebsite', 's3:PutEncryptionConfiguration', 's3:PutBucketPublicAccessBlock', 's3:PutReplicationConfiguration']) {
      t.equal(decide(compile(allowAll({ Action: action, Resource: ARN })), action), 'allow', action)
    }
  })
})

t.test('resources', async t => {
  t.test('* spans slashes and ? is one character; matching is case-sensitive', async t => {
    const p = compile(allowAll({ Resource: [`${ARN}/public/*`, `${ARN}/img-??.png`] }))
    t.equal(decide(p, 's3:GetObject', { key: 'public/a/b/c' }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'public/' }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'Public/a' }), undefined)
    t.equal(decide(p, 's3:GetObject', { key: 'img-01.png' }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'img-1.png' }), undefined)
    t.equal(decide(p, 's3:GetObject', { key: 'img-001.png' }), undefined)
    t.equal(decide(p, 's3:GetObject', { key: 'private/x' }), undefined)
  })

  t.test('wildcards in the middle take the leftmost fit and still match exactly', async t => {
    const p = compile(allowAll({ Resource: `${ARN}/a*b*c?d` }))
    for (const [key, expected] of [['abcxd', 'allow'], ['abbbcccxd', 'allow'], ['a-b-c-d', 'allow'], ['abcd', undefined], ['acbxd', undefined], ['abcxdd', undefined], ['abc?d', 'allow']] as const) {
      t.equal(decide(p, 's3:GetObject', { key }), expected, key)
    }
  })

  t.test('the matcher agrees with a reference on random patterns, long ? runs included', async t => {
    // A plain dynamic-programming matcher: slow, obviously right.
    const reference = (pattern: string, s: string): boolean => {
      let row = [true, ...Array.from({ length: s.length }, () => false)]
      for (const c of pattern) {
        const next = [c === '*' && row[0] === true]
        for (let j = 1; j <= s.length; j++) {
          next[j] = c === '*' ? (row[j] === true || next[j - 1] === true) : row[j - 1] === true && (c === '?' || c === s[j - 1])
        }
        row = next
      }
      return row[s.length] === true
    }
    let seed = 7
    const random = (n: number): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
    const draw = (length: number, alphabet: string): string => Array.from({ length }, () => alphabet[random(alphabet.length)]).join('')
    let matched = 0
    for (let i = 0; i < 400; i++) {
      const pattern = random(4) === 0 ? `${draw(random(4), 'ab')}*${draw(20 + random(60), 'ab??????')}*${draw(random(3), 'ab')}` : draw(1 + random(12), 'ab?**')
      const p = compile(allowAll({ Resource: `${ARN}/${pattern}` }))
      for (let j = 0; j < 10; j++) {
        const key = draw(1 + random(pattern.length + 40), random(2) === 0 ? 'ab' : 'aab')
        const expected = reference(pattern, key)
        if (expected) matched++
        if (decide(p, 's3:GetObject', { key }) !== (expected ? 'allow' : undefined)) t.fail(`${pattern} against ${key}`)
      }
    }
    t.ok(matched > 200, `matching and failing cases both drawn (${matched} of 4000 match)`)
  })

  t.test('NotResource applies everywhere but where named', async t => {
    const p = compile(allowAll({ Resource: undefined, NotResource: `${ARN}/private/*` }))
    t.equal(decide(p, 's3:GetObject', { key: 'public/x' }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'private/x' }), undefined)
    t.same(publicStatements(p)[0]?.resources, [`${ARN}/private/*`])
    t.equal(publicStatements(p)[0]?.notResource, true)
  })

  t.test('a trailing wildcard on the bucket name names the bucket and its objects', async t => {
    const p = compile({ Effect: 'Allow', Principal: '*', Action: ['s3:ListBucket', 's3:GetObject'], Resource: `${ARN}*` })
    t.equal(decide(p, 's3:ListBucket'), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'x' }), 'allow')
  })

  t.test('policy variables: the ${*} ${?} ${$} escapes from 2012-10-17, text before it', async t => {
    const p = compile(allowAll({ Resource: `${ARN}/\${*}literal\${?}\${$}` }))
    t.equal(decide(p, 's3:GetObject', { key: '*literal?$' }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'xliteral?$' }), undefined, 'the escaped * is not a wildcard')
    const old = compilePolicy(JSON.stringify({ Version: '2008-10-17', Statement: allowAll({ Resource: `${ARN}/\${aws:username}/*` }) }), B)
    t.equal(decide(old, 's3:GetObject', { key: '${aws:username}/x' }), 'allow', 'in 2008-10-17 ${...} is plain text')
    t.equal(decide(old, 's3:GetObject', { key: 'alice/x' }), undefined)
  })
})

t.test('principals', async t => {
  t.test('"*" and {"AWS": "*"} are everyone, anonymous included', async t => {
    for (const principal of ['*', { AWS: '*' }, { AWS: ['*'] }, { AWS: [KEY, '*'] }]) {
      const p = compile(allowAll({ Principal: principal }))
      t.equal(decide(p, 's3:GetObject', { key: 'x' }), 'allow', JSON.stringify(principal))
      t.equal(decide(p, 's3:GetObject', { key: 'x', principal: OTHER }), 'allow')
      t.equal(publicStatements(p).length, 1)
    }
  })

  t.test('an access key id matches that key only', async t => {
    const p = compile(allowAll({ Principal: { AWS: [KEY, '123456789012', 'arn:aws:iam::123456789012:root'] } }))
    t.equal(decide(p, 's3:GetObject', { key: 'x', principal: KEY }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'x', principal: OTHER }), undefined)
    t.equal(decide(p, 's3:GetObject', { key: 'x', principal: KEY.toLowerCase() }), undefined, 'ids are compared exactly')
    t.equal(decide(p, 's3:GetObject', { key: 'x' }), undefined)
  })

  t.test('NotPrincipal applies to everyone but those named', async t => {
    const p = compile([allowAll(), { Effect: 'Deny', NotPrincipal: { AWS: KEY }, Action: 's3:GetObject', Resource: `${ARN}/secret/*` }])
    t.equal(decide(p, 's3:GetObject', { key: 'secret/x', principal: KEY }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'secret/x', principal: OTHER }), 'deny')
    t.equal(decide(p, 's3:GetObject', { key: 'secret/x' }), 'deny', 'anonymous callers are not the key')
    const open = compile({ Effect: 'Allow', NotPrincipal: { AWS: KEY }, Action: 's3:GetObject', Resource: `${ARN}/*` })
    t.equal(publicStatements(open).length, 1, 'an Allow to everyone but a key is public')
  })
})

t.test('conditions', async t => {
  const with_ = (condition: Doc, more: Doc = {}): CompiledPolicy => compile(allowAll({ Condition: condition, ...more }))
  const get = (p: CompiledPolicy, context: PolicyContext): ReturnType<typeof evaluatePolicy> => decide(p, 's3:GetObject', { key: 'x', context })

  t.test('string operators', async t => {
    const equals = with_({ StringEquals: { 'aws:UserAgent': ['curl/8', 'wget'] } })
    t.equal(get(equals, { userAgent: 'wget' }), 'allow', 'values: any one')
    t.equal(get(equals, { userAgent: 'Wget' }), undefined, 'case-sensitive')
    t.equal(get(equals, {}), undefined, 'absent: positive operators fail')
    const not = with_({ StringNotEquals: { 'aws:UserAgent': ['curl/8', 'wget'] } })
    t.equal(get(not, { userAgent: 'wget' }), undefined)
    t.equal(get(not, { userAgent: 'firefox' }), 'allow', 'negated: none of the values')
    t.equal(get(not, {}), 'allow', 'absent: negated operators hold')
    const ignoreCase = with_({ StringEqualsIgnoreCase: { 'aws:UserAgent': 'WGET' } })
    t.equal(get(ignoreCase, { userAgent: 'wget' }), 'allow')
    const notIgnoreCase = with_({ StringNotEqualsIgnoreCase: { 'aws:UserAgent': 'WGET' } })
    t.equal(get(notIgnoreCase, { userAgent: 'Wget' }), undefined)
    t.equal(get(notIgnoreCase, { userAgent: 'curl' }), 'allow')
    const like = with_({ StringLike: { 'aws:UserAgent': 'Mozilla/*Firefox/1??' } })
    t.equal(get(like, { userAgent: 'Mozilla/5.0 (X11) Gecko Firefox/128' }), 'allow')
    t.equal(get(like, { userAgent: 'Mozilla/5.0 Firefox/99' }), undefined)
    const notLike = with_({ StringNotLike: { 'aws:UserAgent': ['*bot*', '*crawler*'] } })
    t.equal(get(notLike, { userAgent: 'googlebot/2' }), undefined)
    t.equal(get(notLike, { userAgent: 'Mozilla' }), 'allow')
    const escaped = with_({ StringEquals: { 'aws:UserAgent': 'a${*}b' } })
    t.equal(get(escaped, { userAgent: 'a*b' }), 'allow', '${*} is a literal * in 2012-10-17')
  })

  t.test('IfExists operators hold when the key is absent', async t => {
    const p = with_({ StringEqualsIfExists: { 'aws:UserAgent': 'app/1' }, IpAddressIfExists: { 'aws:SourceIp': '192.0.2.0/24' } })
    t.equal(get(p, {}), 'allow')
    t.equal(get(p, { userAgent: 'app/1', sourceIp: '192.0.2.4' }), 'allow')
    t.equal(get(p, { userAgent: 'app/2' }), undefined)
    t.equal(get(p, { sourceIp: '198.51.100.1' }), undefined)
  })

  t.test('Null tests whether a key is absent', async t => {
    const absent = with_({ Null: { 'aws:Referer': 'true' } })
    t.equal(get(absent, {}), 'allow')
    t.equal(get(absent, { referer: 'https://x' }), undefined)
    const present = with_({ Null: { 'aws:SourceIp': false } })
    t.equal(get(present, { sourceIp: '192.0.2.1' }), 'allow')
    t.equal(get(present, {}), undefined)
  })

  t.test('numeric operators on s3:max-keys', async t => {
    const p = compile({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: ARN, Condition: { NumericLessThanEquals: { 's3:max-keys': '100' } } })
    t.equal(decide(p, 's3:ListBucket', { context: { maxKeys: 100 } }), 'allow')
    t.equal(decide(p, 's3:ListBucket', { context: { maxKeys: 1000 } }), undefined)
    t.equal(decide(p, 's3:ListBucket'), undefined)
    for (const [operator, value, holds] of [['NumericEquals', 10, true], ['NumericNotEquals', 10, false], ['NumericLessThan', 10, false], ['NumericGreaterThan', 9, true], ['NumericGreaterThanEquals', 10, true]] as const) {
      const q = compile({ Effect: 'Allow', Principal: '*', Action: 's3:ListBucket', Resource: ARN, Condition: { [operator]: { 's3:max-keys': value } } })
      t.equal(decide(q, 's3:ListBucket', { context: { maxKeys: 10 } }), holds ? 'allow' : undefined, `${operator} ${value}`)
    }
  })

  t.test('s3:x-amz-acl on writes', async t => {
    const p = compile([
      { Effect: 'Allow', Principal: { AWS: KEY }, Action: 's3:PutObject', Resource: `${ARN}/*` },
      { Effect: 'Deny', Principal: '*', Action: ['s3:PutObject', 's3:PutObjectAcl'], Resource: `${ARN}/*`, Condition: { StringEquals: { 's3:x-amz-acl': ['public-read', 'public-read-write'] } } }
    ])
    t.equal(decide(p, 's3:PutObject', { principal: KEY, key: 'x', context: { acl: 'private' } }), 'allow')
    t.equal(decide(p, 's3:PutObject', { principal: KEY, key: 'x' }), 'allow')
    t.equal(decide(p, 's3:PutObject', { principal: KEY, key: 'x', context: { acl: 'public-read' } }), 'deny')
  })

  t.test('operators AND, keys AND, values OR; key names without regard to case', async t => {
    const p = with_({ StringLike: { 'AWS:REFERER': 'https://a/*', 'aws:useragent': ['x', 'y'] }, Bool: { 'aws:SecureTransport': true } })
    t.equal(get(p, { referer: 'https://a/1', userAgent: 'y', secureTransport: true }), 'allow')
    t.equal(get(p, { referer: 'https://a/1', userAgent: 'z', secureTransport: true }), undefined)
    t.equal(get(p, { referer: 'https://a/1', userAgent: 'x', secureTransport: false }), undefined)
    t.equal(get(p, { referer: 'https://b/1', userAgent: 'x', secureTransport: true }), undefined)
  })

  t.test('aws:SecureTransport also compares as the text true/false', async t => {
    const p = with_({ StringEquals: { 'aws:SecureTransport': 'true' } })
    t.equal(get(p, { secureTransport: true }), 'allow')
    t.equal(get(p, { secureTransport: false }), undefined)
  })

  t.test('an empty Condition, or an operator with no keys, holds', async t => {
    t.equal(get(with_({}), {}), 'allow')
    t.equal(get(with_({ StringEquals: {} }), {}), 'allow')
  })
})

t.test('evaluation', async t => {
  t.test('an explicit Deny anywhere wins, whatever the order', async t => {
    const deny = { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: `${ARN}/x` }
    for (const statements of [[allowAll(), deny], [deny, allowAll()]]) {
      const p = compile(statements)
      t.equal(decide(p, 's3:GetObject', { key: 'x' }), 'deny')
      t.equal(decide(p, 's3:GetObject', { key: 'y' }), 'allow')
    }
  })

  t.test('nothing applies: undefined', async t => {
    t.equal(decide(compile(allowAll()), 's3:DeleteObject', { key: 'x' }), undefined)
    t.equal(decide(compile({ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `${ARN}/*` }), 's3:GetObject', { key: 'x' }), undefined)
  })

  t.test('a request that cannot be this policy\'s is a TypeError', async t => {
    const p = compile(allowAll())
    t.throws(() => evaluatePolicy(p, { principal: undefined, action: 's3:GetObject', bucket: 'other', key: 'x', context: {} }), TypeError, 'another bucket')
    t.throws(() => decide(p, 's3:HeadObject', { key: 'x' }), TypeError, 'not an IAM action')
    t.throws(() => decide(p, 's3:ListAllMyBuckets'), TypeError, 'an account action')
    t.throws(() => decide(p, 's3:GetObject'), TypeError, 'an object action without a key')
    t.throws(() => decide(p, 's3:ListBucket', { key: 'x' }), TypeError, 'a bucket action with a key')
    t.throws(() => evaluatePolicy(p, null as unknown as PolicyRequest), TypeError)
    t.throws(() => evaluatePolicy(p, { principal: 5 as unknown as string, action: 's3:GetObject', bucket: B, key: 'x', context: {} }), TypeError)
    t.throws(() => evaluatePolicy(p, { principal: undefined, action: 's3:GetObject', bucket: B, key: 'x', context: null as unknown as PolicyContext }), TypeError)
  })

  t.test('the compiled policy is immutable and keeps the text', async t => {
    const text = policy(allowAll())
    const p = compilePolicy(text, B)
    t.equal(p.text, text)
    t.ok(Object.isFrozen(p))
    const listed = publicStatements(p)
    listed[0]?.actions.push('s3:PutObject')
    t.same(publicStatements(p)[0]?.actions, ['s3:GetObject'], 'callers get copies')
  })
})

t.test('public statements', async t => {
  const ip = (ranges: string[], operator = 'IpAddress'): CompiledPolicy => compile(allowAll({ Condition: { [operator]: { 'aws:SourceIp': ranges } } }))
  t.equal(publicStatements(ip(['10.0.0.0/8'])).length, 0, '/8 is narrow enough')
  t.equal(publicStatements(ip(['0.0.0.0/0'])).length, 1, 'everyone by address')
  t.equal(publicStatements(ip(['128.0.0.0/7'])).length, 1, 'broader than /8')
  t.equal(publicStatements(ip(['10.0.0.0/8', '0.0.0.0/1'])).length, 1, 'one broad range is enough')
  t.equal(publicStatements(ip(['2001:db8::/32'])).length, 0)
  t.equal(publicStatements(ip(['2001:db8::/31'])).length, 1, 'broader than /32')
  t.equal(publicStatements(ip(['10.0.0.0/8'], 'NotIpAddress')).length, 1, 'excluding ranges pins nothing')
  t.equal(publicStatements(ip(['10.0.0.0/8'], 'IpAddressIfExists')).length, 1, 'IfExists admits callers without an address')
  t.equal(publicStatements(compile({ ...allowAll(), Effect: 'Deny' })).length, 0, 'a Deny is never public')
  const mixed = compile([
    { Sid: 'Fixed', Effect: 'Allow', Principal: { AWS: KEY }, Action: 's3:*', Resource: [ARN, `${ARN}/*`] },
    { Sid: 'Office', ...allowAll(), Condition: { IpAddress: { 'aws:SourceIp': '192.0.2.0/24' } } },
    { Sid: 'Site', Effect: 'Allow', Principal: '*', Action: ['s3:GetObject', 's3:ListBucket'], Resource: [ARN, `${ARN}/site/*`], Condition: { Bool: { 'aws:SecureTransport': true } } }
  ])
  t.same(publicStatements(mixed), [{ index: 2, sid: 'Site', actions: ['s3:GetObject', 's3:ListBucket'], notAction: false, resources: [ARN, `${ARN}/site/*`], notResource: false }])
})

t.test('malformed documents', async t => {
  t.test('not a string: TypeError', async t => {
    for (const value of [undefined, null, 5, {}, Buffer.from('{}')]) t.throws(() => compilePolicy(value, B), TypeError)
    t.throws(() => compilePolicy('{}', ''), TypeError, 'a bucket name is needed')
  })

  t.test('not JSON, or not an object', async t => {
    const first = "Policies must be valid JSON and the first byte must be '{'"
    refuses(t, '', first)
    refuses(t, ' {"Statement": []}', first)
    refuses(t, '\n{}', first)
    refuses(t, '["Statement"]', first)
    refuses(t, 'null', first)
    refuses(t, '{"Statement": [', 'This policy contains invalid Json')
    refuses(t, '{} trailing', 'This policy contains invalid Json')
    refuses(t, "{'Statement': 1}", 'This policy contains invalid Json')
  })

  t.test('size: 20 KB without the whitespace between tokens', async t => {
    const padded = (sid: string): string => policy(allowAll({ Sid: sid }))
    const base = padded('').length
    t.ok(compilePolicy(padded('x'.repeat(20 * 1024 - base)), B), 'exactly 20 KB')
    refuses(t, padded('x'.repeat(20 * 1024 - base + 1)), 'Policy exceeds the maximum allowed document size.')
    refuses(t, padded('é'.repeat(Math.ceil((20 * 1024 - base) / 2) + 1)), 'Policy exceeds the maximum allowed document size.', B)
    const spaced = policy(allowAll({ Resource: Array.from({ length: 300 }, (_, i) => `${ARN}/d${i}/*`) })).replaceAll(',', `,\n${' '.repeat(150)}`)
    t.ok(spaced.length > 40 * 1024 && spaced.length < 64 * 1024)
    t.ok(compilePolicy(spaced, B), 'whitespace between tokens does not count')
    refuses(t, `{${' '.repeat(64 * 1024)}"Statement": []}`, 'Policy exceeds the maximum allowed document size.')
    refuses(t, `{"Statement": ${'['.repeat(5000)}`, 'This policy contains invalid Json')
  })

  t.test('top-level elements', async t => {
    refuses(t, JSON.stringify({ Version: '2012-10-17', Statements: [allowAll()] }), 'Unknown field Statements')
    refuses(t, JSON.stringify({ Version: '2012-10-17' }), 'Missing required field Statement')
    refuses(t, JSON.stringify({ Version: '2012-10-17', Statement: [] }), 'Could not parse the policy: Statement is empty!')
    refuses(t, JSON.stringify({ Version: '2012-10-17', Statement: null }), 'Invalid policy syntax.')
    refuses(t, JSON.stringify({ Version: '2012-10-17', Statement: 'x' }), 'Invalid policy syntax.')
    refuses(t, JSON.stringify({ Version: '2012-10-17', Statement: [allowAll(), 1] }), 'Invalid policy syntax.')
    refuses(t, JSON.stringify({ Version: '2020-01-01', Statement: [allowAll()] }), 'The policy must contain a valid version string')
    refuses(t, JSON.stringify({ Version: null, Statement: [allowAll()] }), 'The policy must contain a valid version string')
    refuses(t, JSON.stringify({ Version: 2012, Statement: [allowAll()] }), 'The policy must contain a valid version string')
    refuses(t, JSON.stringify({ Id: 5, Statement: [allowAll()] }), 'Invalid policy syntax.')
    refuses(t, '{"Statement": [], "Statement": [{}]}', 'Statement/policy already has instance of Statement')
    refuses(t, `{"Statement": [{"Effect": "Deny", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "${ARN}/*"}]}`, 'Statement/policy already has instance of Effect')
    refuses(t, policy([allowAll({ Sid: 'same' }), allowAll({ Sid: 'same' })]), 'Statement IDs (SID) in a single policy must be unique')
    t.ok(compile([allowAll({ Sid: '' }), allowAll({ Sid: '' }), allowAll()]), 'empty or absent Sids may repeat')
    t.ok(compilePolicy(JSON.stringify({ Statement: [allowAll()], Version: '2012-10-17', Id: 'x' }), B), 'element order is free')
  })

  t.test('statement elements', async t => {
    refusesStatement(t, allowAll({ Principle: '*' }), 'Unknown field Principle')
    refusesStatement(t, allowAll({ Conditions: {} }), 'Unknown field Conditions')
    refusesStatement(t, allowAll({ NotPrincipal: { AWS: KEY } }), 'Statement/policy already has instance of Principal')
    refusesStatement(t, allowAll({ NotAction: 's3:PutObject' }), 'Statement/policy already has instance of Action')
    refusesStatement(t, allowAll({ NotResource: `${ARN}/x` }), 'Statement/policy already has instance of Resource')
    refusesStatement(t, allowAll({ Sid: 5 }), 'Invalid policy syntax.')
    refusesStatement(t, allowAll({ Effect: undefined }), 'Missing required field Effect')
    refusesStatement(t, allowAll({ Effect: 'allow' }), 'Invalid effect: allow')
    refusesStatement(t, allowAll({ Effect: ['Allow'] }), 'Invalid effect: ["Allow"]')
    refusesStatement(t, allowAll({ Principal: undefined }), 'Missing required field Principal')
    refusesStatement(t, allowAll({ Action: undefined }), 'Missing required field Action')
    refusesStatement(t, allowAll({ Action: [] }), 'Missing required field Action cannot be empty!')
    refusesStatement(t, allowAll({ Resource: undefined }), 'Missing required field Resource')
    refusesStatement(t, allowAll({ Resource: [] }), 'Missing required field Resource cannot be empty!')
  })

  t.test('principals', async t => {
    for (const principal of ['foo', 'AWS', '', 5, null, [], {}, { AWS: [] }, { AWS: '' }, { AWS: 5 }, { AWS: [KEY, 5] }, { AWS: 'has space' },
      { AWS: 'arn:aws:iam::*:root' }, { AWS: 'SB*' }, { AWS: 'arn:aws:s3:::bucket' }, { Service: '*' }, { Someone: KEY }, { aws: KEY }]) {
      refusesStatement(t, allowAll({ Principal: principal }), 'Invalid principal in policy')
    }
    refusesStatement(t, allowAll({ Principal: undefined, NotPrincipal: '*' }), 'Invalid principal in policy')
    refusesStatement(t, allowAll({ Principal: undefined, NotPrincipal: { AWS: '*' } }), 'Invalid principal in policy')
  })

  t.test('actions', async t => {
    for (const action of ['s3:GetObjekt', 'GetObject', 'iam:PassRole', 's3:', 's3:Foo*', 's3:?', 'ec2:*', '**x', 5, null, { a: 1 }, ['s3:GetObject', 7]]) {
      refusesStatement(t, allowAll({ Action: action }), 'Policy has invalid action')
    }
    refusesStatement(t, allowAll({ Action: undefined, NotAction: 's3:Nope' }), 'Policy has invalid action')
  })

  t.test('resources', async t => {
    for (const resource of ['*', 'arn:aws:s3:::*', 'arn:aws:s3:::other/*', `arn:aws:s3:::${B}x/*`, `arn:aws:s3:::${B}-2`, `arn:aws:s3::${B}/*`, `arn:aws:iam::${B}/*`,
      `ARN:AWS:S3:::${B}/*`, `${B}/*`, '', 5, null, [`${ARN}/*`, 'arn:aws:s3:::other/*']]) {
      refusesStatement(t, allowAll({ Resource: resource }), 'Policy has invalid resource')
    }
    refusesStatement(t, allowAll({ Resource: undefined, NotResource: 'arn:aws:s3:::other/*' }), 'Policy has invalid resource')
    refuses(t, policy(allowAll()), 'Policy has invalid resource', 'videos')
  })

  t.test('actions that apply to none of the statement\'s resources', async t => {
    const message = 'Action does not apply to any resource(s) in statement'
    refusesStatement(t, allowAll({ Resource: ARN }), message)
    refusesStatement(t, allowAll({ Action: 's3:ListBucket' }), message)
    refusesStatement(t, allowAll({ Action: ['s3:GetObject', 's3:ListBucket'] }), message)
    refusesStatement(t, allowAll({ Action: 's3:ListAllMyBuckets', Resource: [ARN, `${ARN}/*`] }), message)
    refusesStatement(t, allowAll({ Action: 's3:CreateJob' }), message)
    t.ok(compile(allowAll({ Action: 's3:*' })), 'a pattern needs one action that applies')
    t.ok(compile(allowAll({ Action: 's3:List*' })), 's3:List* covers ListMultipartUploadParts')
    t.ok(compile(allowAll({ Action: 's3:ListBucket', Resource: `${ARN}*` })), 'a wildcard after the name reaches the bucket')
    t.ok(compile(allowAll({ Action: undefined, NotAction: 's3:ListBucket' })), 'NotAction is not checked')
    t.ok(compile(allowAll({ Action: 's3:ListBucket', Resource: undefined, NotResource: `${ARN}/*` })), 'nor NotResource')
  })

  t.test('conditions', async t => {
    const condition = (value: unknown, more: Doc = {}): string => policy(allowAll({ Condition: value, ...more }))
    refuses(t, condition('x'), 'Invalid policy syntax.')
    refuses(t, condition([]), 'Invalid policy syntax.')
    refuses(t, condition({ StringEquals: 'x' }), 'Invalid policy syntax.')
    for (const operator of ['StringEqualz', 'stringequals', 'NullIfExists', 'Foo:StringEquals', 'IfExists', 'StringEqualsIfExistsIfExists']) {
      refuses(t, condition({ [operator]: { 'aws:UserAgent': 'x' } }), `Invalid Condition type : ${operator}`)
    }
    for (const operator of ['DateLessThan', 'DateGreaterThanIfExists', 'ArnLike', 'BinaryEquals', 'ForAnyValue:StringLike', 'ForAllValues:StringEquals']) {
      refuses(t, condition({ [operator]: { 'aws:UserAgent': 'x' } }), `Condition operator ${operator} is not supported`)
    }
    refuses(t, condition({ StringEquals: { 'foo:bar': 'x' } }), 'Policy has an invalid condition key')
    refuses(t, condition({ StringEquals: { UserAgent: 'x' } }), 'Policy has an invalid condition key')
    for (const key of ['aws:SourceVpc', 'aws:PrincipalOrgID', 's3:ExistingObjectTag/team', 'AWS:CurrentTime', 's3:VersionId']) {
      refuses(t, condition({ StringEquals: { [key]: 'x' } }), `Condition key ${key} is not supported`)
    }
    refuses(t, condition({ Bool: { 'aws:Referer': 'true' } }), 'Condition operator Bool does not apply to condition key aws:Referer')
    refuses(t, condition({ StringEquals: { 'aws:SourceIp': '192.0.2.1' } }), 'Condition operator StringEquals does not apply to condition key aws:SourceIp')
    refuses(t, condition({ IpAddress: { 'aws:UserAgent': '192.0.2.1' } }), 'Condition operator IpAddress does not apply to condition key aws:UserAgent')
    refuses(t, condition({ NumericEquals: { 'aws:UserAgent': 1 } }), 'Condition operator NumericEquals does not apply to condition key aws:UserAgent')
    refuses(t, condition({ StringEquals: { 'aws:UserAgent': [] } }), 'Invalid value for condition key aws:UserAgent')
    refuses(t, condition({ StringEquals: { 'aws:UserAgent': null } }), 'Invalid value for condition key aws:UserAgent')
    refuses(t, condition({ StringEquals: { 'aws:UserAgent': [['x']] } }), 'Invalid value for condition key aws:UserAgent')
    refuses(t, condition({ StringEquals: { 'aws:UserAgent': { a: 1 } } }), 'Invalid value for condition key aws:UserAgent')
    refuses(t, condition({ Bool: { 'aws:SecureTransport': 'yes' } }), 'Invalid value for condition key aws:SecureTransport: yes')
    refuses(t, condition({ Null: { 'aws:Referer': 'maybe' } }), 'Invalid value for condition key aws:Referer: maybe')
    refuses(t, condition({ NumericLessThan: { 's3:max-keys': 'ten' } }, { Action: 's3:ListBucket', Resource: ARN }), 'Invalid value for condition key s3:max-keys: ten')
    refuses(t, condition({ StringLike: { 'aws:Referer': 'https://${aws:username}/*' } }), 'Policy variables are not supported: ${aws:username}')
    refuses(t, condition({ StringEquals: { 'aws:Referer': '${' } }), 'Policy variables are not supported: ${')
  })

  t.test('invalid IP addresses and ranges', async t => {
    for (const value of ['300.1.1.1', '1.2.3', '1.2.3.4.5', '1.2.3.04', '1.2.3.4/33', '1.2.3.4/', '1.2.3.4/08', '2001:db8::/129', '2001:db8:::1', '1:2:3:4:5:6:7:8:9',
      '1::2::3', '12345::', 'g::1', 'abc', '', ' 1.2.3.4', '1.2.3.4 ', 'fe80::1%eth0', '::1.2.3.4:5', '1.2.3.4::', 5, true]) {
      refuses(t, policy(allowAll({ Condition: { IpAddress: { 'aws:SourceIp': value } } })), 'Invalid IP address in Conditions')
    }
    for (const value of ['::', '::1', '1::', '::ffff:192.0.2.1', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '2001:DB8::/32', '0.0.0.0/0', '::/0', '192.0.2.1/24']) {
      t.ok(compile(allowAll({ Condition: { IpAddress: { 'aws:SourceIp': value } } })), value)
    }
  })

  t.test('condition keys that cannot apply to an action the statement names', async t => {
    const message = 'Conditions do not apply to combination of actions and resources in statement'
    refusesStatement(t, allowAll({ Condition: { StringEquals: { 's3:prefix': 'a/' } } }), message)
    refusesStatement(t, allowAll({ Action: ['s3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: ARN, Condition: { StringEquals: { 's3:delimiter': '/' } } }), message)
    refusesStatement(t, allowAll({ Action: ['s3:GetObject', 's3:PutObject'], Condition: { StringEquals: { 's3:x-amz-acl': 'private' } } }), message)
    t.ok(compile(allowAll({ Action: 's3:List*', Resource: ARN, Condition: { StringEquals: { 's3:prefix': 'a/' } } })), 'wildcard actions are not checked')
    t.ok(compile(allowAll({ Action: undefined, NotAction: 's3:GetObject', Condition: { StringEquals: { 's3:x-amz-acl': 'private' } } })), 'nor NotAction')
    t.ok(compile(allowAll({ Action: 's3:PutObjectAcl', Condition: { StringEquals: { 's3:x-amz-acl': 'private' } } })))
  })

  t.test('policy variables other than the escapes are refused in 2012-10-17', async t => {
    refusesStatement(t, allowAll({ Resource: `${ARN}/home/\${aws:username}/*` }), 'Policy variables are not supported: ${aws:username}')
    refusesStatement(t, allowAll({ Resource: `${ARN}/\${*` }), 'Policy variables are not supported: ${*')
  })
})

t.test('hostile input costs a bounded amount', async t => {
  const key = 'a'.repeat(1024)

  t.test('deep nesting is refused without exhausting the stack', async t => {
    const depth = 30000
    refuses(t, `{"Statement": ${'['.repeat(depth)}${']'.repeat(depth)}}`, 'Policy exceeds the maximum allowed document size.')
    refuses(t, `{"Statement": ${'['.repeat(9000)}${']'.repeat(9000)}}`, 'Invalid policy syntax.')
    refuses(t, policy(allowAll({ Condition: { StringEquals: { 'aws:UserAgent': 'NESTED' } } })).replace('"NESTED"', '['.repeat(9000) + ']'.repeat(9000)), 'Invalid value for condition key aws:UserAgent')
    refuses(t, `{"Statement": [{"Effect": "Allow", "Principal": ${'{"AWS":'.repeat(2000)}"*"${'}'.repeat(2000)}, "Action": "s3:GetObject", "Resource": "${ARN}/*"}]}`, 'Invalid principal in policy')
  })

  t.test('huge lists', async t => {
    const many = compile(allowAll({ Action: Array.from({ length: 1000 }, (_, i) => i % 2 === 0 ? 's3:GetObject' : 's3:Get*Version*') }))
    t.equal(decide(many, 's3:GetObjectVersion', { key: 'x' }), 'allow')
    const resources = compile(allowAll({ Resource: Array.from({ length: 500 }, (_, i) => `${ARN}/*${i}*a*b*`) }))
    for (let i = 0; i < 100; i++) t.equal(decide(resources, 's3:GetObject', { key }), undefined)
    const statements = compile(Array.from({ length: 100 }, (_, i) => allowAll({ Sid: `s${i}`, Resource: `${ARN}/p${i}/*`, Condition: { StringLike: { 'aws:UserAgent': '*x*y*' } } })))
    t.equal(decide(statements, 's3:GetObject', { key: 'p99/x', context: { userAgent: 'axby' } }), 'allow')
    t.equal(decide(statements, 's3:GetObject', { key: 'p99/x', context: { userAgent: 'ayxb' } }), undefined)
    refuses(t, policy(allowAll({ Resource: Array.from({ length: 3000 }, (_, i) => `${ARN}/${i}`) })), 'Policy exceeds the maximum allowed document size.')
  })

  t.test('pathological wildcard patterns against a 1024-byte key', async t => {
    // [pattern, decision for a…a, decision for a…ab]
    const cases: [string, 'allow' | undefined, 'allow' | undefined][] = [
      [`${ARN}/${'a*'.repeat(4000)}b`, undefined, undefined],
      [`${ARN}/${'*a'.repeat(4000)}`, undefined, undefined],
      [`${ARN}/${'a*'.repeat(500)}`, 'allow', 'allow'],
      [`${ARN}/*${'a?'.repeat(250)}b*`, undefined, 'allow'],
      [`${ARN}/*${'?'.repeat(1000)}b`, undefined, 'allow'],
      [`${ARN}/${'*'.repeat(9000)}b`, undefined, 'allow'],
      [`${ARN}/${'*aaaaaaaaab'.repeat(800)}`, undefined, undefined]
    ]
    for (const [pattern, plain, withB] of cases) {
      const p = compile(allowAll({ Resource: pattern }))
      for (let i = 0; i < 20; i++) t.equal(decide(p, 's3:GetObject', { key }), plain)
      t.equal(decide(p, 's3:GetObject', { key: `${key}b` }), withB, `${pattern.slice(0, 48)}…`)
    }
    const agent = 'ab'.repeat(4096)
    const like = compile(allowAll({ Condition: { StringLike: { 'aws:UserAgent': [`*${'a*b*'.repeat(900)}c`, `*${'a?'.repeat(2000)}c*`] } } }))
    for (let i = 0; i < 20; i++) t.equal(decide(like, 's3:GetObject', { key: 'x', context: { userAgent: agent } }), undefined)
    t.equal(decide(like, 's3:GetObject', { key: 'x', context: { userAgent: `${agent}ac` } }), 'allow')
  })

  t.test('a near miss over many distinct characters', async t => {
    const distinct = Array.from({ length: 300 }, (_, i) => String.fromCharCode(0x4e00 + i)).join('')
    const p = compile(allowAll({ Condition: { StringLike: { 'aws:UserAgent': `*${'a?'.repeat(2000)}${distinct}*` } } }))
    const agent = 'a'.repeat(16 * 1024)
    for (let i = 0; i < 5; i++) t.equal(decide(p, 's3:GetObject', { key: 'x', context: { userAgent: agent } }), undefined)
    t.equal(decide(p, 's3:GetObject', { key: 'x', context: { userAgent: `${agent}${distinct}` } }), 'allow')
    t.equal(decide(p, 's3:GetObject', { key: 'x', context: { userAgent: `${agent}${distinct.slice(1)}` } }), undefined)
  })

  t.test('many distinct wildcard actions compile', async t => {
    const actions = Array.from({ length: 900 }, (_, i) => `s3:*${String.fromCharCode(97 + (i % 26))}*${i % 7 === 0 ? '?' : ''}`).filter(a => !/[jqxz]/.test(a))
    const p = compile({ Effect: 'Allow', Principal: '*', Action: actions, Resource: [ARN, `${ARN}/*`] })
    t.equal(decide(p, 's3:GetObject', { key: 'x' }), 'allow')
  })

  t.test('names like __proto__ and constructor are plain text', async t => {
    refuses(t, '{"__proto__": {"Statement": []}, "Statement": []}', 'Unknown field __proto__')
    refuses(t, policy([allowAll({ constructor: 1 })]), 'Unknown field constructor')
    refuses(t, policy(allowAll({ Condition: { StringEquals: { constructor: 'x' } } })), 'Policy has an invalid condition key')
    refuses(t, policy(allowAll({ Condition: { toString: { 'aws:UserAgent': 'x' } } })), 'Invalid Condition type : toString')
    refuses(t, JSON.stringify({ Statement: { Effect: 'Allow', Principal: { hasOwnProperty: KEY }, Action: 's3:GetObject', Resource: `${ARN}/*` } }), 'Invalid principal in policy')
  })
})

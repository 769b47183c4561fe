// The permission matrix, generated from the table of operations: every operation a scoped view has,
// for every kind of grant, on an object inside a granted prefix, outside it, and in another bucket,
// is allowed exactly when its declared checks pass, and a refusal changes nothing and is counted.
// (test/access-keys.test.ts keeps a hand-written matrix: the declarations themselves are checked
// there against what each grant is meant to allow.)
import t from 'tap'
import { Spacebox, authorize, listingScope, type Grant, type ScopedSpacebox } from '../lib/index.js'
import { OPERATIONS, type OperationName, type OperationSpec } from '../lib/access/operations.js'
import { COMMIT_CHECK } from '../lib/internal/view-options.js'
import { readAll } from './helpers.js'

type Target = 'in' | 'out' | 'other'
const TARGETS: Record<Target, [string, string]> = { in: ['alpha', 'docs/x.txt'], out: ['alpha', 'other/x.txt'], other: ['beta', 'docs/x.txt'] }

const GRANTS: Array<[string, Grant[]]> = [
  ['no grant', []],
  ['read alpha', [{ bucket: 'alpha', permission: 'read' }]],
  ['readwrite alpha', [{ bucket: 'alpha', permission: 'readwrite' }]],
  ['fullaccess alpha', [{ bucket: 'alpha', permission: 'fullaccess' }]],
  ['read alpha/docs/', [{ bucket: 'alpha', permission: 'read', prefix: 'docs/' }]],
  ['readwrite alpha/docs/', [{ bucket: 'alpha', permission: 'readwrite', prefix: 'docs/' }]],
  ['fullaccess alpha/docs/', [{ bucket: 'alpha', permission: 'fullaccess', prefix: 'docs/' }]],
  ['readwrite beta', [{ bucket: 'beta', permission: 'readwrite' }]],
  ['full access to all', [{ bucket: '', permission: 'fullaccess' }]]
]

/** The arguments of each operation on a target; what they need (an upload) is made by the owner. */
const ARGS: Record<OperationName, (box: Spacebox, bucket: string, key: string) => Promise<unknown[]>> = {
  ListBuckets: async () => [],
  CreateBucket: async (_, bucket) => [bucket],
  HeadBucket: async (_, bucket) => [bucket],
  DeleteBucket: async (_, bucket) => [bucket],
  PutBucketEncryption: async (_, bucket) => [bucket, { algorithm: 'AES256' }],
  GetBucketEncryption: async (_, bucket) => [bucket],
  DeleteBucketEncryption: async (_, bucket) => [bucket],
  PutBucketCors: async (_, bucket) => [bucket, [{ allowedOrigins: ['*'], allowedMethods: ['GET'] }]],
  GetBucketCors: async (_, bucket) => [bucket],
  DeleteBucketCors: async (_, bucket) => [bucket],
  PutBucketWebsite: async (_, bucket) => [bucket, { indexDocument: { suffix: 'index.html' } }],
  GetBucketWebsite: async (_, bucket) => [bucket],
  DeleteBucketWebsite: async (_, bucket) => [bucket],
  PutBucketLifecycleConfiguration: async (_, bucket) => [bucket, [{ id: 'old', status: 'Enabled', filter: { prefix: 'logs/' }, expiration: { days: 30 } }]],
  GetBucketLifecycleConfiguration: async (_, bucket) => [bucket],
  DeleteBucketLifecycle: async (_, bucket) => [bucket],
  PutBucketVersioning: async (_, bucket) => [bucket, 'Enabled'],
  PutBucketAcl: async (_, bucket) => [bucket, 'public-read'],
  GetBucketAcl: async (_, bucket) => [bucket],
  // Lets anyone read; a key's outcome never depends on it (grants are its ceiling).
  PutBucketPolicy: async (_, bucket) => [bucket, JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }] })],
  GetBucketPolicy: async (_, bucket) => [bucket],
  DeleteBucketPolicy: async (_, bucket) => [bucket],
  GetBucketPolicyStatus: async (_, bucket) => [bucket],
  PutObjectAcl: async (_, bucket, key) => [bucket, key, 'private'],
  GetObjectAcl: async (_, bucket, key) => [bucket, key],
  PutObjectTagging: async (_, bucket, key) => [bucket, key, { project: 'x' }],
  GetObjectTagging: async (_, bucket, key) => [bucket, key],
  DeleteObjectTagging: async (_, bucket, key) => [bucket, key],
  PutBucketTagging: async (_, bucket) => [bucket, { team: 'y' }],
  GetBucketTagging: async (_, bucket) => [bucket],
  DeleteBucketTagging: async (_, bucket) => [bucket],
  GetBucketVersioning: async (_, bucket) => [bucket],
  PutObject: async (_, bucket, key) => [bucket, key, 'new'],
  GetObject: async (_, bucket, key) => [bucket, key],
  HeadObject: async (_, bucket, key) => [bucket, key],
  DeleteObject: async (_, bucket, key) => [bucket, key],
  DeleteObjects: async (_, bucket, key) => [bucket, [key]],
  CopyObject: async (_, bucket, key) => [bucket, key, bucket, `${key}.copy`],
  ListObjectsV2: async (_, bucket) => [bucket],
  ListObjects: async (_, bucket) => [bucket],
  ListAll: async (_, bucket) => [bucket],
  ListObjectVersions: async (_, bucket) => [bucket],
  ListAllVersions: async (_, bucket) => [bucket],
  CreateMultipartUpload: async (_, bucket, key) => [bucket, key],
  UploadPart: async (box, bucket, key) => [bucket, key, await upload(box, bucket, key), 1, 'part'],
  UploadPartCopy: async (box, bucket, key) => [bucket, key, await upload(box, bucket, key), 1, bucket, key],
  CompleteMultipartUpload: async (box, bucket, key) => {
    const uploadId = await upload(box, bucket, key)
    const { etag } = await box.uploadPart(bucket, key, uploadId, 1, 'old')
    return [bucket, key, uploadId, [{ partNumber: 1, etag }]]
  },
  AbortMultipartUpload: async (box, bucket, key) => [bucket, key, await upload(box, bucket, key)],
  ListParts: async (box, bucket, key) => [bucket, key, await upload(box, bucket, key)],
  ListMultipartUploads: async (_, bucket) => [bucket],
  // One stale upload, at the target: each upload the caller may not abort counts as one refusal.
  AbortIncompleteUploads: async (box, bucket, key) => {
    await box.abortIncompleteUploads(bucket, { olderThan: 0 })
    await upload(box, bucket, key)
    return [bucket, { olderThan: 0 }]
  }
}

async function upload (box: Spacebox, bucket: string, key: string): Promise<string> {
  return (await box.createMultipartUpload(bucket, key)).uploadId
}

/** What the table declares for these grants, on an object at `target`: the outcome the view must give. */
function declared (spec: OperationSpec, grants: Grant[], args: unknown[], target: string): 'allowed' | 'denied' {
  const checks = spec.checks(args)
  let allowed: boolean
  if (spec.wrap === 'buckets') allowed = true
  else if (spec.wrap === 'listing') {
    const scope = listingScope(grants, checks[0]![1], '')
    allowed = scope.allowed
    // A bulk change reaches the target's upload only inside the listing's scope; there it needs its own right.
    const each = spec.each
    if (each !== undefined && scope.allowed && target.startsWith(scope.scope)) allowed &&= authorize(grants, each[0], args[0] as string, target).allowed
  } else {
    allowed = checks.every(([action, bucket, key]) => authorize(grants, action, bucket, key).allowed)
    if (spec.wrap === 'deleteMany') allowed &&= (args[1] as string[]).every(key => authorize(grants, 'write', args[0] as string, key).allowed)
  }
  return allowed ? 'allowed' : 'denied'
}

/** Run an operation through the view: 'denied' for AccessDenied (thrown, or a DeleteObjects entry), else 'allowed'. */
async function outcome (view: ScopedSpacebox, spec: OperationSpec, args: unknown[]): Promise<string> {
  const method = (view as unknown as Record<string, (...a: unknown[]) => unknown>)[spec.method]!
  try {
    const result = method.apply(view, args)
    if (spec.generator === true) {
      const read: unknown[] = []
      for await (const item of result as AsyncIterable<unknown>) read.push(item)
    } else {
      const value = await result as { body?: { destroy: () => void }, errors?: Array<{ code: string }>, denied?: unknown[] }
      value?.body?.destroy()
      if (value?.errors?.some(e => e.code === 'AccessDenied') === true || (value?.denied?.length ?? 0) > 0) return 'denied'
    }
    return 'allowed'
  } catch (err) {
    return (err as { code?: string }).code === 'AccessDenied' ? 'denied' : `allowed (${(err as { code?: string }).code ?? String(err)})`
  }
}

async function contents (box: Spacebox, bucket: string, key: string): Promise<string> {
  return await box.getObject(bucket, key).then(async r => (await readAll(r.body)).toString(), (err: { code: string }) => err.code)
}

t.test('the table declares every scoped method, and each exists on the store and the view', async t => {
  const box = await Spacebox.open({ memory: true })
  t.teardown(async () => { await box.close() })
  const { accessKeyId } = await box.keys.create({ name: 'k', grants: [] })
  const view = box.as(accessKeyId) as unknown as Record<string, unknown>
  const methods = Object.values(OPERATIONS).map(spec => spec.method)
  t.equal(new Set(methods).size, methods.length, 'one entry per method')
  for (const method of methods) {
    t.type((box as unknown as Record<string, unknown>)[method], 'function', `the store has ${method}`)
    t.type(view[method], 'function', `the view has ${method}`)
  }
  t.same(Object.keys(ARGS).sort(), Object.keys(OPERATIONS).sort(), 'every operation has arguments in this test')
})

// Public: both buckets public-read-write, their objects public-read, and a policy letting anyone do
// anything. A key's grants are its ceiling, so every outcome is still the one its grants declare.
t.test('every operation x every grant x in and out of the bucket and the prefix x private or public: as the table declares', async t => {
  for (const [label, grants, open] of GRANTS.flatMap(([label, grants]) => [[label, grants, false], [`${label}, all public`, grants, true]] as const)) {
    for (const [target, [bucket, key]] of Object.entries(TARGETS) as Array<[Target, [string, string]]>) {
      const box = await Spacebox.open({ memory: true })
      for (const name of ['alpha', 'beta']) {
        await box.createBucket(name, open ? { acl: 'public-read-write' } : {})
        for (const k of ['docs/x.txt', 'other/x.txt']) await box.putObject(name, k, 'old', open ? { acl: 'public-read' } : {})
        if (open) {
          await box.putBucketPolicy(name, JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${name}`, `arn:aws:s3:::${name}/*`] }] }))
        }
      }
      const { accessKeyId } = await box.keys.create({ name: label, grants })
      const view = box.as(accessKeyId)
      let mismatches = 0
      for (const [operation, spec] of Object.entries(OPERATIONS) as Array<[OperationName, OperationSpec]>) {
        const args = await ARGS[operation](box, bucket, key)
        const want = declared(spec, grants, args, key)
        const before = await contents(box, bucket, key)
        const refusals = box.keys.usage(accessKeyId).denied
        const got = await outcome(view, spec, args)
        if (!got.startsWith(want)) {
          mismatches++
          t.fail(`${label}: ${operation} on ${bucket}/${key} was ${got}, declared ${want}`)
        }
        if (want === 'denied') {
          if (await contents(box, bucket, key) !== before) t.fail(`${label}: a refused ${operation} changed ${bucket}/${key}`)
          if (box.keys.usage(accessKeyId).denied !== refusals + 1) t.fail(`${label}: a refused ${operation} was not counted`)
        }
      }
      t.equal(mismatches, 0, `${label}, ${target}: every operation as declared`)
      await box.close()
    }
  }
})

t.test('the anonymous view: every operation refused on a private bucket, changing nothing', async t => {
  const box = await Spacebox.open({ memory: true })
  t.teardown(async () => { await box.close() })
  await box.createBucket('alpha')
  await box.putObject('alpha', 'docs/x.txt', 'old')
  const view = box.anonymous()
  t.equal(view.accessKeyId, undefined)
  for (const [operation, spec] of Object.entries(OPERATIONS) as Array<[OperationName, OperationSpec]>) {
    const args = await ARGS[operation](box, 'alpha', 'docs/x.txt')
    t.equal(await outcome(view, spec, args), 'denied', operation)
  }
  t.equal(await contents(box, 'alpha', 'docs/x.txt'), 'old')
  t.throws(() => box.anonymous(['open'] as unknown as object), TypeError)
})

/** What an unsigned caller may do in each setting, written out by hand from S3's rules (decide.ts must agree). */
const PUBLIC: Array<[string, (box: Spacebox) => Promise<void>, OperationName[]]> = [
  ['a private bucket', async () => {}, []],
  ['a public-read bucket', async box => { await box.putBucketAcl('alpha', 'public-read') },
    ['HeadBucket', 'ListObjectsV2', 'ListObjects', 'ListAll', 'ListObjectVersions', 'ListAllVersions', 'ListMultipartUploads']],
  ['a public-read-write bucket', async box => { await box.putBucketAcl('alpha', 'public-read-write') },
    ['HeadBucket', 'ListObjectsV2', 'ListObjects', 'ListAll', 'ListObjectVersions', 'ListAllVersions', 'ListMultipartUploads',
      'PutObject', 'DeleteObject', 'DeleteObjects', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'AbortMultipartUpload',
      'AbortIncompleteUploads']],
  ['a public-read object', async box => { await box.putObjectAcl('alpha', 'docs/x.txt', 'public-read') }, ['GetObject', 'HeadObject']],
  ['a policy letting anyone get objects', async box => {
    await box.putBucketPolicy('alpha', JSON.stringify({ Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::alpha/*' }] }))
  }, ['GetObject', 'HeadObject']],
  ['a policy letting anyone list, and denying the listing of one prefix', async box => {
    await box.putBucketPolicy('alpha', JSON.stringify({
      Statement: [{ Effect: 'Allow', Principal: '*', Action: ['s3:ListBucket', 's3:GetBucketAcl'], Resource: 'arn:aws:s3:::alpha' },
        { Effect: 'Deny', Principal: '*', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::alpha', Condition: { StringLike: { 's3:prefix': 'secret/*' } } }]
    }))
  }, ['HeadBucket', 'ListObjectsV2', 'ListObjects', 'ListAll', 'GetBucketAcl']]
]

t.test('every operation x ACLs and policies for an unsigned caller: exactly what S3 lets anyone do', async t => {
  for (const [label, setUp, allowed] of PUBLIC) {
    const box = await Spacebox.open({ memory: true })
    await box.createBucket('alpha')
    await box.putObject('alpha', 'docs/x.txt', 'old')
    await setUp(box)
    const view = box.anonymous()
    const got: string[] = []
    for (const [operation, spec] of Object.entries(OPERATIONS) as Array<[OperationName, OperationSpec]>) {
      if (operation === 'DeleteBucket') continue // it would succeed or fail on emptiness, not on access: below
      const args = await ARGS[operation](box, 'alpha', 'docs/x.txt')
      const before = await contents(box, 'alpha', 'docs/x.txt')
      const outcomeOf = await outcome(view, spec, args)
      if (outcomeOf.startsWith('allowed')) got.push(operation)
      else if (await contents(box, 'alpha', 'docs/x.txt') !== before) t.fail(`${label}: a refused ${operation} changed the object`)
    }
    t.same(got.sort(), [...allowed].sort(), label)
    await t.rejects(view.deleteBucket('alpha'), { code: 'AccessDenied' }, `${label}: DeleteBucket`)
    await box.close()
  }
  const box = await Spacebox.open({ memory: true })
  t.teardown(async () => { await box.close() })
  await box.createBucket('alpha')
  await PUBLIC[5]![1](box)
  await t.rejects(box.anonymous().listObjectsV2('alpha', { prefix: 'secret/a' }), { code: 'AccessDenied' }, 's3:prefix in a Deny')
  t.same((await box.anonymous().listObjectsV2('alpha', { prefix: 'docs/' })).contents, [])
})

t.test('every operation the table re-checks at commit runs the check before its batch, and a failed check stores nothing', async t => {
  const committing = (Object.entries(OPERATIONS) as Array<[OperationName, OperationSpec]>).filter(([, spec]) => spec.commit === true)
  t.same(committing.map(([name]) => name).sort(), ['CompleteMultipartUpload', 'CopyObject', 'PutObject', 'UploadPart', 'UploadPartCopy'])
  for (const [operation, spec] of committing) {
    const box = await Spacebox.open({ memory: true })
    await box.createBucket('alpha')
    await box.putObject('alpha', 'docs/x.txt', 'old')
    const args = await ARGS[operation](box, 'alpha', 'docs/x.txt')
    const objects = async (): Promise<string[]> => {
      const out: string[] = []
      for await (const o of box.listAll('alpha')) out.push(`${o.key} ${o.etag}`)
      return out
    }
    const before = await objects()
    const refused = new Error('refused at commit')
    let checks = 0
    const withCheck = [...args]
    while (withCheck.length <= spec.options!) withCheck.push(undefined)
    withCheck[spec.options!] = { ...(withCheck[spec.options!] as object | undefined), [COMMIT_CHECK]: () => { checks++; throw refused } }
    const method = (box as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[spec.method]!
    await t.rejects(method.apply(box, withCheck), refused, `${operation}: the commit check's error`)
    t.equal(checks, 1, `${operation}: checked once`)
    t.same(await objects(), before, `${operation}: no object changed`)
    if (operation === 'UploadPart' || operation === 'UploadPartCopy') {
      t.same((await box.listParts('alpha', 'docs/x.txt', args[2] as string)).parts, [], `${operation}: no part stored`)
    }
    await box.close()
  }
})

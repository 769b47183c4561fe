import t from 'tap'
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand,
  DeleteObjectCommand, DeleteObjectsCommand, GetBucketCorsCommand, GetBucketEncryptionCommand, GetObjectCommand, HeadBucketCommand,
  ListBucketsCommand, ListObjectsV2Command, PutBucketCorsCommand, PutBucketEncryptionCommand, PutObjectCommand, S3Client,
  S3ServiceException, UploadPartCommand
} from '@aws-sdk/client-s3'
import type { Grant } from '../../lib/index.js'
import { serve } from './helpers.js'

// Who is asking: keys scoped to bucket `aaa`, one scoped to its prefix p/, and a full-access key.
const WHO = ['read', 'readwrite', 'fullaccess', 'prefix', 'full'] as const
type Who = typeof WHO[number]
const GRANTS: Record<Exclude<Who, 'full'>, Grant[]> = {
  read: [{ bucket: 'aaa', permission: 'read' }],
  readwrite: [{ bucket: 'aaa', permission: 'readwrite' }],
  fullaccess: [{ bucket: 'aaa', permission: 'fullaccess' }],
  prefix: [{ bucket: 'aaa', permission: 'readwrite', prefix: 'p/' }]
}

/** 'ok', or the S3 error Code (or, for a body-less HEAD, the status) the call ends with. */
async function outcome (call: Promise<unknown>): Promise<string> {
  try {
    await call
    return 'ok'
  } catch (err) {
    if (!(err instanceof S3ServiceException)) throw err
    return err.name === 'Unknown' || err.name === 'NotFound' || err.name === 'Forbidden' ? String(err.$metadata.httpStatusCode) : err.name
  }
}

const DENIED = 'AccessDenied'

/** Expected outcomes: `allowed` get `ok` (or `whenAllowed`), everyone else AccessDenied. */
function only (allowed: Who[], whenAllowed = 'ok', denied = DENIED): Record<Who, string> {
  return Object.fromEntries(WHO.map(w => [w, allowed.includes(w) ? whenAllowed : denied])) as Record<Who, string>
}

const WRITERS: Who[] = ['readwrite', 'fullaccess', 'full']
const READERS: Who[] = ['read', 'readwrite', 'fullaccess', 'full']

t.test('grants decide every operation through the wire', async t => {
  const s = await serve(t)
  await s.box.createBucket('aaa')
  await s.box.createBucket('bbb')
  await s.box.putObject('aaa', 'p/x', 'px')
  await s.box.putObject('aaa', 'q/y', 'qy')
  await s.box.putObject('bbb', 'b.txt', 'b')
  const clients = { full: s.client() } as Record<Who, S3Client>
  for (const who of WHO) if (who !== 'full') clients[who] = (await s.keyed(GRANTS[who])).client
  const exists = async (bucket: string, key: string): Promise<boolean> => await s.box.headObject(bucket, key).then(() => true, () => false)
  const cors = { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] }
  const sse = { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' as const } }] }

  const cases: Array<{ op: string, expect: Record<Who, string>, run: (c: S3Client, who: Who) => Promise<unknown>, stored?: (who: Who) => Promise<boolean> }> = [
    { op: 'GetObject outside the prefix', expect: only(READERS), run: async c => await c.send(new GetObjectCommand({ Bucket: 'aaa', Key: 'q/y' })) },
    { op: 'GetObject inside the prefix', expect: only([...READERS, 'prefix']), run: async c => await c.send(new GetObjectCommand({ Bucket: 'aaa', Key: 'p/x' })) },
    { op: 'GetObject in another bucket', expect: only(['full']), run: async c => await c.send(new GetObjectCommand({ Bucket: 'bbb', Key: 'b.txt' })) },
    { op: 'HeadBucket', expect: only([...READERS, 'prefix']), run: async c => await c.send(new HeadBucketCommand({ Bucket: 'aaa' })) },
    { op: 'HeadBucket of another bucket', expect: only(['full'], 'ok', '403'), run: async c => await c.send(new HeadBucketCommand({ Bucket: 'bbb' })) },
    {
      op: 'PutObject inside the prefix',
      expect: only([...WRITERS, 'prefix']),
      run: async (c, who) => await c.send(new PutObjectCommand({ Bucket: 'aaa', Key: `p/put-${who}`, Body: 'x' })),
      stored: async who => await exists('aaa', `p/put-${who}`)
    },
    {
      op: 'PutObject outside the prefix',
      expect: only(WRITERS),
      run: async (c, who) => await c.send(new PutObjectCommand({ Bucket: 'aaa', Key: `q/put-${who}`, Body: 'x' })),
      stored: async who => await exists('aaa', `q/put-${who}`)
    },
    {
      op: 'PutObject into another bucket',
      expect: only(['full']),
      run: async (c, who) => await c.send(new PutObjectCommand({ Bucket: 'bbb', Key: `put-${who}`, Body: 'x' })),
      stored: async who => await exists('bbb', `put-${who}`)
    },
    {
      op: 'DeleteObject inside the prefix',
      expect: only([...WRITERS, 'prefix']),
      run: async (c, who) => {
        await s.box.putObject('aaa', `p/del-${who}`, 'x')
        return await c.send(new DeleteObjectCommand({ Bucket: 'aaa', Key: `p/del-${who}` }))
      },
      stored: async who => !await exists('aaa', `p/del-${who}`)
    },
    {
      op: 'DeleteObject outside the prefix',
      expect: only(WRITERS),
      run: async (c, who) => {
        await s.box.putObject('aaa', `q/del-${who}`, 'x')
        return await c.send(new DeleteObjectCommand({ Bucket: 'aaa', Key: `q/del-${who}` }))
      },
      stored: async who => !await exists('aaa', `q/del-${who}`)
    },
    {
      op: 'CopyObject from outside the prefix to inside it',
      expect: only(WRITERS),
      run: async (c, who) => await c.send(new CopyObjectCommand({ Bucket: 'aaa', Key: `p/copy-${who}`, CopySource: 'aaa/q/y' })),
      stored: async who => await exists('aaa', `p/copy-${who}`)
    },
    {
      op: 'CopyObject within the prefix',
      expect: only([...WRITERS, 'prefix']),
      run: async (c, who) => await c.send(new CopyObjectCommand({ Bucket: 'aaa', Key: `p/copy2-${who}`, CopySource: 'aaa/p/x' })),
      stored: async who => await exists('aaa', `p/copy2-${who}`)
    },
    {
      op: 'CopyObject from a bucket the key cannot read',
      expect: only(['full']),
      run: async (c, who) => await c.send(new CopyObjectCommand({ Bucket: 'aaa', Key: `p/copy3-${who}`, CopySource: 'bbb/b.txt' })),
      stored: async who => await exists('aaa', `p/copy3-${who}`)
    },
    {
      op: 'CopyObject out of the bucket into one the key cannot write',
      expect: only(['full']),
      run: async (c, who) => await c.send(new CopyObjectCommand({ Bucket: 'bbb', Key: `copy-${who}`, CopySource: 'aaa/p/x' })),
      stored: async who => await exists('bbb', `copy-${who}`)
    },
    { op: 'ListObjectsV2 under q/', expect: only(READERS), run: async c => await c.send(new ListObjectsV2Command({ Bucket: 'aaa', Prefix: 'q/' })) },
    { op: 'ListObjectsV2 of another bucket', expect: only(['full']), run: async c => await c.send(new ListObjectsV2Command({ Bucket: 'bbb' })) },
    {
      op: 'CreateBucket',
      expect: only(['full']),
      run: async (c, who) => await c.send(new CreateBucketCommand({ Bucket: `new-${who}` })),
      stored: async who => await s.box.headBucket(`new-${who}`).then(() => true, () => false)
    },
    { op: 'DeleteBucket (not empty)', expect: only(['fullaccess', 'full'], 'BucketNotEmpty'), run: async c => await c.send(new DeleteBucketCommand({ Bucket: 'aaa' })) },
    { op: 'DeleteBucket of another bucket', expect: only(['full'], 'BucketNotEmpty'), run: async c => await c.send(new DeleteBucketCommand({ Bucket: 'bbb' })) },
    { op: 'PutBucketEncryption', expect: only(['fullaccess', 'full']), run: async c => await c.send(new PutBucketEncryptionCommand({ Bucket: 'aaa', ServerSideEncryptionConfiguration: sse })) },
    { op: 'GetBucketEncryption', expect: only(['fullaccess', 'full']), run: async c => await c.send(new GetBucketEncryptionCommand({ Bucket: 'aaa' })) },
    { op: 'PutBucketCors', expect: only(['fullaccess', 'full']), run: async c => await c.send(new PutBucketCorsCommand({ Bucket: 'aaa', CORSConfiguration: cors })) },
    { op: 'GetBucketCors', expect: only(['fullaccess', 'full']), run: async c => await c.send(new GetBucketCorsCommand({ Bucket: 'aaa' })) },
    {
      op: 'multipart create, upload, complete inside the prefix',
      expect: only([...WRITERS, 'prefix']),
      run: async (c, who) => await multipart(c, 'aaa', `p/mpu-${who}`),
      stored: async who => await exists('aaa', `p/mpu-${who}`)
    },
    {
      op: 'multipart create outside the prefix',
      expect: only(WRITERS),
      run: async (c, who) => await multipart(c, 'aaa', `q/mpu-${who}`),
      stored: async who => await exists('aaa', `q/mpu-${who}`)
    },
    {
      op: 'UploadPart and Complete into an upload someone else began outside the prefix',
      expect: only(WRITERS),
      run: async (c, who) => {
        const { uploadId: UploadId } = await s.box.createMultipartUpload('aaa', `q/theirs-${who}`)
        const part = await c.send(new UploadPartCommand({ Bucket: 'aaa', Key: `q/theirs-${who}`, UploadId, PartNumber: 1, Body: 'part' }))
        return await c.send(new CompleteMultipartUploadCommand({ Bucket: 'aaa', Key: `q/theirs-${who}`, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }))
      },
      stored: async who => await exists('aaa', `q/theirs-${who}`)
    }
  ]

  for (const c of cases) {
    t.test(`${c.op}: ${WHO.map(w => `${w} → ${c.expect[w]}`).join(', ')}`, async t => {
      for (const who of WHO) {
        const got = await outcome(c.run(clients[who], who))
        t.equal(got, c.expect[who], who)
        if (c.stored !== undefined) t.equal(await c.stored(who), got === 'ok', `${who}: changed the store only if allowed`)
      }
    })
  }

  t.test('ListBuckets shows only the buckets a key can reach', async t => {
    for (const who of WHO) {
      const list = await clients[who].send(new ListBucketsCommand({}))
      const names = list.Buckets?.map(b => b.Name) ?? []
      t.same(names.filter(n => n === 'aaa' || n === 'bbb'), who === 'full' ? ['aaa', 'bbb'] : ['aaa'], who)
      if (who !== 'full') t.same(names, ['aaa'], `${who} sees no other bucket`)
    }
  })

  t.test('a prefix-scoped key listing the whole bucket sees only its prefix', async t => {
    const list = await clients.prefix.send(new ListObjectsV2Command({ Bucket: 'aaa' }))
    t.ok((list.Contents ?? []).length > 0)
    t.ok(list.Contents?.every(o => o.Key?.startsWith('p/')), 'only p/ keys')
    const all = await clients.read.send(new ListObjectsV2Command({ Bucket: 'aaa' }))
    t.ok(all.Contents?.some(o => o.Key === 'q/y'), 'a bucket-wide key sees q/ too')
  })

  t.test('DeleteObjects deletes the keys a key may write and reports AccessDenied for each other one', async t => {
    const expected: Record<Who, { deleted: string[], denied: string[] }> = {
      read: { deleted: [], denied: ['p/dm', 'q/dm'] },
      readwrite: { deleted: ['p/dm', 'q/dm'], denied: [] },
      fullaccess: { deleted: ['p/dm', 'q/dm'], denied: [] },
      prefix: { deleted: ['p/dm'], denied: ['q/dm'] },
      full: { deleted: ['p/dm', 'q/dm'], denied: [] }
    }
    for (const who of WHO) {
      await s.box.putObject('aaa', 'p/dm', 'x')
      await s.box.putObject('aaa', 'q/dm', 'x')
      const res = await clients[who].send(new DeleteObjectsCommand({ Bucket: 'aaa', Delete: { Objects: [{ Key: 'p/dm' }, { Key: 'q/dm' }] } }))
      t.same((res.Deleted ?? []).map(d => d.Key).sort(), expected[who].deleted, `${who}: deleted`)
      t.same((res.Errors ?? []).map(e => [e.Key, e.Code]).sort(), expected[who].denied.map(k => [k, 'AccessDenied']), `${who}: denied`)
      t.equal(await exists('aaa', 'p/dm'), !expected[who].deleted.includes('p/dm'), `${who}: p/dm`)
      t.equal(await exists('aaa', 'q/dm'), !expected[who].deleted.includes('q/dm'), `${who}: q/dm`)
    }
    for (const who of WHO) {
      const got = await outcome(clients[who].send(new DeleteObjectsCommand({ Bucket: 'bbb', Delete: { Objects: [{ Key: 'b.txt' }] } })))
      t.equal(got, who === 'full' ? 'ok' : DENIED, `${who}: DeleteObjects in another bucket`)
    }
  })
})

async function multipart (c: S3Client, bucket: string, key: string): Promise<unknown> {
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }))
  const part = await c.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: 'only part' }))
  return await c.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }))
}

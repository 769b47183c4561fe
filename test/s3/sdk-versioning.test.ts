import t, { type Test } from 'tap'
import {
  CompleteMultipartUploadCommand, CopyObjectCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteBucketCommand,
  DeleteObjectCommand, DeleteObjectsCommand, GetBucketVersioningCommand, GetObjectAttributesCommand, GetObjectCommand, HeadObjectCommand,
  ListObjectsV2Command, ListObjectVersionsCommand, PutBucketVersioningCommand, PutObjectCommand, UploadPartCopyCommand, type S3Client
} from '@aws-sdk/client-s3'
import { serve, type Served } from './helpers.js'
import { rejects } from './sdk-helpers.js'
import { sendSigned } from './wire.js'

type Status = 'Enabled' | 'Suspended'

async function setup (t: Test, status?: Status): Promise<{ s: Served, c: S3Client }> {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'bkt' }))
  if (status !== undefined) await versioning(c, 'bkt', status)
  return { s, c }
}

async function versioning (c: S3Client, bucket: string, status: Status): Promise<void> {
  await c.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }))
}

async function put (c: S3Client, key: string, body: string, bucket = 'bkt'): Promise<string | undefined> {
  return (await c.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }))).VersionId
}

async function read (c: S3Client, key: string, versionId?: string): Promise<{ body: string, versionId: string | undefined }> {
  const out = await c.send(new GetObjectCommand({ Bucket: 'bkt', Key: key, VersionId: versionId }))
  return { body: await out.Body!.transformToString(), versionId: out.VersionId }
}

/** The raw response headers of an SDK error (the SDK parses none of them into the error). */
function errorHeaders (err: unknown): Record<string, string> {
  return (err as { $response?: { headers?: Record<string, string> } } | undefined)?.$response?.headers ?? {}
}

/**
 * Every version and marker of a bucket as [key, versionId, kind, isLatest], in the order the
 * server lists them: read from the XML, since the SDK splits the one list in two.
 */
async function versions (s: Served, bucket = 'bkt'): Promise<Array<[string, string, 'version' | 'marker', boolean]>> {
  const res = await sendSigned(s.server.url, s.credentials, 'GET', `/${bucket}?versions`)
  const entries = res.text.matchAll(/<(Version|DeleteMarker)><Key>([^<]*)<\/Key><VersionId>([^<]*)<\/VersionId><IsLatest>(true|false)<\/IsLatest>/g)
  return [...entries].map(([, kind, key, id, latest]) => [key!, id!, kind === 'Version' ? 'version' : 'marker', latest === 'true'])
}

t.test('PutBucketVersioning and GetBucketVersioning', async t => {
  const { c } = await setup(t)
  t.equal((await c.send(new GetBucketVersioningCommand({ Bucket: 'bkt' }))).Status, undefined, 'never enabled: no Status')
  await versioning(c, 'bkt', 'Enabled')
  t.equal((await c.send(new GetBucketVersioningCommand({ Bucket: 'bkt' }))).Status, 'Enabled')
  await versioning(c, 'bkt', 'Suspended')
  t.equal((await c.send(new GetBucketVersioningCommand({ Bucket: 'bkt' }))).Status, 'Suspended', 'suspended, never back to unversioned')
  await c.send(new PutBucketVersioningCommand({ Bucket: 'bkt', VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Disabled' } }))
  t.equal((await c.send(new GetBucketVersioningCommand({ Bucket: 'bkt' }))).Status, 'Enabled', 'MfaDelete Disabled is accepted')
  await rejects(t, c.send(new PutBucketVersioningCommand({ Bucket: 'bkt', VersioningConfiguration: { Status: 'Suspended', MFADelete: 'Enabled' } })),
    'NotImplemented', 501, 'MfaDelete Enabled')
  t.equal((await c.send(new GetBucketVersioningCommand({ Bucket: 'bkt' }))).Status, 'Enabled', 'the refused request changed nothing')
  await rejects(t, c.send(new PutBucketVersioningCommand({ Bucket: 'bkt', VersioningConfiguration: {} })), 'MalformedXML', 400, 'no Status')
  await rejects(t, c.send(new PutBucketVersioningCommand({ Bucket: 'missing', VersioningConfiguration: { Status: 'Enabled' } })), 'NoSuchBucket', 404)
})

t.test('every PUT to a versioned key is a version, each readable by its id', async t => {
  const { s, c } = await setup(t, 'Enabled')
  const ids = [await put(c, 'k', 'one'), await put(c, 'k', 'two'), await put(c, 'k', 'three')]
  t.ok(ids.every(id => id !== undefined && id !== 'null'), 'each PUT reports its version id')
  t.equal(new Set(ids).size, 3, 'all different')
  t.same(await read(c, 'k'), { body: 'three', versionId: ids[2] }, 'GET without an id is the newest')
  t.same(await read(c, 'k', ids[0]), { body: 'one', versionId: ids[0] })
  const head = await c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: ids[1] }))
  t.equal(head.VersionId, ids[1])
  t.equal(head.ContentLength, 3)
  const attributes = await c.send(new GetObjectAttributesCommand({ Bucket: 'bkt', Key: 'k', VersionId: ids[0], ObjectAttributes: ['ObjectSize'] }))
  t.equal(attributes.ObjectSize, 3)
  t.equal(attributes.VersionId, ids[0], 'GetObjectAttributes of a version')
  t.same(await versions(s), ids.reverse().map((id, i) => ['k', id, 'version', i === 0]), 'listed newest first, the newest latest')
})

t.test('delete markers', async t => {
  const { s, c } = await setup(t, 'Enabled')
  const v1 = await put(c, 'k', 'one')
  const del = await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k' }))
  t.equal(del.DeleteMarker, true, 'a DELETE without an id writes a marker')
  const marker = del.VersionId!
  t.not(marker, v1)

  t.test('GET and HEAD of the key are 404 and name the marker', async t => {
    const err = await rejects(t, c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k' })), 'NoSuchKey', 404)
    t.equal(errorHeaders(err)['x-amz-delete-marker'], 'true')
    t.equal(errorHeaders(err)['x-amz-version-id'], marker)
    const headErr = await rejects(t, c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'k' })), 'NotFound', 404)
    t.equal(errorHeaders(headErr)['x-amz-delete-marker'], 'true')
  })

  t.test('GET and HEAD of the marker\'s id are 405 MethodNotAllowed', async t => {
    const err = await rejects(t, c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: marker })), 'MethodNotAllowed', 405)
    t.equal(errorHeaders(err).allow, 'DELETE')
    t.equal(errorHeaders(err)['x-amz-version-id'], marker)
    await rejects(t, c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: marker })), null, 405, 'HEAD')
  })

  t.test('the version under the marker is still readable by id, and listings hide the key', async t => {
    t.same(await read(c, 'k', v1), { body: 'one', versionId: v1 })
    t.equal((await c.send(new ListObjectsV2Command({ Bucket: 'bkt' }))).KeyCount, 0)
    t.same(await versions(s), [['k', marker, 'marker', true], ['k', v1, 'version', false]])
  })

  t.test('another DELETE stacks another marker', async t => {
    const again = await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k' }))
    t.equal(again.DeleteMarker, true)
    t.same((await versions(s)).map(v => v[2]), ['marker', 'marker', 'version'])
    const removed = await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: again.VersionId }))
    t.equal(removed.DeleteMarker, true, 'deleting a marker by id says it was one')
    t.equal(removed.VersionId, again.VersionId)
  })

  t.test('deleting the marker by id brings the key back', async t => {
    const removed = await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: marker }))
    t.equal(removed.DeleteMarker, true)
    t.same(await read(c, 'k'), { body: 'one', versionId: v1 })
  })
})

t.test('deleting a version by id removes it for good; the previous one becomes current', async t => {
  const { s, c } = await setup(t, 'Enabled')
  const v1 = await put(c, 'k', 'one')
  const v2 = await put(c, 'k', 'two')
  const del = await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: v2 }))
  t.equal(del.VersionId, v2)
  t.equal(del.DeleteMarker, undefined, 'not a marker')
  t.same(await read(c, 'k'), { body: 'one', versionId: v1 })
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: v2 })), 'NoSuchVersion', 404)
  t.same(await versions(s), [['k', v1, 'version', true]])
  const unknown = await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: v2 }))
  t.equal(unknown.VersionId, v2, 'deleting an id that is gone is a 204 that echoes it')
  await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: v1 }))
  await rejects(t, c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k' })), 'NoSuchKey', 404, 'the last version gone, the key is gone')
  t.same(await versions(s), [])
})

t.test('a Suspended bucket writes the null version, replacing the null version there was', async t => {
  const { s, c } = await setup(t, 'Enabled')
  const v1 = await put(c, 'k', 'one')
  await versioning(c, 'bkt', 'Suspended')
  t.equal(await put(c, 'k', 'two'), undefined, 'PutObject reports no version id for the null version')
  t.same(await read(c, 'k'), { body: 'two', versionId: 'null' }, 'GET says null')
  await put(c, 'k', 'three')
  t.same(await versions(s), [['k', 'null', 'version', true], ['k', v1, 'version', false]], 'one null version, the Enabled one kept')
  t.same(await read(c, 'k', 'null'), { body: 'three', versionId: 'null' }, '?versionId=null')
  const del = await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k' }))
  t.same([del.DeleteMarker, del.VersionId], [true, 'null'], 'the marker is the null version')
  t.same(await versions(s), [['k', 'null', 'marker', true], ['k', v1, 'version', false]], 'it replaced the null version')
  t.same(await read(c, 'k', v1), { body: 'one', versionId: v1 })
})

t.test('a bucket never versioned reports no version ids, and lists each object as version null', async t => {
  const { s, c } = await setup(t)
  t.equal(await put(c, 'k', 'one'), undefined)
  t.same(await read(c, 'k'), { body: 'one', versionId: undefined })
  t.equal((await read(c, 'k', 'null')).body, 'one', '?versionId=null is the object')
  t.same(await versions(s), [['k', 'null', 'version', true]])
  const del = await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k' }))
  t.same([del.DeleteMarker, del.VersionId], [undefined, undefined], 'a delete is a delete')
  t.same(await versions(s), [])
})

t.test('DeleteObjects with version ids', async t => {
  const { s, c } = await setup(t, 'Enabled')
  const a1 = await put(c, 'a', 'a1')
  const a2 = await put(c, 'a', 'a2')
  const b1 = await put(c, 'b', 'b1')
  const res = await c.send(new DeleteObjectsCommand({
    Bucket: 'bkt',
    Delete: { Objects: [{ Key: 'a', VersionId: a1 }, { Key: 'b' }, { Key: 'a', VersionId: 'not-an-id' }] }
  }))
  t.same(res.Deleted?.[0], { Key: 'a', VersionId: a1 }, 'a version removed')
  t.equal(res.Deleted?.[1]?.Key, 'b')
  t.equal(res.Deleted?.[1]?.DeleteMarker, true, 'no id: a marker written')
  const marker = res.Deleted?.[1]?.DeleteMarkerVersionId
  t.ok(marker)
  t.same(res.Errors?.map(e => [e.Key, e.VersionId, e.Code]), [['a', 'not-an-id', 'InvalidArgument']], 'a malformed id is that entry\'s error')
  t.same(await versions(s), [['a', a2, 'version', true], ['b', marker, 'marker', true], ['b', b1, 'version', false]])
  const undo = await c.send(new DeleteObjectsCommand({ Bucket: 'bkt', Delete: { Objects: [{ Key: 'b', VersionId: marker }] } }))
  t.same(undo.Deleted, [{ Key: 'b', VersionId: marker, DeleteMarker: true, DeleteMarkerVersionId: marker }], 'a marker removed by id')
  t.same(await read(c, 'b'), { body: 'b1', versionId: b1 })
})

t.test('CopyObject from a version', async t => {
  const { s, c } = await setup(t, 'Enabled')
  await c.send(new CreateBucketCommand({ Bucket: 'plain' }))
  const v1 = await put(c, 'dir/my key+1', 'old')
  await put(c, 'dir/my key+1', 'new')

  t.test('copying an old version onto its own key restores it as a new version', async t => {
    const copy = await c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'dir/my key+1', CopySource: `bkt/${encodeURIComponent('dir/my key+1')}?versionId=${v1!}` }))
    t.equal(copy.CopySourceVersionId, v1)
    t.ok(copy.VersionId !== undefined && copy.VersionId !== v1, 'a new version')
    t.same(await read(c, 'dir/my key+1'), { body: 'old', versionId: copy.VersionId })
    t.equal((await versions(s)).length, 3)
  })

  t.test('into a bucket never versioned there is no version id; into a Suspended one it is null', async t => {
    const plain = await c.send(new CopyObjectCommand({ Bucket: 'plain', Key: 'k', CopySource: `/bkt/dir/my%20key%2B1?versionId=${v1!}` }))
    t.equal(plain.VersionId, undefined)
    t.equal(plain.CopySourceVersionId, v1)
    await c.send(new CreateBucketCommand({ Bucket: 'paused' }))
    await versioning(c, 'paused', 'Suspended')
    const paused = await c.send(new CopyObjectCommand({ Bucket: 'paused', Key: 'k', CopySource: `bkt/dir/my%20key%2B1?versionId=${v1!}` }))
    t.equal(paused.VersionId, 'null')
  })

  t.test('a marker\'s id, an unknown id and a malformed one are refused', async t => {
    const marker = (await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'gone' }))).VersionId!
    await rejects(t, c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'x', CopySource: `bkt/gone?versionId=${marker}` })), 'InvalidRequest', 400)
    await rejects(t, c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'x', CopySource: 'bkt/gone' })), 'NoSuchKey', 404, 'the current version is a marker')
    await rejects(t, c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'x', CopySource: `bkt/dir/my%20key%2B1?versionId=${otherId(v1!)}` })), 'NoSuchVersion', 404)
    await rejects(t, c.send(new CopyObjectCommand({ Bucket: 'bkt', Key: 'x', CopySource: 'bkt/dir/my%20key%2B1?versionId=zzz' })), 'InvalidArgument', 400)
  })
})

t.test('UploadPartCopy from a version', async t => {
  const { c } = await setup(t, 'Enabled')
  const v1 = await put(c, 'src', 'first version')
  await put(c, 'src', 'second version')
  const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: 'bkt', Key: 'dst' }))
  const part = await c.send(new UploadPartCopyCommand({ Bucket: 'bkt', Key: 'dst', UploadId, PartNumber: 1, CopySource: `bkt/src?versionId=${v1!}` }))
  t.equal(part.CopySourceVersionId, v1)
  await rejects(t, c.send(new UploadPartCopyCommand({ Bucket: 'bkt', Key: 'dst', UploadId, PartNumber: 2, CopySource: `bkt/src?versionId=${otherId(v1!)}` })),
    'NoSuchVersion', 404)
  const done = await c.send(new CompleteMultipartUploadCommand({
    Bucket: 'bkt', Key: 'dst', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult!.ETag }] }
  }))
  t.ok(done.VersionId, 'CompleteMultipartUpload reports the version it wrote')
  t.same(await read(c, 'dst'), { body: 'first version', versionId: done.VersionId })
})

/** A well-formed id this store never issued: another random tail on the same order, or another order. */
function otherId (id: string, at: 'tail' | 'order' = 'tail'): string {
  if (at === 'order') return (id.startsWith('0') ? '1' : '0') + id.slice(1)
  return id.slice(0, -1) + (id.endsWith('A') ? 'B' : 'A')
}

t.test('ListObjectVersions', async t => {
  const { s, c } = await setup(t, 'Enabled')
  for (const key of ['a', 'a', 'a', 'b/1', 'b/2', 'c d+e']) await put(c, key, key)
  await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'a' }))
  const all = await versions(s)
  t.equal(all.length, 7)

  t.test('pages of every size, by key and version id marker, give the whole list once', async t => {
    for (const size of [1, 2, 3, 6]) {
      const seen: string[] = []
      let markers: { KeyMarker?: string, VersionIdMarker?: string } = {}
      for (;;) {
        const page = await c.send(new ListObjectVersionsCommand({ Bucket: 'bkt', MaxKeys: size, ...markers }))
        const entries = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
        t.ok(entries.length <= size, `page of ${size}: no more than asked`)
        seen.push(...entries.map(v => v.VersionId!))
        if (page.IsTruncated !== true) break
        markers = { KeyMarker: page.NextKeyMarker!, VersionIdMarker: page.NextVersionIdMarker! }
      }
      t.same(seen.sort(), all.map(v => v[1]).sort(), `pages of ${size}`)
    }
  })

  t.test('a key marker alone resumes after every version of that key', async t => {
    const page = await c.send(new ListObjectVersionsCommand({ Bucket: 'bkt', KeyMarker: 'a' }))
    t.same(page.Versions?.map(v => v.Key), ['b/1', 'b/2', 'c d+e'])
    t.equal(page.DeleteMarkers, undefined)
  })

  t.test('a delimiter rolls keys up into common prefixes', async t => {
    const page = await c.send(new ListObjectVersionsCommand({ Bucket: 'bkt', Delimiter: '/' }))
    t.same(page.CommonPrefixes?.map(p => p.Prefix), ['b/'])
    t.same(page.Versions?.map(v => v.Key), ['a', 'a', 'a', 'c d+e'])
    t.same(page.DeleteMarkers?.map(v => v.Key), ['a'])
    const under = await c.send(new ListObjectVersionsCommand({ Bucket: 'bkt', Prefix: 'b/' }))
    t.same(under.Versions?.map(v => [v.Key, v.IsLatest, v.Size, v.StorageClass]), [['b/1', true, 3, 'STANDARD'], ['b/2', true, 3, 'STANDARD']])
  })

  t.test('encoding-type=url encodes keys, which this SDK leaves encoded', async t => {
    const page = await c.send(new ListObjectVersionsCommand({ Bucket: 'bkt', EncodingType: 'url', Prefix: 'c d', KeyMarker: 'b/2' }))
    t.equal(page.EncodingType, 'url')
    t.equal(page.Prefix, 'c+d')
    t.equal(page.KeyMarker, 'b/2')
    t.same(page.Versions?.map(v => v.Key), ['c+d%2Be'])
  })

  t.test('a version id marker without a key marker, and a bad max-keys, are InvalidArgument', async t => {
    await rejects(t, c.send(new ListObjectVersionsCommand({ Bucket: 'bkt', VersionIdMarker: all[0]![1] })), 'InvalidArgument', 400)
    await rejects(t, c.send(new ListObjectVersionsCommand({ Bucket: 'bkt', MaxKeys: -1 })), 'InvalidArgument', 400)
    await rejects(t, c.send(new ListObjectVersionsCommand({ Bucket: 'missing' })), 'NoSuchBucket', 404)
  })
})

t.test('a versioned bucket is not empty while any version or marker is left', async t => {
  const { s, c } = await setup(t, 'Enabled')
  await put(c, 'k', 'one')
  await c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k' }))
  t.equal((await c.send(new ListObjectsV2Command({ Bucket: 'bkt' }))).KeyCount, 0, 'nothing current')
  await rejects(t, c.send(new DeleteBucketCommand({ Bucket: 'bkt' })), 'BucketNotEmpty', 409)
  const left = await versions(s)
  await c.send(new DeleteObjectsCommand({ Bucket: 'bkt', Delete: { Objects: left.map(([Key, VersionId]) => ({ Key, VersionId })) } }))
  await c.send(new DeleteBucketCommand({ Bucket: 'bkt' }))
})

t.test('malformed, empty and unknown version ids', async t => {
  const { c } = await setup(t, 'Enabled')
  const v1 = await put(c, 'k', 'one')
  for (const [id, name, status] of [['nope', 'InvalidArgument', 400], ['', 'InvalidArgument', 400], [otherId(v1!), 'NoSuchVersion', 404],
    [otherId(v1!, 'order'), 'NoSuchVersion', 404]] as const) {
    await rejects(t, c.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: id })), name, status, `GET ${JSON.stringify(id)}`)
    await rejects(t, c.send(new HeadObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: id })), null, status, `HEAD ${JSON.stringify(id)}`)
  }
  await rejects(t, c.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'k', VersionId: 'nope' })), 'InvalidArgument', 400, 'DELETE')
  t.same(await read(c, 'k'), { body: 'one', versionId: v1 }, 'nothing was deleted')
})

t.test('scoped keys and versions', async t => {
  const { s, c } = await setup(t, 'Enabled')
  const v1 = await put(c, 'p/k', 'one')
  await put(c, 'p/k', 'two')
  await put(c, 'q/k', 'other')

  t.test('a read-only key reads a noncurrent version but cannot delete one or change versioning', async t => {
    const reader = (await s.keyed([{ bucket: 'bkt', permission: 'read' }])).client
    const old = await reader.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'p/k', VersionId: v1 }))
    t.equal(await old.Body!.transformToString(), 'one')
    t.equal((await reader.send(new GetBucketVersioningCommand({ Bucket: 'bkt' }))).Status, 'Enabled')
    await rejects(t, reader.send(new DeleteObjectCommand({ Bucket: 'bkt', Key: 'p/k', VersionId: v1 })), 'AccessDenied', 403)
    await rejects(t, reader.send(new PutBucketVersioningCommand({ Bucket: 'bkt', VersioningConfiguration: { Status: 'Suspended' } })), 'AccessDenied', 403)
    const many = await reader.send(new DeleteObjectsCommand({ Bucket: 'bkt', Delete: { Objects: [{ Key: 'p/k', VersionId: v1 }] } }))
    t.same(many.Errors?.map(e => [e.Key, e.VersionId, e.Code]), [['p/k', v1, 'AccessDenied']])
    t.same(await read(c, 'p/k', v1), { body: 'one', versionId: v1 }, 'still there')
    t.equal((await c.send(new GetBucketVersioningCommand({ Bucket: 'bkt' }))).Status, 'Enabled', 'still Enabled')
  })

  t.test('a prefix-scoped key\'s ListObjectVersions is clipped to its prefix', async t => {
    const scoped = (await s.keyed([{ bucket: 'bkt', permission: 'readwrite', prefix: 'p/' }])).client
    const page = await scoped.send(new ListObjectVersionsCommand({ Bucket: 'bkt' }))
    t.same(page.Versions?.map(v => v.Key), ['p/k', 'p/k'])
    await rejects(t, scoped.send(new ListObjectVersionsCommand({ Bucket: 'bkt', Prefix: 'q/' })), 'AccessDenied', 403)
  })
})

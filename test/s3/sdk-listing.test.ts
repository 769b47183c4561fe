import t from 'tap'
import { CreateBucketCommand, ListObjectsCommand, ListObjectsV2Command, paginateListObjectsV2, PutObjectCommand } from '@aws-sdk/client-s3'
import { serve } from './helpers.js'
import { rejects, watch } from './sdk-helpers.js'

const byBytes = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

t.test('paginateListObjectsV2 walks 2500 keys', async t => {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'many' }))
  const keys = Array.from({ length: 2500 }, (_, i) => `k/${String(i).padStart(5, '0')}`)
  // Through the engine: 2500 HTTP puts would only test the same path 2500 times.
  for (const key of keys) await s.box.putObject('many', key, 'x')

  t.test('in pages of 1000 (the default cap)', async t => {
    const pages = []
    for await (const page of paginateListObjectsV2({ client: c }, { Bucket: 'many' })) pages.push(page)
    t.same(pages.map(p => p.KeyCount), [1000, 1000, 500])
    t.same(pages.map(p => p.IsTruncated), [true, true, false])
    t.ok(pages[0]?.NextContinuationToken)
    t.equal(pages[2]?.NextContinuationToken, undefined)
    t.same(pages.flatMap(p => p.Contents?.map(o => o.Key)), keys)
    t.equal(pages[0]?.Contents?.[0]?.Size, 1)
    t.equal(pages[0]?.Contents?.[0]?.ETag, '"9dd4e461268c8034f5c8564e155c67a6"')
    t.equal(pages[0]?.Contents?.[0]?.StorageClass, 'STANDARD')
  })

  t.test('a MaxKeys above 1000 is capped at 1000', async t => {
    const page = await c.send(new ListObjectsV2Command({ Bucket: 'many', MaxKeys: 5000 }))
    t.equal(page.KeyCount, 1000)
    t.equal(page.MaxKeys, 1000)
  })

  t.test('in pages of 7 under a prefix, every key once and in order', async t => {
    const seen: string[] = []
    let pages = 0
    for await (const page of paginateListObjectsV2({ client: c, pageSize: 7 }, { Bucket: 'many', Prefix: 'k/001' })) {
      pages++
      t.ok((page.KeyCount ?? 0) <= 7)
      seen.push(...(page.Contents ?? []).map(o => o.Key!))
    }
    const expected = keys.filter(k => k.startsWith('k/001'))
    t.same(seen, expected)
    t.equal(pages, Math.ceil(expected.length / 7))
  })
})

t.test('ListObjectsV2 with a delimiter', async t => {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'tree' }))
  for (const key of ['a/1', 'a/2', 'a/b/3', 'b/1', 'c', 'd/', 'd/x', 'e']) await s.box.putObject('tree', key, 'x')

  t.test('rolls keys below the delimiter up into CommonPrefixes', async t => {
    const out = await c.send(new ListObjectsV2Command({ Bucket: 'tree', Delimiter: '/' }))
    t.same(out.Contents?.map(o => o.Key), ['c', 'e'])
    t.same(out.CommonPrefixes?.map(p => p.Prefix), ['a/', 'b/', 'd/'])
    t.equal(out.KeyCount, 5, 'KeyCount counts prefixes too')
    t.equal(out.Delimiter, '/')
  })

  t.test('within a prefix', async t => {
    const out = await c.send(new ListObjectsV2Command({ Bucket: 'tree', Delimiter: '/', Prefix: 'a/' }))
    t.same(out.Contents?.map(o => o.Key), ['a/1', 'a/2'])
    t.same(out.CommonPrefixes?.map(p => p.Prefix), ['a/b/'])
    t.equal(out.Prefix, 'a/')
  })

  t.test('paged one entry at a time, a common prefix is not repeated', async t => {
    const entries: string[] = []
    for await (const page of paginateListObjectsV2({ client: c, pageSize: 1 }, { Bucket: 'tree', Delimiter: '/' })) {
      entries.push(...(page.Contents ?? []).map(o => o.Key!), ...(page.CommonPrefixes ?? []).map(p => p.Prefix!))
    }
    t.same(entries, ['a/', 'b/', 'c', 'd/', 'e'])
  })

  t.test('StartAfter skips keys up to and including it', async t => {
    const out = await c.send(new ListObjectsV2Command({ Bucket: 'tree', StartAfter: 'b/1' }))
    t.same(out.Contents?.map(o => o.Key), ['c', 'd/', 'd/x', 'e'])
    t.equal(out.StartAfter, 'b/1')
    const rolled = await c.send(new ListObjectsV2Command({ Bucket: 'tree', StartAfter: 'a/', Delimiter: '/' }))
    t.same(rolled.CommonPrefixes?.map(p => p.Prefix), ['b/', 'd/'], 'a prefix equal to StartAfter is not listed again')
  })

  t.test('FetchOwner adds each object\'s owner, which is otherwise left out', async t => {
    const plain = await c.send(new ListObjectsV2Command({ Bucket: 'tree', MaxKeys: 1 }))
    t.equal(plain.Contents?.[0]?.Owner, undefined)
    const owned = await c.send(new ListObjectsV2Command({ Bucket: 'tree', MaxKeys: 1, FetchOwner: true }))
    t.ok(owned.Contents?.[0]?.Owner?.ID)
  })

  t.test('an empty result, and a missing bucket', async t => {
    const out = await c.send(new ListObjectsV2Command({ Bucket: 'tree', Prefix: 'zzz' }))
    t.equal(out.KeyCount, 0)
    t.equal(out.Contents, undefined)
    t.equal(out.IsTruncated, false)
    await rejects(t, c.send(new ListObjectsV2Command({ Bucket: 'missing' })), 'NoSuchBucket', 404)
  })
})

// The JS SDK leaves url-encoded names as they arrive (botocore and minio-js decode them): callers
// decode, and must form-decode, since S3 itself writes a space as '+'.
const formDecode = (s: string | undefined): string | undefined => s === undefined ? undefined : decodeURIComponent(s.replaceAll('+', ' '))

t.test('EncodingType url: names the XML cannot carry come back exact once decoded', async t => {
  const s = await serve(t)
  const c = s.client()
  const seen = watch(s)
  await c.send(new CreateBucketCommand({ Bucket: 'enc' }))
  const keys = ['dir one/a b', 'dir one/x+y', 'dir one/100%', 'dir one/line\nbreak', 'dir one/cr\rtab\t', 'dir one/ü ✓', 'plus+dir/k', 'amp&lt;']
  for (const key of keys) await c.send(new PutObjectCommand({ Bucket: 'enc', Key: key, Body: 'x' }))

  t.test('ListObjectsV2 keys', async t => {
    const out = await c.send(new ListObjectsV2Command({ Bucket: 'enc', EncodingType: 'url' }))
    t.match(seen.at(-1)!.url, /encoding-type=url/)
    t.equal(out.EncodingType, 'url')
    t.same(out.Contents?.map(o => formDecode(o.Key)), [...keys].sort(byBytes))
    const raw = out.Contents?.map(o => o.Key ?? '') ?? []
    t.ok(raw.every(k => /^[A-Za-z0-9%+/._~*-]*$/.test(k)), 'nothing but URL-safe characters on the wire')
    t.ok(raw.includes('plus%2Bdir/k'), "'+' is sent as %2B, so form decoding keeps it")
  })

  t.test('ListObjectsV2 prefixes, delimiter and the echoed Prefix and StartAfter', async t => {
    const out = await c.send(new ListObjectsV2Command({ Bucket: 'enc', EncodingType: 'url', Delimiter: '/' }))
    t.same(out.CommonPrefixes?.map(p => formDecode(p.Prefix)), ['dir one/', 'plus+dir/'])
    t.same(out.Contents?.map(o => formDecode(o.Key)), ['amp&lt;'])
    t.equal(out.Delimiter, '/')
    const within = await c.send(new ListObjectsV2Command({ Bucket: 'enc', EncodingType: 'url', Prefix: 'dir one/', StartAfter: 'dir one/a b' }))
    t.equal(formDecode(within.Prefix), 'dir one/')
    t.equal(formDecode(within.StartAfter), 'dir one/a b')
    t.same(within.Contents?.map(o => formDecode(o.Key)), keys.filter(k => k.startsWith('dir one/') && byBytes(k, 'dir one/a b') > 0).sort(byBytes))
  })

  t.test('without EncodingType, control characters come back intact as XML references', async t => {
    const out = await c.send(new ListObjectsV2Command({ Bucket: 'enc', Prefix: 'dir one/' }))
    t.same(out.Contents?.map(o => o.Key), keys.filter(k => k.startsWith('dir one/')).sort(byBytes))
  })

  t.test('ListObjects (v1) keys, prefixes and markers', async t => {
    const first = await c.send(new ListObjectsCommand({ Bucket: 'enc', EncodingType: 'url', Delimiter: '/', Prefix: 'dir one/', MaxKeys: 2 }))
    t.equal(first.EncodingType, 'url')
    t.equal(first.Prefix, 'dir one/', 'v1 alone echoes Prefix as given, as S3 does (botocore does not decode it)')
    const newline = await c.send(new ListObjectsCommand({ Bucket: 'enc', EncodingType: 'url', Prefix: 'dir one/line\n' }))
    t.equal(newline.Prefix, 'dir one/line\n', 'a newline comes back a newline, as an XML reference')
    t.same(newline.Contents?.map(o => o.Key), ['dir+one/line%0Abreak'], 'keys are still encoded')
    t.equal(first.IsTruncated, true)
    const sorted = keys.filter(k => k.startsWith('dir one/')).sort(byBytes)
    t.same(first.Contents?.map(o => formDecode(o.Key)), sorted.slice(0, 2))
    const next = formDecode(first.NextMarker)
    t.equal(next, sorted[1])
    const second = await c.send(new ListObjectsCommand({ Bucket: 'enc', EncodingType: 'url', Delimiter: '/', Prefix: 'dir one/', Marker: next }))
    t.equal(formDecode(second.Marker), sorted[1])
    t.same(second.Contents?.map(o => formDecode(o.Key)), sorted.slice(2))
  })
})

t.test('ListObjects (v1) with Marker and NextMarker', async t => {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'list-v1' }))
  const keys = ['a', 'b/1', 'b/2', 'c', 'd/1', 'e', 'f']
  for (const key of keys) await s.box.putObject('list-v1', key, 'x')

  t.test('pages by marker without a delimiter: no NextMarker, the client resumes after the last key', async t => {
    const listed: string[] = []
    let marker: string | undefined
    for (;;) {
      const page = await c.send(new ListObjectsCommand({ Bucket: 'list-v1', MaxKeys: 3, ...(marker === undefined ? {} : { Marker: marker }) }))
      listed.push(...(page.Contents ?? []).map(o => o.Key!))
      t.equal(page.NextMarker, undefined)
      t.ok(page.Contents?.[0]?.Owner?.ID, 'v1 always lists owners')
      if (page.IsTruncated !== true) break
      marker = page.Contents?.at(-1)?.Key
    }
    t.same(listed, keys)
  })

  t.test('with a delimiter, NextMarker names where to resume, prefixes included', async t => {
    const entries: string[] = []
    let marker: string | undefined
    for (;;) {
      const page = await c.send(new ListObjectsCommand({ Bucket: 'list-v1', MaxKeys: 2, Delimiter: '/', ...(marker === undefined ? {} : { Marker: marker }) }))
      entries.push(...(page.Contents ?? []).map(o => o.Key!), ...(page.CommonPrefixes ?? []).map(p => p.Prefix!))
      if (page.IsTruncated !== true) break
      t.ok(page.NextMarker, 'NextMarker when truncated')
      marker = page.NextMarker
    }
    t.same(entries.sort(byBytes), ['a', 'b/', 'c', 'd/', 'e', 'f'])
  })

  t.test('MaxKeys 0 lists nothing and is not truncated-looping', async t => {
    const page = await c.send(new ListObjectsCommand({ Bucket: 'list-v1', MaxKeys: 0 }))
    t.equal(page.Contents, undefined)
    t.equal(page.MaxKeys, 0)
  })
})

// Segment files (lib/storage/files.ts): in a store on disk, a body of a chunk or more is a file of
// its own, written once; LevelDB keeps the record. These tests hold it to what chunks promised:
// reads see one version whole, deletes give space back, a crash leaves nothing behind.
import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Level } from 'level'
import { Spacebox } from '../lib/index.js'
import { openSublevels } from '../lib/schema/keys.js'
import { readAll, tempDir } from './helpers.js'

const CHUNK = 64 * 1024

async function blobs (location: string): Promise<string[]> {
  return (await readdir(join(location, 'blobs'))).sort()
}

/** Resolves once `check` holds (segment files are unlinked just after the batch that drops them). */
async function eventually (check: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await check()) return true
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  return false
}

t.test('a body of a chunk or more is one file, read back whole or in ranges; smaller ones stay in LevelDB', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location, chunkSize: CHUNK })
  t.teardown(async () => { await box.close() })
  await box.createBucket('files')
  const big = randomBytes(5 * CHUNK + 123)
  await box.putObject('files', 'big', big)
  await box.putObject('files', 'exact', randomBytes(CHUNK))
  await box.putObject('files', 'small', randomBytes(CHUNK - 1))
  t.equal((await blobs(location)).length, 2, 'the object over a chunk and the one of exactly a chunk')
  t.ok((await readAll((await box.getObject('files', 'big')).body)).equals(big))
  for (const [start, end] of [[0, 0], [CHUNK - 5, CHUNK + 5], [3 * CHUNK + 7, 5 * CHUNK + 122], [5 * CHUNK, 5 * CHUNK + 122]] as const) {
    const { body } = await box.getObject('files', 'big', { range: { start, end } })
    t.ok((await readAll(body)).equals(big.subarray(start, end + 1)), `bytes ${start}-${end}`)
  }
  const stats = await box.stats()
  t.ok((stats.bytesOnDisk as number) >= big.length + CHUNK, 'bytes on disk count the files')
})

t.test('a delete gives the file back, but not before a read under way has ended', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location, chunkSize: CHUNK })
  t.teardown(async () => { await box.close() })
  await box.createBucket('files')
  const old = randomBytes(8 * CHUNK)
  await box.putObject('files', 'k', old)
  const [file] = await blobs(location)
  const { body } = await box.getObject('files', 'k')
  const first = await new Promise<Buffer>(resolve => body.once('data', resolve))
  body.pause()
  await box.putObject('files', 'k', 'replaced')
  await box.deleteObject('files', 'k')
  await new Promise(resolve => setTimeout(resolve, 50))
  t.same(await blobs(location), [file], 'the replaced version\'s file stays while it is read')
  const rest = await readAll(body)
  t.ok(Buffer.concat([first, rest]).equals(old), 'and the read sees that version whole')
  t.ok(await eventually(async () => (await blobs(location)).length === 0), 'then the file goes')
  t.ok(await eventually(async () => (await box.stats()).liveBytes === 0), 'and the live bytes with it')
})

t.test('copies, multipart parts and encrypted objects are files too', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location, chunkSize: CHUNK, minPartSize: CHUNK })
  t.teardown(async () => { await box.close() })
  await box.createBucket('files')
  const data = randomBytes(3 * CHUNK + 9)
  await box.putObject('files', 'source', data)
  await box.copyObject('files', 'source', 'files', 'copy')
  t.ok((await readAll((await box.getObject('files', 'copy')).body)).equals(data), 'a copy')
  const { uploadId } = await box.createMultipartUpload('files', 'mpu', { serverSideEncryption: 'AES256' })
  const p1 = await box.uploadPart('files', 'mpu', uploadId, 1, data.subarray(0, 2 * CHUNK))
  const p2 = await box.uploadPart('files', 'mpu', uploadId, 2, data.subarray(2 * CHUNK))
  await box.completeMultipartUpload('files', 'mpu', uploadId, [{ partNumber: 1, etag: p1.etag }, { partNumber: 2, etag: p2.etag }])
  t.ok((await readAll((await box.getObject('files', 'mpu')).body)).equals(data), 'an encrypted multipart object')
  t.ok((await readAll((await box.getObject('files', 'mpu', { partNumber: 2 })).body)).equals(data.subarray(2 * CHUNK)), 'its second part')
  const names = await blobs(location)
  t.equal(names.length, 4, 'source, copy, two parts')
  const needle = data.subarray(CHUNK, CHUNK + 64)
  const sealed = []
  for (const name of names) if (!(await readFile(join(location, 'blobs', name))).includes(needle)) sealed.push(name)
  t.equal(sealed.length, 2, 'the parts of the encrypted object hold no plaintext')
  // A flipped byte in a sealed file is found, as in a sealed chunk.
  const victim = join(location, 'blobs', sealed[0]!)
  const bytes = await readFile(victim)
  bytes[100] = (bytes[100] as number) ^ 1
  await writeFile(victim, bytes)
  await t.rejects(readAll((await box.getObject('files', 'mpu')).body), { code: 'InternalError' })
})

t.test('what a crash leaves is finished at open: files of unfinished writes, files of deleted segments', async t => {
  const location = await tempDir(t)
  let box = await Spacebox.open({ location, chunkSize: CHUNK })
  await box.createBucket('files')
  await box.putObject('files', 'kept', randomBytes(2 * CHUNK))
  await box.close()
  const [kept] = await blobs(location)
  // As a kill would leave them: a file still pending, and a file whose segment was marked dead.
  const raw = new Level(location)
  const sub = openSublevels(raw)
  await sub.pending.put('0'.repeat(24), String(Date.now()))
  await sub.dead.put('1'.repeat(24), '')
  await raw.close()
  await writeFile(join(location, 'blobs', '0'.repeat(24)), randomBytes(CHUNK))
  await writeFile(join(location, 'blobs', '1'.repeat(24)), randomBytes(CHUNK))
  box = await Spacebox.open({ location, chunkSize: CHUNK })
  t.teardown(async () => { await box.close() })
  t.same(await blobs(location), [kept], 'both swept, the committed object\'s file kept')
  t.equal((await readAll((await box.getObject('files', 'kept')).body)).length, 2 * CHUNK)
})

t.test('segmentFiles: false keeps every byte in LevelDB, and still reads the files already written', async t => {
  const location = await tempDir(t)
  let box = await Spacebox.open({ location, chunkSize: CHUNK })
  await box.createBucket('files')
  const data = randomBytes(3 * CHUNK)
  await box.putObject('files', 'file', data)
  await box.close()
  box = await Spacebox.open({ location, chunkSize: CHUNK, segmentFiles: false })
  t.teardown(async () => { await box.close() })
  await box.putObject('files', 'chunks', data)
  t.equal((await blobs(location)).length, 1, 'no new file')
  t.ok((await readAll((await box.getObject('files', 'file')).body)).equals(data))
  t.ok((await readAll((await box.getObject('files', 'chunks')).body)).equals(data))
  await box.deleteObject('files', 'file')
  t.ok(await eventually(async () => (await blobs(location)).length === 0), 'and deletes them')
  await t.rejects(Spacebox.open({ memory: true, segmentFiles: 'no' as never }), TypeError)
})

t.test('closing the store ends a body still reading a file, as it ends one reading chunks', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location, chunkSize: CHUNK })
  await box.createBucket('files')
  await box.putObject('files', 'big', randomBytes(16 * CHUNK))
  const { body } = await box.getObject('files', 'big')
  await new Promise(resolve => body.once('data', resolve))
  body.pause()
  const ended = new Promise<Error | undefined>(resolve => { body.once('error', resolve); body.once('close', () => { resolve(undefined) }) })
  await box.close({ timeout: 100 })
  t.match(await ended, { code: 'NotOpen' })
})

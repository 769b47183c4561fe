import t from 'tap'
import { createHash } from 'node:crypto'
import { backends, rssWatch } from './helpers.js'

const MiB = 1024 * 1024

/** `total` bytes of a repeating pattern, produced on the fly: the test holds none of it. */
async function * generate (total: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Buffer> {
  const piece = Buffer.alloc(64 * 1024)
  for (let sent = 0, n = 0; sent < total; sent += piece.length, n++) {
    piece.fill(n & 0xff)
    piece.writeUInt32BE(n)
    const out = Buffer.from(piece.subarray(0, Math.min(piece.length, total - sent)))
    hash.update(out)
    yield out
  }
}

for (const backend of backends) {
  t.test(`a 64 MiB object streams in and out with its MD5 intact (${backend.name})`, async t => {
    const box = await backend.open(t)
    await box.createBucket('big')
    const sent = createHash('md5')
    const put = await box.putObject('big', 'object', generate(64 * MiB + 123, sent))
    const md5 = sent.digest('hex')
    t.equal(put.etag, `"${md5}"`)
    const { info, body } = await box.getObject('big', 'object')
    t.equal(info.size, 64 * MiB + 123)
    const received = createHash('md5')
    for await (const piece of body) received.update(piece as Buffer)
    t.equal(received.digest('hex'), md5)
    const tail = await box.getObject('big', 'object', { range: `bytes=${32 * MiB - 10}-${33 * MiB + 10}` })
    let length = 0
    for await (const piece of tail.body) length += (piece as Buffer).length
    t.equal(length, MiB + 21, 'a range across chunks streams just its bytes')
  })
}

t.test('memory stays flat while 256 MiB streams in and out of a disk store', async t => {
  const disk = backends.find(b => b.name === 'disk')!
  const box = await disk.open(t)
  await box.createBucket('big')
  const memory = rssWatch()
  const sent = createHash('md5')
  const source = generate(256 * MiB, sent)
  await box.putObject('big', 'object', (async function * () { for await (const piece of source) { memory.sample(); yield piece } })())
  const received = createHash('md5')
  const { body } = await box.getObject('big', 'object')
  for await (const piece of body) {
    received.update(piece as Buffer)
    memory.sample()
  }
  t.equal(received.digest('hex'), sent.digest('hex'))
  const growth = memory.growthMiB()
  t.ok(growth < 64, `RSS grew ${growth.toFixed(1)} MiB while 256 MiB went through`)
})

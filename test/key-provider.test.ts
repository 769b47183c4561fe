import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile, rm, stat, writeFile } from 'node:fs/promises'
import { Spacebox, SpaceboxError, LocalKeyProvider, type KeyProvider } from '../lib/index.js'
import { tempDir } from './helpers.js'

t.test('an on-disk store makes its master key file beside the data, mode 0600, and needs it back', async t => {
  const location = await tempDir(t)
  const box = await Spacebox.open({ location })
  t.match(box.stats(), { generateDataKey: 1, decrypt: 0 }, 'one provider call makes the keyring')
  const { secretAccessKey, accessKeyId } = await box.keys.create({ name: 'k', grants: [] })
  await box.close()
  const file = JSON.parse(await readFile(`${location}.key`, 'utf8')) as { current: string, keys: Record<string, string> }
  t.equal(file.current, 'local-1')
  t.equal(Buffer.from(file.keys['local-1'] as string, 'base64').length, 32)
  t.equal((await stat(`${location}.key`)).mode & 0o777, 0o600)

  const again = await Spacebox.open({ location })
  t.match(again.stats(), { generateDataKey: 0, decrypt: 1 }, 'reopening unwraps the keyring once')
  t.doesNotThrow(() => again.withCredentials({ accessKeyId, secretAccessKey }), 'secrets still open')
  await again.close()

  await t.rejects(Spacebox.open({ location, masterKey: randomBytes(32) }), { code: 'InvalidMasterKey' }, 'a wrong key fails at open, not later')
  await rm(`${location}.key`)
  await t.rejects(Spacebox.open({ location }), { code: 'InvalidMasterKey' }, 'a missing key file fails at open')
  await t.rejects(readFile(`${location}.key`), { code: 'ENOENT' }, 'and no new key is quietly made in its place')
})

t.test('a master key file of any other shape is refused with InvalidMasterKey, never a TypeError', async t => {
  const location = await tempDir(t)
  await (await Spacebox.open({ location })).close()
  const good = JSON.parse(await readFile(`${location}.key`, 'utf8')) as { current: string, keys: Record<string, string> }
  const key = good.keys['local-1'] as string
  const shapes: Array<[string, string]> = [
    ['null', 'null'],
    ['a number', '42'],
    ['a string', JSON.stringify(key)],
    ['an array', JSON.stringify([good])],
    ['an empty object', '{}'],
    ['no keys', JSON.stringify({ current: 'local-1' })],
    ['no current', JSON.stringify({ keys: good.keys })],
    ['keys null', JSON.stringify({ current: 'local-1', keys: null })],
    ['keys an array', JSON.stringify({ current: 'local-1', keys: [key] })],
    ['current not a string', JSON.stringify({ current: 1, keys: good.keys })],
    ['current naming no key', JSON.stringify({ current: 'local-2', keys: good.keys })],
    ['current inherited, not a key', JSON.stringify({ current: 'toString', keys: good.keys })],
    ['a key that is not a string', JSON.stringify({ current: 'local-1', keys: { 'local-1': 7 } })],
    ['a key that is null', JSON.stringify({ current: 'local-1', keys: { 'local-1': null } })],
    ['a key of 16 bytes in base64', JSON.stringify({ current: 'local-1', keys: { 'local-1': randomBytes(16).toString('base64') } })],
    ['a key of 31 bytes in hex', JSON.stringify({ current: 'local-1', keys: { 'local-1': randomBytes(31).toString('hex') } })],
    ['a key that is no encoding at all', JSON.stringify({ current: 'local-1', keys: { 'local-1': 'not a key' } })],
    ['an empty key id', JSON.stringify({ current: '', keys: { '': key } })],
    ['a key id of 256 characters', JSON.stringify({ current: 'x'.repeat(256), keys: { ['x'.repeat(256)]: key } })],
    ['a broken key beside the current one', JSON.stringify({ current: 'local-1', keys: { 'local-1': key, old: 'short' } })],
    ['not JSON', '{"current": '],
    ['empty', '']
  ]
  for (const [label, text] of shapes) {
    await writeFile(`${location}.key`, text)
    const err = await Spacebox.open({ location }).then(async box => { await box.close() }, (err: unknown) => err)
    t.ok(err instanceof SpaceboxError, `${label}: a SpaceboxError`)
    t.equal((err as SpaceboxError).code, 'InvalidMasterKey', label)
    t.notOk(String((err as Error).message).includes(key), `${label}: the message holds no key`)
  }
  await writeFile(`${location}.key`, JSON.stringify(good))
  await t.resolves((await Spacebox.open({ location })).close(), 'the right file opens the store again')
})

t.test('the master key can come from the option, in any form, or the environment', async t => {
  const key = randomBytes(32)
  for (const form of [key, key.toString('hex'), key.toString('base64')]) {
    const location = await tempDir(t)
    await (await Spacebox.open({ location, masterKey: form })).close()
    await t.rejects(readFile(`${location}.key`), { code: 'ENOENT' }, 'no key file when a key is given')
    await t.resolves((await Spacebox.open({ location, masterKey: key })).close())
  }
  await t.rejects(Spacebox.open({ memory: true, masterKey: randomBytes(16) }), RangeError)
  await t.rejects(Spacebox.open({ memory: true, masterKey: 'not a key' }), RangeError)

  const location = await tempDir(t)
  const previous = process.env.SPACEBOX_MASTER_KEY
  t.teardown(() => { if (previous === undefined) delete process.env.SPACEBOX_MASTER_KEY; else process.env.SPACEBOX_MASTER_KEY = previous })
  process.env.SPACEBOX_MASTER_KEY = key.toString('base64')
  await (await Spacebox.open({ location })).close()
  await t.rejects(readFile(`${location}.key`), { code: 'ENOENT' })
  delete process.env.SPACEBOX_MASTER_KEY
  await t.rejects(Spacebox.open({ location }), { code: 'InvalidMasterKey' })
  await t.resolves((await Spacebox.open({ location, masterKey: key })).close())
})

t.test('LocalKeyProvider binds wrapped keys to their context and master key id', async t => {
  const old = randomBytes(32)
  const provider = new LocalKeyProvider({ old, current: randomBytes(32) })
  t.equal(provider.currentMasterKeyId, 'current')
  const dataKey = await provider.generateDataKey({ bucket: 'a' })
  t.equal(dataKey.masterKeyId, 'current')
  t.equal(dataKey.plaintext.length, 32)
  t.same(await provider.decrypt(dataKey.wrapped, { bucket: 'a' }), dataKey.plaintext)
  await t.rejects(provider.decrypt(dataKey.wrapped, { bucket: 'b' }), { code: 'InternalError' }, 'another context cannot unwrap it')
  const underOld = await provider.generateDataKey({ bucket: 'a' }, 'old')
  t.same(await new LocalKeyProvider({ old }).decrypt(underOld.wrapped, { bucket: 'a' }), underOld.plaintext, 'the id in the wrapping picks the master key')
  await t.rejects(new LocalKeyProvider({ other: randomBytes(32) }).decrypt(underOld.wrapped, { bucket: 'a' }), { code: 'InvalidMasterKey' })
  const tampered = Buffer.from(dataKey.wrapped)
  tampered[tampered.length - 1] = (tampered[tampered.length - 1] as number) ^ 1
  await t.rejects(provider.decrypt(tampered, { bucket: 'a' }), { code: 'InternalError' })
  await t.rejects(provider.decrypt(Buffer.from([9, 9]), { bucket: 'a' }), { code: 'InternalError' })
  await t.rejects(provider.generateDataKey({}, 'missing'), { code: 'InvalidMasterKey' })
  t.throws(() => new LocalKeyProvider({ short: randomBytes(16) }), RangeError)
  t.throws(() => new LocalKeyProvider({ a: randomBytes(32) }, 'b'), RangeError)
})

t.test('a plugged-in provider is called, and counted, for the keyring', async t => {
  const inner = new LocalKeyProvider({ kms: randomBytes(32) })
  const calls: string[] = []
  const provider: KeyProvider = {
    generateDataKey: async (context, id) => { calls.push('generate'); return await inner.generateDataKey(context, id) },
    decrypt: async (wrapped, context) => { calls.push('decrypt'); return await inner.decrypt(wrapped, context) }
  }
  const location = await tempDir(t)
  await (await Spacebox.open({ location, keyProvider: provider })).close()
  const box = await Spacebox.open({ location, keyProvider: provider })
  t.same(calls, ['generate', 'decrypt'])
  t.match(box.stats(), { generateDataKey: 0, decrypt: 1 })
  await box.close()
})

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readFile, rm, stat } from 'node:fs/promises'
import { Spacebox, LocalKeyProvider, type KeyProvider } from '../lib/index.js'
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

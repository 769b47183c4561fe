import t from 'tap'
import { chmod, mkdir, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Spacebox } from '../lib/index.js'
import { tempDir } from './helpers.js'

// Modes are read with stat: the tests run as root in CI, where reading as another user proves nothing.
const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

t.test('a new on-disk store is created mode 0700, parents included, and its key file 0600', async t => {
  const root = await tempDir(t)
  await chmod(root, 0o755)
  const location = join(root, 'deep', 'store')
  const box = await Spacebox.open({ location })
  await box.createBucket('private')
  await box.putObject('private', 'secret.txt', 'unencrypted bytes in the LevelDB log')
  await box.close()
  t.equal(await modeOf(location), 0o700, 'the store directory is the owner\'s alone')
  t.equal(await modeOf(join(root, 'deep')), 0o700, 'so is a parent spacebox created')
  t.equal(await modeOf(`${location}.key`), 0o600, 'the master key file beside it is the owner\'s alone')
  t.equal(await modeOf(root), 0o755, 'a parent that existed keeps its mode')
})

t.test('an empty directory is made 0700 when a store is created in it', async t => {
  const location = join(await tempDir(t), 'store')
  await mkdir(location)
  await chmod(location, 0o755)
  await (await Spacebox.open({ location })).close()
  t.equal(await modeOf(location), 0o700)
})

t.test('a directory that already holds something keeps its mode: that is the owner\'s call', async t => {
  const location = join(await tempDir(t), 'store')
  await (await Spacebox.open({ location })).close()
  await chmod(location, 0o750)
  await (await Spacebox.open({ location })).close()
  t.equal(await modeOf(location), 0o750, 'an existing store is not changed behind its owner\'s back')

  const shared = join(await tempDir(t), 'shared')
  await mkdir(shared)
  await writeFile(join(shared, 'README'), 'not a store')
  await chmod(shared, 0o775)
  await (await Spacebox.open({ location: shared })).close()
  t.equal(await modeOf(shared), 0o775, 'nor is a directory with other files in it')
})

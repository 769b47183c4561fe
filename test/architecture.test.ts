import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const lib = fileURLToPath(new URL('../lib/', import.meta.url))

async function sources (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await sources(path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out
}

t.test('the engine imports nothing of HTTP, XML or the S3 adapter', async t => {
  const forbidden = /from '(node:http|node:https|http|https|fast-xml-parser|[./]+\/s3\/[^']*|\.\/s3\/[^']*)'/
  for (const file of await sources(lib)) {
    const name = relative(lib, file)
    if (name.startsWith('s3/') || name.startsWith('cli/') || name.startsWith('testing/')) continue
    const imports = (await readFile(file, 'utf8')).split('\n').filter(line => /^(import|export) .* from '/.test(line))
    t.notOk(imports.some(line => forbidden.test(line)), `${name} stays out of the adapter's dependencies`)
  }
})

t.test('the adapter reaches the engine only through its public surface', async t => {
  for (const file of await sources(join(lib, 's3'))) {
    const name = relative(lib, file)
    const imports = (await readFile(file, 'utf8')).split('\n').filter(line => /^(import|export) .* from '\.\.?\//.test(line))
    const outside = imports.filter(line => {
      const from = /from '([^']+)'/.exec(line)?.[1] ?? ''
      const resolved = relative(lib, join(dirname(file), from))
      return !resolved.startsWith('s3/') && resolved !== 'index.js'
    })
    t.same(outside, [], `${name} imports the engine only from lib/index.ts`)
  }
})

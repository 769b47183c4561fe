// `npm run build`: compiles lib/ twice, side by side, from one set of sources.
// - dist/: ES modules and their declarations (tsconfig.build.json), the command included.
// - dist/cjs/: CommonJS for `require('spacebox')`, `spacebox/s3` and `spacebox/testing`
//   (tsconfig.cjs.json, without the command), with a package.json that makes Node and TypeScript
//   read its .js and .d.ts files as CommonJS.
// - dist/console/ui/: the web console's pages: their browser code compiled on its own
//   (lib/console/ui/tsconfig.json: DOM types, no Node ones, ES modules loaded as they are), and
//   their html, css and svg copied beside it.
// Then it removes outputs whose source is gone, so `npm pack` never ships a stale module.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { copyFile, mkdir, readdir, rm, rmdir, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const dist = join(root, 'dist')
const cjs = join(dist, 'cjs')
const pages = join(root, 'lib', 'console', 'ui')
const pagesOut = join(dist, 'console', 'ui')
// The console's files other than its TypeScript: served as they are.
const STATIC = /\.(html|css|svg|png)$/

/** Runs tsc on a project; resolves to its exit code and what it printed. */
function compile (project) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', project], { cwd: root })
    let output = ''
    child.stdout.on('data', d => { output += d })
    child.stderr.on('data', d => { output += d })
    child.on('error', reject)
    child.on('close', code => resolve({ code, output }))
  })
}

/** Deletes X.js, X.js.map and X.d.ts under `dir` unless `keep(X)`, X relative to `base`; then folders left empty. */
async function prune (base, dir, keep, skip) {
  let empty = true
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (path === skip) {
      empty = false
    } else if (entry.isDirectory()) {
      if (!await prune(base, path, keep, skip)) empty = false
    } else {
      const output = /^(.*)(\.js|\.js\.map|\.d\.ts)$/.exec(entry.name)
      const name = output === null ? undefined : relative(base, join(dir, output[1])).split(sep).join('/')
      if (name !== undefined && !keep(name)) await rm(path)
      else empty = false
    }
  }
  if (empty && dir !== base) await rmdir(dir)
  return empty
}

// The compilers at once: they are single-threaded, and none waits on anything of another.
const [esm, commonjs, ui] = await Promise.all([compile('tsconfig.build.json'), compile('tsconfig.cjs.json'), compile('lib/console/ui/tsconfig.json')])
process.stdout.write(esm.output)
// The CommonJS build reads the same sources: its errors are worth showing only if they are new.
if (esm.code === 0 || commonjs.output !== esm.output) process.stdout.write(commonjs.output)
process.stdout.write(ui.output)
if (esm.code !== 0 || commonjs.code !== 0 || ui.code !== 0) process.exit(1)

// The pages' static files, and none whose source is gone. (The prune below keeps the pages'
// compiled .js: each has its lib/console/ui/*.ts, as every module of dist/ has its source.)
await mkdir(pagesOut, { recursive: true })
const statics = (await readdir(pages)).filter(name => STATIC.test(name))
for (const name of statics) await copyFile(join(pages, name), join(pagesOut, name))
for (const name of await readdir(pagesOut)) if (STATIC.test(name) && !statics.includes(name)) await rm(join(pagesOut, name))

await writeFile(join(cjs, 'package.json'), '{ "type": "commonjs" }\n')
const source = name => existsSync(join(root, 'lib', `${name}.ts`))
await prune(dist, dist, source, cjs)
await prune(cjs, cjs, name => !name.startsWith('cli/') && !name.startsWith('console/') && source(name))

// spacebox as a user installs it: the packed tarball in a project of its own, driven by jest
// (CommonJS, no flag), vitest (ESM), mocha (CommonJS), node:test (ESM), tsc under three module
// resolutions, and the command through npx. The runners come from this repository's
// devDependencies; the project installs only the tarball and the AWS SDK (from npm's cache after
// `npm ci`). Run after `npm run build` (`npm test` builds first): it packs dist/ as it is.
import t from 'tap'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, posix } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const modules = join(root, 'node_modules')
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string, version: string }
const sdkVersion = (JSON.parse(await readFile(join(modules, '@aws-sdk/client-s3/package.json'), 'utf8')) as { version: string }).version

// Installs and several runners on 2 cores, beside the rest of the suite.
t.setTimeout(300_000)

/** The environment of a user's shell: no tap loader or coverage, no npm script variables. */
const env: Record<string, string> = { NO_COLOR: '1', CI: 'true' }
for (const [name, value] of Object.entries(process.env)) {
  if (value === undefined || /^(TAP|NODE_OPTIONS$|NODE_V8_COVERAGE$|npm_|INIT_CWD$|FORCE_COLOR$)/.test(name)) continue
  env[name] = value
}

interface Ran { code: number | null, output: string, ms: number }

function run (command: string, args: string[], cwd: string): Promise<Ran> {
  const start = Date.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => { output += d.toString() })
    child.stderr.on('data', (d: Buffer) => { output += d.toString() })
    child.on('error', reject)
    child.on('close', code => resolve({ code, output, ms: Date.now() - start }))
  })
}

const npm = (args: string[], cwd: string): Promise<Ran> => run('npm', args, cwd)

/** The text of a file of examples/, which README points to. */
const example = (name: string): string => readFileSync(join(root, 'examples', name), 'utf8')

/** At most two commands at a time: one per core. */
let running = 0
const waiting: Array<() => void> = []
async function limited (task: () => Promise<Ran>): Promise<Ran> {
  if (running >= 2) await new Promise<void>(resolve => waiting.push(resolve))
  running++
  try {
    return await task()
  } finally {
    running--
    waiting.shift()?.()
  }
}

// One TypeScript file for every resolution: all three entry points, their types real (not `any`).
// The declarations themselves are checked (no skipLibCheck) under node16, from either module
// format, and node10; bundler resolves to files node16 checked.
const typescript = `import { Spacebox, isSpaceboxError, type ErrorCode } from 'spacebox'
import { createS3Server, type S3Server } from 'spacebox/s3'
import { startTestServer, type TestServer } from 'spacebox/testing'

export async function main (): Promise<string> {
  const s3: TestServer = await startTestServer({ buckets: ['uploads'] })
  const box: Spacebox = s3.box
  const server: S3Server = await createS3Server(box, { port: 0 })
  const code: ErrorCode = 'NoSuchKey'
  // @ts-expect-error the endpoint is a string: the declarations were found
  const port: number = s3.endpoint
  await server.close()
  await s3.close()
  return [code, port, isSpaceboxError(new Error('x'))].join()
}
`
const tsconfig = (options: Record<string, string | boolean>, ...files: string[]): string => JSON.stringify({
  compilerOptions: {
    target: 'es2022',
    ...options,
    strict: true,
    noEmit: true,
    types: ['node'],
    typeRoots: [join(modules, '@types')]
  },
  files
}, null, 2)

const tsc = (project: string): [string, string[]] => [process.execPath, [join(modules, 'typescript/bin/tsc'), '-p', project]]

/** Each example: its files (path under the project → text), and the command that runs it there. */
const examples: Record<string, { files: Record<string, string>, command: (dir: string) => [string, string[]], pass: RegExp }> = {
  'jest, CommonJS, no flag (examples/testing-jest.test.cjs)': {
    files: { 'jest/testing-jest.test.cjs': example('testing-jest.test.cjs') },
    command: dir => [process.execPath, [join(modules, 'jest/bin/jest.js'), '--ci', '--rootDir', join(dir, 'jest')]],
    pass: /Tests:\s+2 passed, 2 total/
  },
  'vitest, ESM (examples/testing-vitest.test.mjs)': {
    files: { 'vitest/testing-vitest.test.mjs': example('testing-vitest.test.mjs') },
    command: dir => [process.execPath, [join(modules, 'vitest/vitest.mjs'), 'run', '--root', join(dir, 'vitest')]],
    pass: /Tests\s+2 passed \(2\)/
  },
  'mocha, CommonJS (examples/testing-mocha.spec.cjs)': {
    files: { 'mocha/testing-mocha.spec.cjs': example('testing-mocha.spec.cjs') },
    command: dir => [process.execPath, [join(modules, 'mocha/bin/mocha.js'), join(dir, 'mocha/testing-mocha.spec.cjs')]],
    pass: /2 passing/
  },
  'node:test, ESM (examples/testing-node-test.mjs)': {
    files: { 'node-test/testing-node-test.mjs': example('testing-node-test.mjs') },
    command: dir => [process.execPath, ['--test', '--test-reporter=tap', join(dir, 'node-test/testing-node-test.mjs')]],
    pass: /# pass 2\n/
  },
  'TypeScript, moduleResolution node16: a CommonJS file and an ES module': {
    files: {
      'ts-node16/index.ts': typescript,
      'ts-node16/index.mts': typescript,
      'ts-node16/tsconfig.json': tsconfig({ module: 'node16', moduleResolution: 'node16' }, 'index.ts', 'index.mts')
    },
    command: dir => tsc(join(dir, 'ts-node16')),
    pass: /^$/
  },
  'TypeScript, CommonJS, moduleResolution node10': {
    files: {
      'ts-node10/index.ts': typescript,
      'ts-node10/tsconfig.json': tsconfig({ module: 'commonjs', moduleResolution: 'node10' }, 'index.ts')
    },
    command: dir => tsc(join(dir, 'ts-node10')),
    pass: /^$/
  },
  'TypeScript, moduleResolution bundler': {
    files: {
      'ts-bundler/index.ts': typescript,
      'ts-bundler/tsconfig.json': tsconfig({ module: 'esnext', moduleResolution: 'bundler', skipLibCheck: true }, 'index.ts')
    },
    command: dir => tsc(join(dir, 'ts-bundler')),
    pass: /^$/
  },
  'npx spacebox help': {
    files: {},
    command: () => ['npx', ['--no-install', 'spacebox', 'help']],
    pass: /Usage:\n\s+spacebox serve/
  },
  'import loads the ES module build, require the CommonJS one, with the same names': {
    files: {
      'dual/check.mjs': `import { createRequire } from 'node:module'
const require = createRequire(import.meta.url)
const files = { spacebox: 'index.js', 'spacebox/s3': 's3/index.js', 'spacebox/testing': 'testing/index.js' }
for (const [entry, file] of Object.entries(files)) {
  if (!import.meta.resolve(entry).endsWith('/dist/' + file)) throw new Error(entry + ': import resolves ' + import.meta.resolve(entry))
  if (!require.resolve(entry).endsWith('/dist/cjs/' + file)) throw new Error(entry + ': require resolves ' + require.resolve(entry))
  const esm = Object.keys(await import(entry)).sort().join()
  const cjs = Object.keys(require(entry)).sort().join()
  if (esm !== cjs || esm === '') throw new Error(entry + ': import gives ' + esm + ', require gives ' + cjs)
  console.log(entry + ': the same names')
}
`
    },
    command: dir => [process.execPath, [join(dir, 'dual/check.mjs')]],
    pass: /spacebox\/testing: the same names/
  }
}

const work = await mkdtemp(join(tmpdir(), 'spacebox-toolchains-'))
const project = join(work, 'project')
t.teardown(() => rm(work, { recursive: true, force: true }))

let tarball: string | undefined
let skip: string | false = false

t.test('npm pack ships the two builds, the sources their maps name, and nothing else', async t => {
  t.ok(existsSync(join(root, 'dist/cjs/testing/index.js')), 'built (npm run build)')
  const packed = await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], root)
  t.equal(packed.code, 0, packed.output)
  const [info] = JSON.parse(packed.output.slice(packed.output.indexOf('['))) as Array<{ filename: string, files: Array<{ path: string }> }>
  if (info === undefined) return
  tarball = join(work, info.filename)
  const files = new Set(info.files.map(f => f.path))
  const paths = [...files]
  t.same(paths.filter(p => !/^(dist|lib)\//.test(p)).sort(), ['CHANGELOG.md', 'README.md', 'package.json'], 'at the top: the docs and package.json')
  t.same(paths.filter(p => p.startsWith('lib/') && !p.endsWith('.ts') && !/^lib\/console\/ui\/[^/]+\.(html|css|svg)$/.test(p)), [], 'lib/: TypeScript sources, and the console pages\' html, css and svg')
  t.ok(files.has('dist/console/ui/index.html') && files.has('dist/console/ui/app.js'), 'the console\'s built pages')
  t.ok(files.has('dist/cjs/package.json'), 'dist/cjs/package.json marks the CommonJS build')
  t.same(paths.filter(p => p.startsWith('dist/cjs/cli/')), [], 'the command is ESM only')
  const stale = paths.filter(p => p.startsWith('dist/') && /\.(js|d\.ts)$/.test(p) && !files.has(`lib/${p.replace(/^dist\/(cjs\/)?/, '').replace(/\.(js|d\.ts)$/, '')}.ts`))
  t.same(stale, [], 'every module in dist/ has its source in lib/ (no stale build output)')
  const unresolved: string[] = []
  let maps = 0
  for (const path of paths.filter(p => p.endsWith('.js.map'))) {
    maps++
    const map = JSON.parse(await readFile(join(root, path), 'utf8')) as { sources: string[], sourceRoot?: string }
    for (const source of map.sources) {
      const resolved = posix.join(posix.dirname(path), map.sourceRoot ?? '', source)
      if (!files.has(resolved)) unresolved.push(`${path} → ${resolved}`)
    }
  }
  t.ok(maps > 100, `${maps} source maps, for both builds`)
  t.same(unresolved, [], 'every source a map names is in the tarball')
})

t.test('the tarball installs into a project (with the AWS SDK, from npm\'s cache)', async t => {
  if (tarball === undefined) {
    skip = 'npm pack failed'
    return t.fail(skip)
  }
  await mkdir(project)
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'spacebox-toolchains', private: true }))
  const installed = await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `@aws-sdk/client-s3@${sdkVersion}`], project)
  if (installed.code !== 0 && /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH/.test(installed.output)) {
    skip = 'npm could reach neither its cache nor the registry for the tarball\'s dependencies'
    t.comment(installed.output)
    return t.plan(0, skip)
  }
  t.equal(installed.code, 0, installed.output)
  if (installed.code !== 0) skip = 'the tarball did not install'
  t.ok(existsSync(join(project, 'node_modules', pkg.name, 'dist/cjs/index.js')), `${pkg.name}@${pkg.version} installed`)
  t.comment(`npm install: ${installed.ms} ms`)
})

const started = new Map<string, Promise<Ran>>()
t.test('the examples are written and started', async t => {
  if (skip !== false) return t.plan(0, skip)
  for (const [name, example] of Object.entries(examples)) {
    for (const [file, text] of Object.entries(example.files)) {
      await mkdir(dirname(join(project, file)), { recursive: true })
      await writeFile(join(project, file), text)
    }
    const [command, args] = example.command(project)
    const ran = limited(() => run(command, args, project))
    ran.catch(() => {}) // awaited by its own test, later
    started.set(name, ran)
  }
  t.pass(`${started.size} examples`)
})

for (const [name, example] of Object.entries(examples)) {
  t.test(name, async t => {
    const ran = started.get(name)
    if (ran === undefined) return skip === false ? t.fail('not started') : t.plan(0, skip)
    const { code, output, ms } = await ran
    t.equal(code, 0, output)
    t.match(output, example.pass, 'passes')
    t.comment(`${ms} ms`)
  })
}

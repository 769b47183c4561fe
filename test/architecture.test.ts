// The layering rules, read from the source with the TypeScript compiler (so an import written over
// several lines, a type-only import, `export ... from` and `import()` all count): the engine knows
// nothing of HTTP; the adapter reaches the engine only through lib/index.ts; a request's handlers
// hold the caller's view of the store, never the store; and no module imports itself round a cycle.
import t from 'tap'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const lib = fileURLToPath(new URL('../lib/', import.meta.url))

interface Import {
  /** The module specifier as written. */
  from: string
  /** The lib/ file it resolves to (a relative import), e.g. 's3/errors.ts'. */
  file: string | undefined
  /** The names it imports ('*' for a namespace or a whole-module import). */
  names: string[]
}

async function sources (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...await sources(path))
    else if (entry.name.endsWith('.ts')) out.push(path)
  }
  return out
}

function parse (name: string, text: string): ts.SourceFile {
  return ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS)
}

function importsOf (name: string, source: ts.SourceFile): Import[] {
  const out: Import[] = []
  const add = (specifier: ts.Expression | undefined, names: string[]): void => {
    if (specifier === undefined || !ts.isStringLiteral(specifier)) return
    const from = specifier.text
    const file = from.startsWith('.') ? relative(lib, join(dirname(join(lib, name)), from)).replace(/\.js$/, '.ts') : undefined
    out.push({ from, file, names })
  }
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause
      const names: string[] = []
      if (clause?.name !== undefined) names.push('default')
      const bindings = clause?.namedBindings
      if (bindings !== undefined && ts.isNamedImports(bindings)) names.push(...bindings.elements.map(e => (e.propertyName ?? e.name).text))
      else names.push('*')
      add(node.moduleSpecifier, names)
    } else if (ts.isExportDeclaration(node)) {
      const clause = node.exportClause
      add(node.moduleSpecifier, clause !== undefined && ts.isNamedExports(clause) ? clause.elements.map(e => (e.propertyName ?? e.name).text) : ['*'])
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], ['*'])
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node.argument.literal as ts.Expression, ['*'])
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

const files = new Map<string, { source: ts.SourceFile, imports: Import[] }>()
for (const path of await sources(lib)) {
  const name = relative(lib, path)
  const source = parse(name, await readFile(path, 'utf8'))
  files.set(name, { source, imports: importsOf(name, source) })
}
const isEngine = (name: string): boolean => !name.startsWith('s3/') && !name.startsWith('cli/') && !name.startsWith('testing/') && !name.startsWith('console/')

t.test('the parser sees every kind of import', async t => {
  const source = parse('s3/x.ts', "import {\n  a,\n  type B\n} from '../store.js'\nimport type { C } from './c.js'\nexport { D } from '../d.js'\ntype E = import('../e.js').E\nawait import('node:http')\n")
  t.same(importsOf('s3/x.ts', source).map(i => [i.from, i.file, i.names]), [
    ['../store.js', 'store.ts', ['a', 'B']], ['./c.js', 's3/c.ts', ['C']], ['../d.js', 'd.ts', ['D']], ['../e.js', 'e.ts', ['*']], ['node:http', undefined, ['*']]
  ])
})

t.test('the engine imports nothing of HTTP, XML, the adapter, the CLI or the test kit', async t => {
  const forbidden = /^(node:)?https?$|^fast-xml-parser$/
  for (const [name, { imports }] of files) {
    if (!isEngine(name)) continue
    const bad = imports.filter(i => forbidden.test(i.from) || (i.file !== undefined && !isEngine(i.file)))
    t.same(bad.map(i => i.from), [], `${name} stays out of the adapter's dependencies`)
  }
})

t.test('the adapter reaches the engine only through its public surface', async t => {
  for (const [name, { imports }] of files) {
    if (!name.startsWith('s3/')) continue
    const outside = imports.filter(i => i.file !== undefined && !i.file.startsWith('s3/') && i.file !== 'index.ts')
    t.same(outside.map(i => i.from), [], `${name} imports the engine only from lib/index.ts`)
  }
})

t.test('the console reaches the engine only through its public surface, beside the S3 adapter', async t => {
  for (const [name, { imports }] of files) {
    if (!name.startsWith('console/')) continue
    const outside = imports.filter(i => i.file !== undefined && !i.file.startsWith('console/') && !i.file.startsWith('s3/') && i.file !== 'index.ts')
    t.same(outside.map(i => i.from), [], `${name} imports the engine only from lib/index.ts`)
  }
  const pages = [...files.keys()].filter(name => name.startsWith('console/ui/'))
  for (const name of pages) {
    const outside = files.get(name)?.imports.filter(i => i.file === undefined || !i.file.startsWith('console/ui/')) ?? []
    t.same(outside.map(i => i.from), [], `${name}, a page's code, imports nothing of the server`)
  }
})

t.test('a request\'s handlers hold the caller\'s view of the store, never the store', async t => {
  for (const [name, { imports }] of files) {
    if (!name.startsWith('s3/operations/')) continue
    const store = imports.filter(i => i.file === 'index.ts' && (i.names.includes('Spacebox') || i.names.includes('*')))
    t.same(store.map(i => i.from), [], `${name} does not import the store`)
  }
  const callFile = files.get('s3/call.ts')!.source
  const call = callFile.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Call')
  t.ok(call, 'call.ts declares Call')
  const typed = (call?.members ?? []).map((m): [string, string] => [m.name?.getText(callFile) ?? '', (m as ts.PropertySignature).type?.getText(callFile) ?? ''])
  t.same(typed.filter(([, type]) => /\bSpacebox\b/.test(type)), [], 'no member of Call is the store')
  t.equal(typed.find(([member]) => member === 'store')?.[1], 'Store', 'Call.store is the caller\'s view')
})

t.test('no module imports itself round a cycle, type-only imports included', async t => {
  const cycles: string[] = []
  const state = new Map<string, 'open' | 'done'>()
  const path: string[] = []
  const visit = (name: string): void => {
    state.set(name, 'open')
    path.push(name)
    for (const next of new Set(files.get(name)?.imports.map(i => i.file).filter((f): f is string => f !== undefined && files.has(f)))) {
      if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '))
      else if (state.get(next) === undefined) visit(next)
    }
    path.pop()
    state.set(name, 'done')
  }
  for (const name of files.keys()) if (state.get(name) === undefined) visit(name)
  t.same(cycles, [], 'no cycles')
})

/**
 * Access checks through a scoped view: what a bucket policy and an object's canned ACL cost a
 * request. A policy is stored text that every later request reads, compiled when stored; a decision
 * should cost a bounded, small amount per request however the policy is written.
 *
 * - GET of a 1 KiB object through a read key's view (`box.as(id, undefined, context)`) with a
 *   bucket policy near S3's 20 KB limit, against the same GET with no policy. The policy is a worst
 *   case for this request: every statement names the key (beside other keys) or `*` and covers
 *   s3:GetObject by a wildcard, so each one goes on to its resources and conditions; resources are
 *   `*`/`?` patterns that almost match the key, conditions are address lists (IpAddress,
 *   NotIpAddress), TLS (Bool) and User-Agent patterns (StringLike); none of them denies the key.
 * - An unsigned GET of a 1 KiB public-read object (`box.anonymous(context)`: its version's ACL
 *   decides), against the same GET through a fullaccess key's view.
 * - A listObjectsV2 page of 1000 through the read key's view with the same policy, against no
 *   policy: one decision a page.
 *
 * One store a scenario, on disk (classic-level) as get-small's 1 KiB cases, with the same 4096
 * objects of 1 KiB read in a shuffled order, closed and opened again after filling. Both sides read
 * that same store through the same view; what differs is set before each sample, untimed (the
 * policy put or deleted), or is the view itself. Notes give the policy's size as S3 counts it
 * (without whitespace) and its statements, and the time the policy or ACL adds to each request.
 *
 * `--only access` runs them all.
 */
import type { ScopedSpacebox, Spacebox } from '../lib/index.js'
import { shuffled } from './objects.js'
import { type Figures, type RunOptions, type Scenario, type Side, figures, interleave } from './scenario.js'
import { BUCKET, drain, keyOf, openBox, pattern, pool, storeDir } from './stores.js'

const KiB = 1024
/** As get-small's 1 KiB cases: 64 MiB counted at 16 KiB an object. */
const COUNT = 4096
const PAGE = 1000
/** S3's limit on a bucket policy, counted without the whitespace between JSON tokens. */
const MAX_POLICY_BYTES = 20 * 1024

/** What the S3 adapter would fill in for the request: an allowed office address, over TLS. */
const CONTEXT = { sourceIp: '203.0.113.77', secureTransport: true, userAgent: 'aws-sdk-js/3.700.0 ua/2.1 os/linux#6.8 lang/js md/nodejs#20.20.0 api/s3#3.700.0' }
/** The same caller from an address outside every allowed range: the policy must deny it. */
const OUTSIDE = { ...CONTEXT, sourceIp: '192.0.2.10' }

/** The office ranges the policy allows, the request's own (203.0.113.0/24) last. */
const OFFICE = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '198.18.0.0/15', '2001:db8:1::/48',
  '2001:db8:2::/48', 'fd00::/8', '198.51.100.0/25', '203.0.113.0/24']
/** Ranges a statement denies, none holding the request's address. */
const BLOCKED = ['198.51.100.128/25', '192.0.2.0/24', '233.252.0.0/24', '45.33.0.0/16', '185.220.100.0/22', '2001:db8:dead::/48',
  '2001:db8:beef::/48', '64.62.0.0/16', '91.92.240.0/22', '5.188.0.0/16', '2a0b:f4c0::/32', '103.251.167.0/24']
const BOTS = ['*curl/*', '*python-requests*', '*Go-http-client*', '*wget*', '*Scrapy*', '*bot?*', '*HeadlessChrome*']

/** Access key ids and IAM ARNs that are not the benchmarked key. */
const others = (from: number, n: number): string[] => Array.from({ length: n }, (_, j) => {
  const i = from + j
  return i % 4 === 3 ? `arn:aws:iam::1234567890${(i % 100).toString().padStart(2, '0')}:user/team-${i}` : `SBOTHERKEY${i.toString().padStart(10, '0')}`
})

type Statement = Record<string, unknown>
type Template = (i: number, key: string) => Statement

/**
 * The templates the policy cycles through, statement `i` naming `key`. Resource patterns are near
 * misses of `bench/obj/000001234`: the right bucket, a `?` for a letter or the slash, a `*` that lets a middle
 * segment (with `?`, searched by shift-and) scan the whole key, one digit too few.
 */
const TEMPLATES: Template[] = [
  (i, key) => ({
    Sid: `DenyScratchAndArchives${i}`,
    Effect: 'Deny',
    Principal: { AWS: [...others(i * 4, 3), key] },
    Action: ['s3:Delete*', 's3:Put*Acl', 's3:GetObject*', 's3:List*'],
    Resource: [
      `arn:aws:s3:::bench/*o?j/*${i % 10}?${i % 10}?x*`,
      `arn:aws:s3:::bench?obj/*-v?/*${i % 10}`,
      `arn:aws:s3:::bench/*/private-${i}/*`,
      `arn:aws:s3:::bench/obj/0000????${i % 10}.tmp`,
      'arn:aws:s3:::bench/obj/0000????',
      `arn:aws:s3:::bench/*obj/*?archive?${i}*`
    ]
  }),
  i => ({
    Sid: `DenyBlockedNetworks${i}`,
    Effect: 'Deny',
    Principal: '*',
    Action: ['s3:Get*', 's3:List*'],
    Resource: ['arn:aws:s3:::bench', 'arn:aws:s3:::bench/*'],
    Condition: { IpAddress: { 'aws:SourceIp': BLOCKED } }
  }),
  (i, key) => ({
    Sid: `AllowTeamFromOffice${i}`,
    Effect: 'Allow',
    Principal: { AWS: [key, ...others(i * 4 + 1, 4)] },
    Action: ['s3:GetObject*', 's3:List*', 's3:Put?bject'],
    Resource: ['arn:aws:s3:::bench', `arn:aws:s3:::bench/o?j/*${i % 10}*`, 'arn:aws:s3:::bench/obj/*'],
    Condition: { IpAddress: { 'aws:SourceIp': OFFICE } }
  }),
  i => ({
    Sid: `DenyCrawlers${i}`,
    Effect: 'Deny',
    Principal: '*',
    Action: ['s3:Get*', 's3:List*'],
    Resource: ['arn:aws:s3:::bench', 'arn:aws:s3:::bench/*'],
    Condition: { StringLike: { 'aws:UserAgent': BOTS } }
  })
]

/** Deny anything from outside the offices, and anything over plain HTTP: once each, first. */
const OPENING: Statement[] = [
  {
    Sid: 'DenyOutsideOffices',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: ['arn:aws:s3:::bench', 'arn:aws:s3:::bench/*'],
    Condition: { NotIpAddress: { 'aws:SourceIp': OFFICE } }
  },
  {
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: ['arn:aws:s3:::bench', 'arn:aws:s3:::bench/*'],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } }
  }
]

/** The policy document's text with `statements`: compact JSON, so its length is what S3 counts. */
const documentOf = (statements: Statement[]): string => JSON.stringify({ Version: '2012-10-17', Id: 'bench-worst-case', Statement: statements })

/** As many statements as fit under S3's limit, naming `key`. */
function policyFor (key: string): { text: string, bytes: number, statements: number } {
  const statements = [...OPENING]
  for (let i = 0; ; i++) {
    const template = TEMPLATES[i % TEMPLATES.length] as Template
    if (Buffer.byteLength(documentOf([...statements, template(i, key)])) > MAX_POLICY_BYTES) break
    statements.push(template(i, key))
  }
  const text = documentOf(statements)
  return { text, bytes: Buffer.byteLength(text), statements: statements.length }
}

/**
 * The policy most buckets that have one carry: anyone may read the objects under one prefix, and
 * nothing is served over plain HTTP. Two statements, both applying to a GET by the key.
 */
function typicalPolicy (key: string): { text: string, bytes: number, statements: number } {
  const statements: Statement[] = [
    { Sid: 'PublicAssets', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/assets/*` },
    { Sid: 'TlsOnly', Effect: 'Deny', Principal: { AWS: [key] }, Action: 's3:*', Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }
  ]
  const text = JSON.stringify({ Version: '2012-10-17', Statement: statements })
  return { text, bytes: Buffer.byteLength(text), statements: statements.length }
}

interface Population {
  box: Spacebox
  /** A key that may read the bench bucket. */
  reader: string
  /** A key with fullaccess to the store. */
  admin: string
}

/**
 * A store on disk in the scenario's directory holding COUNT objects of 1 KiB (with `acl`), closed
 * and opened again so the compaction the fill set off is over; then the two keys.
 */
async function populate (options: RunOptions, acl: 'private' | 'public-read'): Promise<Population> {
  const dir = storeDir(options.tmp, 'access')
  const value = pattern(KiB)
  let box = await openBox('classic', dir)
  try {
    await pool(COUNT, 16, async i => { await box.putObject(BUCKET, keyOf(i), value, { acl }) })
  } finally {
    await box.close()
  }
  box = await openBox('classic', dir)
  const reader = await box.keys.create({ name: 'bench-reader', grants: [{ bucket: BUCKET, permission: 'read' }] })
  const admin = await box.keys.create({ name: 'bench-admin', grants: [{ bucket: '', permission: 'fullaccess' }] })
  return { box, reader: reader.accessKeyId, admin: admin.accessKeyId }
}

/** GET of the next object in the shared shuffled order, its body read to its end. */
function getter (): (view: ScopedSpacebox) => Promise<void> {
  const order = shuffled(COUNT)
  let n = 0
  return async view => {
    const length = await drain((await view.getObject(BUCKET, keyOf(order[n++ % COUNT] as number))).body)
    if (length !== KiB) throw new Error(`read ${length} bytes, not ${KiB}`)
  }
}

/** Whether `call` is refused with AccessDenied. */
async function denied (call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call()
    return false
  } catch (err) {
    if ((err as { code?: unknown }).code === 'AccessDenied') return true
    throw err
  }
}

/** Microseconds `a` adds to each operation over `b`, from the two medians of operations per second. */
const addedMicros = (f: Figures): number => 1e6 / f.spacebox - 1e6 / f.baseline

/**
 * `op` through the reader's view with the worst-case policy (side a) and with none (side b), in
 * one store: each sample puts or deletes the policy first, untimed, then makes one op (the first
 * request after a change compiles the stored policy once).
 */
async function withPolicy (options: RunOptions, baselineName: string, op: (view: ScopedSpacebox) => () => Promise<void>,
  make: (key: string) => { text: string, bytes: number, statements: number } = policyFor): Promise<Figures> {
  const p = await populate(options, 'private')
  try {
    const policy = make(p.reader)
    const view = p.box.as(p.reader, undefined, CONTEXT)
    const run = op(view)
    // Untimed: the policy is accepted whole, lets the key in, and is really evaluated (it denies
    // the same key from outside the offices, a condition every GET therefore has to test).
    await p.box.putBucketPolicy(BUCKET, policy.text)
    await run()
    const outside = make === policyFor ? OUTSIDE : { ...CONTEXT, secureTransport: false }
    if (!(await denied(async () => { await drain((await p.box.as(p.reader, undefined, outside).getObject(BUCKET, keyOf(0))).body) }))) {
      throw new Error('the policy lets the key in where it denies it')
    }
    const a: Side = {
      op: run,
      beforeSample: async () => {
        await p.box.putBucketPolicy(BUCKET, policy.text)
        await run()
      }
    }
    const b: Side = {
      op: run,
      beforeSample: async () => {
        await p.box.deleteBucketPolicy(BUCKET)
        await run()
      }
    }
    const ops = await interleave(a, b, 1, options.pace)
    const out = figures(ops.a, ops.b, baselineName)
    return { ...out, notes: { 'policy bytes (as S3 counts)': policy.bytes, 'policy statements': policy.statements, 'µs added per request': addedMicros(out) } }
  } finally {
    await p.box.close()
  }
}

export const scenarios: Scenario[] = [
  {
    name: 'access: get 1 KiB through a key\'s view, typical bucket policy',
    unit: 'ops/s',
    quick: true,
    minRatio: 0.9,
    run: async options => {
      const get = getter()
      return await withPolicy(options, 'same GET, no policy', view => async () => { await get(view) }, typicalPolicy)
    }
  },
  {
    // A worst case, measured to show the cost is bounded: no goal, the added µs are the figure.
    name: 'access: get 1 KiB through a key\'s view, bucket policy of 20 KB',
    unit: 'ops/s',
    quick: true,
    run: async options => {
      const get = getter()
      return await withPolicy(options, 'same GET, no policy', view => async () => { await get(view) })
    }
  },
  {
    name: 'access: unsigned get 1 KiB of a public-read object',
    unit: 'ops/s',
    quick: true,
    minRatio: 0.9,
    run: async options => {
      const p = await populate(options, 'public-read')
      try {
        const anonymous = p.box.anonymous(CONTEXT)
        const admin = p.box.as(p.admin, undefined, CONTEXT)
        // Untimed: the ACL is what lets the unsigned caller in (a private object stays shut).
        await p.box.putObject(BUCKET, 'private/1', pattern(KiB))
        if (!(await denied(async () => await anonymous.getObject(BUCKET, 'private/1')))) throw new Error('a private object was served unsigned')
        const get = getter()
        const ops = await interleave({ op: async () => { await get(anonymous) } }, { op: async () => { await get(admin) } }, 1, options.pace)
        const out = figures(ops.a, ops.b, 'same GET through a fullaccess key\'s view')
        return { ...out, notes: { 'µs added per request': addedMicros(out) } }
      } finally {
        await p.box.close()
      }
    }
  },
  {
    name: `access: list page of ${PAGE} through a key's view, bucket policy of 20 KB`,
    unit: 'pages/s',
    quick: true,
    run: async options => await withPolicy(options, 'same page, no policy', view => async () => {
      const page = await view.listObjectsV2(BUCKET, { maxKeys: PAGE })
      if (page.contents.length !== PAGE) throw new Error(`listed ${page.contents.length} objects, not ${PAGE}`)
    })
  }
]

import t from 'tap'
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteBucketCorsCommand, DeleteBucketEncryptionCommand, DeleteBucketReplicationCommand, GetBucketCorsCommand, GetBucketEncryptionCommand, GetBucketReplicationCommand,
  GetBucketLocationCommand, GetBucketLoggingCommand, GetBucketVersioningCommand,
  GetObjectCommand, GetObjectLegalHoldCommand, GetPublicAccessBlockCommand, HeadBucketCommand, HeadObjectCommand,
  ListBucketsCommand, ListObjectsV2Command, PutBucketCorsCommand,
  PutBucketEncryptionCommand, PutBucketLoggingCommand, PutObjectCommand, PutObjectLegalHoldCommand, paginateListBuckets
} from '@aws-sdk/client-s3'
import { randomBytes } from 'node:crypto'
import { LocalKeyProvider } from '../../lib/index.js'
import { serve } from './helpers.js'
import { rejects, stored, watch } from './sdk-helpers.js'

t.test('CreateBucket and GetBucketLocation', async t => {
  const s = await serve(t)
  const c = s.client()

  t.test('a LocationConstraint is the bucket\'s region, reported by GetBucketLocation and HeadBucket', async t => {
    const out = await c.send(new CreateBucketCommand({ Bucket: 'in-oregon', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } }))
    t.equal(out.Location, '/in-oregon')
    t.equal((await c.send(new GetBucketLocationCommand({ Bucket: 'in-oregon' }))).LocationConstraint, 'us-west-2')
    const head = await c.send(new HeadBucketCommand({ Bucket: 'in-oregon' }))
    t.equal(head.BucketRegion, 'us-west-2')
    t.equal((await s.box.headBucket('in-oregon')).region, 'us-west-2')
  })

  t.test('a LocationConstraint that is no region of S3, or us-east-1 spelt out, is 400 InvalidLocationConstraint', async t => {
    for (const constraint of ['mars-1', 'nyc3', 'us-east-1', 'US-WEST-2', 'eu']) {
      const refused = await rejects(t, c.send(new CreateBucketCommand({ Bucket: 'nowhere', CreateBucketConfiguration: { LocationConstraint: constraint as 'us-west-2' } })), 'InvalidLocationConstraint', 400, constraint)
      t.equal(refused?.message, 'The specified location-constraint is not valid')
    }
    await rejects(t, c.send(new HeadBucketCommand({ Bucket: 'nowhere' })), 'NotFound', 404, 'nothing was created')
  })

  t.test('us-east-1 is the empty LocationConstraint', async t => {
    await c.send(new CreateBucketCommand({ Bucket: 'plain' }))
    const location = await c.send(new GetBucketLocationCommand({ Bucket: 'plain' }))
    t.notOk(location.LocationConstraint, 'empty (the SDK gives undefined or "")')
    t.equal((await c.send(new HeadBucketCommand({ Bucket: 'plain' }))).BucketRegion, 'us-east-1')
  })

  t.test('the EU alias is eu-west-1', async t => {
    await c.send(new CreateBucketCommand({ Bucket: 'in-eu', CreateBucketConfiguration: { LocationConstraint: 'EU' } }))
    t.equal((await c.send(new GetBucketLocationCommand({ Bucket: 'in-eu' }))).LocationConstraint, 'eu-west-1')
  })

  t.test('creating a bucket the caller already has: 200 in us-east-1 (S3\'s legacy answer), untouched; 409 BucketAlreadyOwnedByYou elsewhere', async t => {
    await c.send(new PutObjectCommand({ Bucket: 'plain', Key: 'kept', Body: 'x' }))
    const again = await c.send(new CreateBucketCommand({ Bucket: 'plain', ACL: 'public-read' }))
    t.equal(again.Location, '/plain')
    t.same((await c.send(new ListObjectsV2Command({ Bucket: 'plain' }))).Contents?.map(o => o.Key), ['kept'], 'its objects are still there')
    t.equal((await s.box.getBucketAcl('plain')).acl, 'private', 'and its ACL is unchanged')
    await rejects(t, c.send(new CreateBucketCommand({ Bucket: 'plain', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })), 'BucketAlreadyOwnedByYou', 409, 'asked for in another region')
    await rejects(t, c.send(new CreateBucketCommand({ Bucket: 'in-oregon', CreateBucketConfiguration: { LocationConstraint: 'us-west-2' } })), 'BucketAlreadyOwnedByYou', 409, 'a bucket of another region')
    await rejects(t, c.send(new CreateBucketCommand({ Bucket: 'in-oregon' })), 'BucketAlreadyOwnedByYou', 409, 'a bucket of another region, asked for in us-east-1')
    await t.rejects(s.box.createBucket('plain'), { code: 'BucketAlreadyOwnedByYou' }, 'the engine says so in any region')
  })

  t.test('invalid names are 400 InvalidBucketName', async t => {
    for (const name of ['ab', 'Upper', 'under_score', 'a..b', '-dash', '192.168.1.1', 'x'.repeat(64), 'xn--abc']) {
      await rejects(t, c.send(new CreateBucketCommand({ Bucket: name })), 'InvalidBucketName', 400, name)
    }
    t.same((await s.box.listBuckets()).map(b => b.name).sort(), ['in-eu', 'in-oregon', 'plain'], 'none was created')
  })

  t.test('GetBucketLocation of a missing bucket is NoSuchBucket', async t => {
    await rejects(t, c.send(new GetBucketLocationCommand({ Bucket: 'missing' })), 'NoSuchBucket', 404)
  })
})

t.test('the server\'s region is that of buckets created without a LocationConstraint', async t => {
  const s = await serve(t, { server: { region: 'ams3' } })
  const c = s.client({ region: 'ams3' })
  await c.send(new CreateBucketCommand({ Bucket: 'bkt' }))
  t.equal((await c.send(new GetBucketLocationCommand({ Bucket: 'bkt' }))).LocationConstraint, 'ams3')
  t.equal((await c.send(new HeadBucketCommand({ Bucket: 'bkt' }))).BucketRegion, 'ams3')
  await c.send(new CreateBucketCommand({ Bucket: 'named', CreateBucketConfiguration: { LocationConstraint: 'ams3' as 'us-west-2' } }))
  t.equal((await s.box.headBucket('named')).region, 'ams3', 'the server\'s own region is a valid constraint, whatever its name')
})

t.test('the spaces profile takes the regions that have Spaces', async t => {
  const s = await serve(t, { server: { region: 'nyc3', profile: 'spaces' } })
  const c = s.client({ region: 'nyc3' })
  for (const region of ['nyc3', 'fra1', 'syd1']) {
    await c.send(new CreateBucketCommand({ Bucket: `in-${region}`, CreateBucketConfiguration: { LocationConstraint: region as 'us-west-2' } }))
    t.equal((await s.box.headBucket(`in-${region}`)).region, region)
  }
  for (const region of ['eu-west-1', 'EU', 'us-east-1', 'nyc1']) {
    await rejects(t, c.send(new CreateBucketCommand({ Bucket: 'elsewhere', CreateBucketConfiguration: { LocationConstraint: region as 'us-west-2' } })), 'InvalidLocationConstraint', 400, region)
  }
})

t.test('HeadBucket, ListBuckets and DeleteBucket', async t => {
  const s = await serve(t)
  const c = s.client()
  for (const name of ['beta', 'alpha', 'gamma']) await c.send(new CreateBucketCommand({ Bucket: name }))

  t.test('HeadBucket of a missing bucket is a body-less 404 NotFound', async t => {
    await rejects(t, c.send(new HeadBucketCommand({ Bucket: 'missing' })), 'NotFound', 404)
  })

  t.test('ListBuckets lists every bucket by name, with its creation date and region, and an owner', async t => {
    const out = await c.send(new ListBucketsCommand({}))
    t.same(out.Buckets?.map(b => b.Name), ['alpha', 'beta', 'gamma'])
    for (const b of out.Buckets ?? []) {
      t.ok(b.CreationDate instanceof Date && !Number.isNaN(b.CreationDate.getTime()), `${b.Name} creation date`)
      t.equal(b.BucketRegion, 'us-east-1')
    }
    t.ok(out.Owner?.ID)
  })

  t.test('ListBuckets filters by Prefix and BucketRegion, and pages with MaxBuckets', async t => {
    await c.send(new CreateBucketCommand({ Bucket: 'gamma-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }))
    const prefixed = await c.send(new ListBucketsCommand({ Prefix: 'gam' }))
    t.same(prefixed.Buckets?.map(b => b.Name), ['gamma', 'gamma-eu'])
    t.equal(prefixed.Prefix, 'gam')
    const regional = await c.send(new ListBucketsCommand({ BucketRegion: 'eu-west-1' }))
    t.same(regional.Buckets?.map(b => b.Name), ['gamma-eu'])
    const names: string[] = []
    let pages = 0
    for await (const page of paginateListBuckets({ client: c, pageSize: 2 }, {})) {
      pages++
      names.push(...(page.Buckets ?? []).map(b => b.Name!))
    }
    t.same(names, ['alpha', 'beta', 'gamma', 'gamma-eu'])
    t.equal(pages, 2)
    await rejects(t, c.send(new ListBucketsCommand({ MaxBuckets: 0 })), 'InvalidArgument', 400)
    await c.send(new DeleteBucketCommand({ Bucket: 'gamma-eu' }))
  })

  t.test('DeleteBucket of a bucket with an object is 409 BucketNotEmpty', async t => {
    await c.send(new PutObjectCommand({ Bucket: 'beta', Key: 'k', Body: 'x' }))
    await rejects(t, c.send(new DeleteBucketCommand({ Bucket: 'beta' })), 'BucketNotEmpty', 409)
    t.ok(await s.box.headBucket('beta'), 'still there')
  })

  t.test('DeleteBucket of an empty bucket is 204, and it is gone', async t => {
    const out = await c.send(new DeleteBucketCommand({ Bucket: 'alpha' }))
    t.equal(out.$metadata.httpStatusCode, 204)
    await rejects(t, c.send(new HeadBucketCommand({ Bucket: 'alpha' })), 'NotFound', 404)
    t.same((await c.send(new ListBucketsCommand({}))).Buckets?.map(b => b.Name), ['beta', 'gamma'])
  })

  t.test('DeleteBucket of a missing bucket is 404 NoSuchBucket', async t => {
    await rejects(t, c.send(new DeleteBucketCommand({ Bucket: 'alpha' })), 'NoSuchBucket', 404)
  })

  t.test('a scoped key lists only the buckets it can reach', async t => {
    const { client } = await s.keyed([{ bucket: 'gamma', permission: 'read' }])
    t.same((await client.send(new ListBucketsCommand({}))).Buckets?.map(b => b.Name), ['gamma'])
    await rejects(t, client.send(new ListObjectsV2Command({ Bucket: 'beta' })), 'AccessDenied', 403)
    await rejects(t, client.send(new PutObjectCommand({ Bucket: 'gamma', Key: 'k', Body: 'x' })), 'AccessDenied', 403)
  })
})

t.test('bucket default encryption through the SDK', async t => {
  const keyProvider = new LocalKeyProvider({ backup: randomBytes(32), main: randomBytes(32) })
  const s = await serve(t, { open: { memory: true, keyProvider } })
  const c = s.client()
  const seen = watch(s)
  await c.send(new CreateBucketCommand({ Bucket: 'enc' }))

  t.test('without a configuration, GetBucketEncryption is 404 ServerSideEncryptionConfigurationNotFoundError', async t => {
    await rejects(t, c.send(new GetBucketEncryptionCommand({ Bucket: 'enc' })), 'ServerSideEncryptionConfigurationNotFoundError', 404)
  })

  t.test('PutBucketEncryption AES256 is returned by GetBucketEncryption and applies to new objects', async t => {
    await c.send(new PutBucketEncryptionCommand({
      Bucket: 'enc',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: true }] }
    }))
    t.ok(seen.at(-1)!.headers['x-amz-checksum-crc32'], 'the SDK sent a CRC32 with the configuration')
    const got = await c.send(new GetBucketEncryptionCommand({ Bucket: 'enc' }))
    const rule = got.ServerSideEncryptionConfiguration?.Rules?.[0]
    t.equal(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'AES256')
    t.equal(rule?.BucketKeyEnabled, true)
    const put = await c.send(new PutObjectCommand({ Bucket: 'enc', Key: 'secret', Body: Buffer.from('classified') }))
    t.equal(put.ServerSideEncryption, 'AES256')
    const head = await c.send(new HeadObjectCommand({ Bucket: 'enc', Key: 'secret' }))
    t.equal(head.ServerSideEncryption, 'AES256')
    const get = await c.send(new GetObjectCommand({ Bucket: 'enc', Key: 'secret' }))
    t.equal(get.ServerSideEncryption, 'AES256')
    t.equal(await get.Body?.transformToString(), 'classified')
  })

  t.test('aws:kms with a key id round-trips', async t => {
    await c.send(new PutBucketEncryptionCommand({
      Bucket: 'enc',
      ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'backup' } }] }
    }))
    const rule = (await c.send(new GetBucketEncryptionCommand({ Bucket: 'enc' }))).ServerSideEncryptionConfiguration?.Rules?.[0]
    t.equal(rule?.ApplyServerSideEncryptionByDefault?.SSEAlgorithm, 'aws:kms')
    t.equal(rule?.ApplyServerSideEncryptionByDefault?.KMSMasterKeyID, 'backup')
    const put = await c.send(new PutObjectCommand({ Bucket: 'enc', Key: 'kms', Body: Buffer.from('x') }))
    t.equal(put.ServerSideEncryption, 'aws:kms')
    t.equal(put.SSEKMSKeyId, 'arn:aws:kms:us-east-1:000000000000:key/backup', 'answered as the key\'s ARN, as S3 does')
  })

  t.test('a KMS key id the provider does not have is 400 KMS.NotFoundException, as S3 answers', async t => {
    await rejects(t, c.send(new PutObjectCommand({ Bucket: 'enc', Key: 'nokey', Body: Buffer.from('x'), ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'nope' })), 'KMS.NotFoundException', 400)
    t.notOk(await stored(s, 'enc', 'nokey'))
  })

  t.test('DeleteBucketEncryption is 204; later objects are stored plain', async t => {
    const out = await c.send(new DeleteBucketEncryptionCommand({ Bucket: 'enc' }))
    t.equal(out.$metadata.httpStatusCode, 204)
    await rejects(t, c.send(new GetBucketEncryptionCommand({ Bucket: 'enc' })), 'ServerSideEncryptionConfigurationNotFoundError', 404)
    const put = await c.send(new PutObjectCommand({ Bucket: 'enc', Key: 'plain', Body: Buffer.from('x') }))
    t.equal(put.ServerSideEncryption, undefined)
    const old = await c.send(new HeadObjectCommand({ Bucket: 'enc', Key: 'secret' }))
    t.equal(old.ServerSideEncryption, 'AES256', 'objects written before keep their encryption')
  })
})

t.test('bucket CORS through the SDK', async t => {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'web' }))

  t.test('without rules, GetBucketCors is 404 NoSuchCORSConfiguration', async t => {
    await rejects(t, c.send(new GetBucketCorsCommand({ Bucket: 'web' })), 'NoSuchCORSConfiguration', 404)
  })

  t.test('PutBucketCors (sent with a CRC32, no Content-MD5) is returned by GetBucketCors', async t => {
    const rules = [
      { ID: 'site', AllowedOrigins: ['https://example.com'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 600 },
      { AllowedOrigins: ['*'], AllowedMethods: ['HEAD'] }
    ]
    await c.send(new PutBucketCorsCommand({ Bucket: 'web', CORSConfiguration: { CORSRules: rules } }))
    const got = await c.send(new GetBucketCorsCommand({ Bucket: 'web' }))
    t.same(got.CORSRules, rules)
    t.equal((await s.box.getBucketCors('web')).length, 2)
  })

  t.test('an actual cross-origin request gets the matching rule\'s headers', async t => {
    await c.send(new PutObjectCommand({ Bucket: 'web', Key: 'page', Body: 'x' }))
    const seen: Array<Record<string, string>> = []
    const browser = s.client()
    browser.middlewareStack.add(next => async args => {
      (args.request as { headers: Record<string, string> }).headers.origin = 'https://example.com'
      const out = await next(args)
      seen.push((out.response as { headers: Record<string, string> }).headers)
      return out
    }, { step: 'build' })
    await browser.send(new GetObjectCommand({ Bucket: 'web', Key: 'page' }))
    t.equal(seen[0]?.['access-control-allow-origin'], 'https://example.com')
    t.match(seen[0]?.['access-control-expose-headers'], /ETag/i)
  })

  t.test('DeleteBucketCors is 204 and the rules are gone', async t => {
    const out = await c.send(new DeleteBucketCorsCommand({ Bucket: 'web' }))
    t.equal(out.$metadata.httpStatusCode, 204)
    await rejects(t, c.send(new GetBucketCorsCommand({ Bucket: 'web' })), 'NoSuchCORSConfiguration', 404)
  })
})

t.test('unimplemented subresources are 501 NotImplemented, never a wrong success', async t => {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'bkt' }))
  await c.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x' }))
  const Bucket = 'bkt'
  const commands = [
    new GetBucketLoggingCommand({ Bucket }),
    new PutBucketLoggingCommand({ Bucket, BucketLoggingStatus: {} }),
    new GetBucketReplicationCommand({ Bucket }),
    new GetPublicAccessBlockCommand({ Bucket }),
    new GetObjectLegalHoldCommand({ Bucket, Key: 'k' }),
    new PutObjectLegalHoldCommand({ Bucket, Key: 'k', LegalHold: { Status: 'ON' } }),
    new DeleteBucketReplicationCommand({ Bucket })
  ]
  for (const command of commands) {
    await rejects(t, c.send(command as Parameters<typeof c.send>[0]), 'NotImplemented', 501, command.constructor.name)
  }
  const listed = await c.send(new ListObjectsV2Command({ Bucket }))
  t.same(listed.Contents?.map(o => o.Key), ['k'], 'the object was neither deleted nor replaced')
  t.equal(await (await c.send(new GetObjectCommand({ Bucket, Key: 'k' }))).Body?.transformToString(), 'x')
})

t.test('GetBucketVersioning reports a bucket that was never versioned: no Status', async t => {
  const s = await serve(t)
  const c = s.client()
  await c.send(new CreateBucketCommand({ Bucket: 'bkt' }))
  const out = await c.send(new GetBucketVersioningCommand({ Bucket: 'bkt' }))
  t.equal(out.$metadata.httpStatusCode, 200)
  t.equal(out.Status, undefined)
  t.equal(out.MFADelete, undefined)
  await rejects(t, c.send(new GetBucketVersioningCommand({ Bucket: 'missing' })), 'NoSuchBucket', 404)
})

// boto3 as a real client: SigV2 (signature_version='s3') on bucket-level calls, whose resource
// botocore signs as /bucket/, and listings' encoding-type=url, which botocore asks for and decodes.
import t from 'tap'
import { serve } from './helpers.js'
import { python } from './python.js'

const noBoto3 = await python('import boto3', []) === undefined
  ? (process.env.CI === undefined ? 'python3 with boto3 is not installed here (apt-get install python3-boto3)' : false)
  : false

const SCRIPT = `
import json, sys, boto3
from botocore.config import Config
url, key, secret = sys.argv[1:4]
c = boto3.client('s3', endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret, region_name='us-east-1',
                 config=Config(signature_version='s3', s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
out = {}
def call(name, f):
    try:
        f()
        out[name] = 'ok'
    except Exception as e:
        out[name] = str(e)[:200]
call('CreateBucket', lambda: c.create_bucket(Bucket='made-by-boto'))
call('HeadBucket', lambda: c.head_bucket(Bucket='bkt'))
call('GetBucketLocation', lambda: c.get_bucket_location(Bucket='bkt'))
call('PutObject', lambda: c.put_object(Bucket='bkt', Key='dir/a b.txt', Body=b'x', Metadata={'color': 'blue'}))
call('ListObjects', lambda: c.list_objects(Bucket='bkt'))
call('ListObjectsV2', lambda: c.list_objects_v2(Bucket='bkt', Prefix='dir/'))
call('ListMultipartUploads', lambda: c.list_multipart_uploads(Bucket='bkt'))
call('GetBucketAcl', lambda: c.get_bucket_acl(Bucket='bkt'))
call('GetObject', lambda: c.get_object(Bucket='bkt', Key='dir/a b.txt')['Body'].read())
call('DeleteObjects', lambda: c.delete_objects(Bucket='bkt', Delete={'Objects': [{'Key': 'dir/a b.txt'}]}))
call('DeleteBucket', lambda: c.delete_bucket(Bucket='made-by-boto'))
print(json.dumps(out))
`

t.test('boto3 SigV2, path style: bucket and object calls all verify', { skip: noBoto3 }, async t => {
  const s = await serve(t)
  await s.box.createBucket('bkt')
  const out = await python(SCRIPT, [s.server.url, s.credentials.accessKeyId, s.credentials.secretAccessKey])
  if (out === undefined) {
    t.fail('python3 with boto3 is needed in CI: .ci/run installs python3-boto3')
    return
  }
  const results = JSON.parse(out) as Record<string, string>
  for (const [call, result] of Object.entries(results)) t.equal(result, 'ok', call)
  t.equal(Object.keys(results).length, 11)
  t.same((await s.box.listObjectsV2('bkt')).contents, [], 'DeleteObjects removed the object')
  t.same((await s.box.listBuckets()).map(b => b.name), ['bkt'], 'the bucket boto3 made is gone again')
})

const LISTINGS = `
import json, sys, boto3
url, key, secret, prefix = sys.argv[1:5]
c = boto3.client('s3', endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret, region_name='us-east-1')
out = {}
v2 = c.list_objects_v2(Bucket='bkt', Prefix=prefix, Delimiter='/', StartAfter=prefix)
out['v2'] = [v2['Prefix'], v2['Delimiter'], v2['StartAfter'], [o['Key'] for o in v2.get('Contents', [])], [p['Prefix'] for p in v2.get('CommonPrefixes', [])]]
v1 = c.list_objects(Bucket='bkt', Prefix=prefix, Delimiter='/', Marker=prefix)
out['v1'] = [v1['Prefix'], v1['Delimiter'], v1['Marker'], [o['Key'] for o in v1.get('Contents', [])], [p['Prefix'] for p in v1.get('CommonPrefixes', [])]]
vs = c.list_object_versions(Bucket='bkt', Prefix=prefix, Delimiter='/', KeyMarker=prefix)
out['versions'] = [vs['Prefix'], vs['Delimiter'], vs['KeyMarker'], [o['Key'] for o in vs.get('Versions', [])], [p['Prefix'] for p in vs.get('CommonPrefixes', [])]]
up = c.list_multipart_uploads(Bucket='bkt', Prefix=prefix, Delimiter='/', KeyMarker=prefix)
out['uploads'] = [up['Prefix'], up['Delimiter'], up['KeyMarker'], [o['Key'] for o in up.get('Uploads', [])], [p['Prefix'] for p in up.get('CommonPrefixes', [])]]
print(json.dumps(out))
`

t.test('boto3 decodes every name of every listing back to what was stored: newline, plus, space, percent, unicode', { skip: noBoto3 }, async t => {
  const s = await serve(t)
  await s.box.createBucket('bkt')
  const prefix = 'a\n+ %é'
  const keys = [`${prefix}1`, `${prefix}2\r\tz`, `${prefix}dir/x`]
  for (const key of keys) await s.box.putObject('bkt', key, 'x')
  for (const key of keys) await s.box.createMultipartUpload('bkt', key)
  const out = await python(LISTINGS, [s.server.url, s.credentials.accessKeyId, s.credentials.secretAccessKey, prefix])
  if (out === undefined) {
    t.fail('python3 with boto3 is needed in CI: .ci/run installs python3-boto3')
    return
  }
  const results = JSON.parse(out) as Record<string, unknown[]>
  for (const listing of ['v2', 'v1', 'versions', 'uploads']) {
    t.same(results[listing], [prefix, '/', prefix, keys.slice(0, 2), [`${prefix}dir/`]], listing)
  }
})

const METADATA = `
import json, sys, boto3
from botocore.config import Config
url, key, secret = sys.argv[1:4]
out = {}
for version in ['s3v4', 's3']:
    c = boto3.client('s3', endpoint_url=url, aws_access_key_id=key, aws_secret_access_key=secret, region_name='us-east-1',
                     config=Config(signature_version=version, s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
    try:
        c.put_object(Bucket='bkt', Key=version, Body=b'x', Metadata={'name': 'café ✓', 'plain': 'ascii'})
        out[version] = c.head_object(Bucket='bkt', Key=version)['Metadata']
    except Exception as e:
        out[version] = str(e)[:300]
print(json.dumps(out))
`

t.test('boto3 sends non-ASCII metadata as raw UTF-8 bytes: the signature verifies, the value is stored, and answered RFC 2047-encoded as S3 does', { skip: noBoto3 }, async t => {
  const s = await serve(t)
  await s.box.createBucket('bkt')
  const out = await python(METADATA, [s.server.url, s.credentials.accessKeyId, s.credentials.secretAccessKey])
  if (out === undefined) {
    t.fail('python3 with boto3 is needed in CI: .ci/run installs python3-boto3')
    return
  }
  const results = JSON.parse(out) as Record<string, unknown>
  const encoded = `=?UTF-8?B?${Buffer.from('café ✓').toString('base64')}?=`
  for (const version of ['s3v4', 's3']) {
    // Recent botocore refuses non-ASCII metadata before sending for SigV4; older ones send it.
    if (typeof results[version] === 'string' && /Non ascii characters found/.test(results[version] as string)) {
      t.pass(`${version}: this botocore refuses non-ASCII metadata itself`)
      continue
    }
    t.same(results[version], { name: encoded, plain: 'ascii' }, version)
    t.equal((await s.box.headObject('bkt', version)).metadata.name, 'café ✓', `${version}: stored as the client meant it`)
  }
})

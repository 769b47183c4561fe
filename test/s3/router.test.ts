import t from 'tap'
import { route, routeOf, type Operation } from '../../lib/s3/router.js'
import { parseQuery, type Target } from '../../lib/s3/request.js'

function target (path: 'service' | 'bucket' | 'object', query = ''): Target {
  const base = { rawPath: '/', rawQuery: query, query: parseQuery(query), virtualHosted: false, resource: '/' }
  if (path === 'service') return base
  return path === 'bucket' ? { ...base, bucket: 'bkt' } : { ...base, bucket: 'bkt', key: 'k' }
}

const COPY = { 'x-amz-copy-source': '/bkt/src' }

// Every operation the adapter serves, and one request that selects it.
const CASES: Array<[Operation, string, 'service' | 'bucket' | 'object', string, Record<string, string>?]> = [
  ['ListBuckets', 'GET', 'service', ''],
  ['GetBucketLocation', 'GET', 'bucket', 'location'],
  ['GetBucketVersioning', 'GET', 'bucket', 'versioning'],
  ['GetBucketEncryption', 'GET', 'bucket', 'encryption'],
  ['GetBucketCors', 'GET', 'bucket', 'cors'],
  ['ListObjectVersions', 'GET', 'bucket', 'versions&prefix=a'],
  ['ListMultipartUploads', 'GET', 'bucket', 'uploads&prefix=a'],
  ['ListObjectsV2', 'GET', 'bucket', 'list-type=2&prefix=a'],
  ['ListObjects', 'GET', 'bucket', 'prefix=a&x-id=ListObjects'],
  ['HeadBucket', 'HEAD', 'bucket', ''],
  ['PutBucketEncryption', 'PUT', 'bucket', 'encryption'],
  ['PutBucketCors', 'PUT', 'bucket', 'cors'],
  ['PutBucketVersioning', 'PUT', 'bucket', 'versioning'],
  ['CreateBucket', 'PUT', 'bucket', ''],
  ['DeleteBucketEncryption', 'DELETE', 'bucket', 'encryption'],
  ['DeleteBucketCors', 'DELETE', 'bucket', 'cors'],
  ['DeleteBucket', 'DELETE', 'bucket', ''],
  ['DeleteObjects', 'POST', 'bucket', 'delete'],
  ['GetBucketTagging', 'GET', 'bucket', 'tagging'],
  ['PutBucketTagging', 'PUT', 'bucket', 'tagging'],
  ['DeleteBucketTagging', 'DELETE', 'bucket', 'tagging'],
  ['GetObjectTagging', 'GET', 'object', 'tagging&versionId=3'],
  ['PutObjectTagging', 'PUT', 'object', 'tagging', COPY],
  ['DeleteObjectTagging', 'DELETE', 'object', 'tagging'],
  ['PostObject', 'POST', 'bucket', ''],
  ['ListParts', 'GET', 'object', 'uploadId=u'],
  ['GetObjectAttributes', 'GET', 'object', 'attributes'],
  ['GetObject', 'GET', 'object', 'response-content-type=x'],
  ['HeadObject', 'HEAD', 'object', ''],
  ['UploadPartCopy', 'PUT', 'object', 'partNumber=1&uploadId=u', COPY],
  ['UploadPart', 'PUT', 'object', 'partNumber=1&uploadId=u'],
  ['CopyObject', 'PUT', 'object', '', COPY],
  ['PutObject', 'PUT', 'object', ''],
  ['AbortMultipartUpload', 'DELETE', 'object', 'uploadId=u'],
  ['DeleteObject', 'DELETE', 'object', ''],
  ['CreateMultipartUpload', 'POST', 'object', 'uploads'],
  ['CompleteMultipartUpload', 'POST', 'object', 'uploadId=u']
]

t.test('each operation is selected by its method, what the path addresses and its subresource', async t => {
  for (const [operation, method, path, query, headers] of CASES) {
    t.equal(route(method, target(path, query), headers ?? {}), operation, `${method} ${path}?${query}`)
    t.type(routeOf(operation).handler, 'function')
  }
})

t.test('a versionId names a version of the object; it selects no operation of its own', async t => {
  t.equal(route('GET', target('object', 'versionId=3'), {}), 'GetObject')
  t.equal(route('HEAD', target('object', 'versionId=null'), {}), 'HeadObject')
  t.equal(route('DELETE', target('object', 'versionId=3'), {}), 'DeleteObject')
  t.equal(route('GET', target('object', 'attributes&versionId=3'), {}), 'GetObjectAttributes')
})

t.test('what is not served is NotImplemented or MethodNotAllowed, never another operation', async t => {
  t.throws(() => route('GET', target('bucket', 'logging'), {}), { code: 'NotImplemented' }, 'GET ?logging does not list the bucket')
  t.throws(() => route('GET', target('object', 'legal-hold&versionId=3'), {}), { code: 'NotImplemented' }, 'not a GetObject of that version')
  t.equal(route('POST', target('bucket'), {}), 'PostObject', 'browser form uploads')
  t.throws(() => route('POST', target('object'), {}), { code: 'NotImplemented' })
  t.throws(() => route('PUT', target('service'), {}), { code: 'MethodNotAllowed' })
  t.throws(() => route('PATCH', target('object'), {}), { code: 'MethodNotAllowed' })
})

t.test('the spaces profile is declared with the route', async t => {
  const notInSpaces = CASES.map(([op]) => op).filter(op => routeOf(op).notInSpaces === true)
  t.same(notInSpaces.sort(), ['DeleteBucketEncryption', 'DeleteBucketTagging', 'GetBucketEncryption', 'GetBucketTagging', 'GetObjectAttributes', 'PutBucketEncryption', 'PutBucketTagging'])
})

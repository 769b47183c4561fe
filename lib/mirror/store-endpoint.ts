import type { ObjectInfo } from '../types.js'
import type { ObjectCalls } from './store-calls.js'
import { isSpaceboxError } from '../errors.js'
import { headersOf, type EndpointObject, type EndpointWrite, type MirrorEndpoint } from './endpoint.js'

/** A spacebox store, or an access key's view of one (`box.as(id)`), as one side of a mirror. */
export function storeEndpoint (box: ObjectCalls): MirrorEndpoint {
  return {
    listBuckets: async () => (await box.listBuckets()).map(b => b.name),
    ensureBucket: async bucket => {
      try {
        // A bucket there already is left alone (a key may reach one it could not create).
        await box.headBucket(bucket)
        return false
      } catch (err) {
        if (!isSpaceboxError(err, 'NoSuchBucket')) throw err
      }
      try {
        await box.createBucket(bucket)
        return true
      } catch (err) {
        if (isSpaceboxError(err, 'BucketAlreadyOwnedByYou')) return false
        throw err
      }
    },
    getVersioning: async bucket => (await box.getBucketVersioning(bucket)).status,
    putVersioning: async (bucket, status) => { await box.putBucketVersioning(bucket, status) },
    list: async function * (bucket, prefix) {
      for await (const o of box.listAll(bucket, { prefix })) yield { key: o.key, size: o.size, etag: o.etag, lastModified: o.lastModified }
    },
    listVersions: async function * (bucket, prefix) {
      for await (const v of box.listAllVersions(bucket, { prefix })) {
        yield { key: v.key, versionId: v.versionId, deleteMarker: v.deleteMarker, size: v.size ?? 0, etag: v.etag ?? '', lastModified: v.lastModified }
      }
    },
    head: async (bucket, key, options = {}) => {
      const version = { ...versionOf(options.versionId), ...keyOf(options.customerKey) }
      if (options.partNumber === undefined) return objectOf(await box.headObject(bucket, key, version))
      // A part's size is what a read of it returns; nothing is read but the header.
      const { info, body, range } = await box.getObject(bucket, key, { ...version, partNumber: options.partNumber })
      body.destroy()
      return { ...objectOf(info), size: range === undefined ? info.size : range.end - range.start + 1 }
    },
    get: async (bucket, key, options = {}) => {
      const range = options.range === undefined ? {} : { range: { start: options.range[0], end: options.range[1] } }
      return (await box.getObject(bucket, key, { ...versionOf(options.versionId), ...keyOf(options.customerKey), ...range })).body
    },
    put: async (bucket, key, body, size, write) => {
      const result = await box.putObject(bucket, key, body, { ...writeOf(write), checksums: write.checksums, contentLength: size })
      return { etag: result.etag }
    },
    createMultipart: async (bucket, key, write) => (await box.createMultipartUpload(bucket, key, writeOf(write))).uploadId,
    uploadPart: async (bucket, key, uploadId, partNumber, body, size, customerKey) =>
      (await box.uploadPart(bucket, key, uploadId, partNumber, body, { contentLength: size, ...keyOf(customerKey) })).etag,
    completeMultipart: async (bucket, key, uploadId, etags) =>
      ({ etag: (await box.completeMultipartUpload(bucket, key, uploadId, etags.map((etag, i) => ({ partNumber: i + 1, etag })))).etag }),
    abortMultipart: async (bucket, key, uploadId) => { await box.abortMultipartUpload(bucket, key, uploadId) },
    getTags: async (bucket, key, versionId) => (await box.getObjectTagging(bucket, key, versionOf(versionId))).tags,
    getAcl: async (bucket, key, versionId) => (await box.getObjectAcl(bucket, key, versionOf(versionId))).acl,
    delete: async (bucket, key, versionId) => { await box.deleteObject(bucket, key, versionOf(versionId)) }
  }
}

function versionOf (versionId: string | undefined): { versionId?: string } {
  return versionId === undefined ? {} : { versionId }
}

function keyOf (customerKey: Buffer | undefined): { customerKey?: { key: Buffer } } {
  return customerKey === undefined ? {} : { customerKey: { key: customerKey } }
}

/** The headers and metadata of a write, without the checksums (which only a whole body can be checked against). */
function writeOf (write: EndpointWrite): Omit<EndpointWrite, 'checksums' | 'customerKey'> & { customerKey?: { key: Buffer } } {
  const { checksums, customerKey, ...rest } = write
  return { ...rest, ...keyOf(customerKey) }
}

function objectOf (info: ObjectInfo): EndpointObject {
  const out: EndpointObject = {
    size: info.size,
    etag: info.etag,
    lastModified: info.lastModified,
    contentType: info.contentType,
    metadata: info.metadata,
    storageClass: info.storageClass,
    checksums: wholeChecksums(info.checksums)
  }
  Object.assign(out, headersOf(info))
  if (info.customerKeyMD5 !== undefined) out.encryption = 'SSE-C'
  else if (info.serverSideEncryption !== undefined) out.encryption = info.serverSideEncryption
  return out
}

/** Checksums a copy can be checked against: a composite (`-N`) one depends on the part sizes, and is recomputed instead. */
export function wholeChecksums (checksums: EndpointObject['checksums']): EndpointObject['checksums'] {
  const out: EndpointObject['checksums'] = {}
  for (const [algorithm, value] of Object.entries(checksums) as Array<[keyof typeof checksums, string | undefined]>) {
    if (value !== undefined && !value.includes('-')) out[algorithm] = value
  }
  return out
}

/**
 * Storage classes. spacebox keeps one kind of storage, so a class is a label: stored with the
 * version, reported where S3 reports it, changing nothing else (an archived class is served at
 * once, with no restore).
 */
import { SpaceboxError } from '../errors.js'

/**
 * The classes a general-purpose S3 bucket accepts on a write (the SDK's StorageClass enum, less
 * FSX_* and AWS_BACKUP_*: those name where data lives behind an access point or a backup vault,
 * not a class a PUT can choose).
 */
export const STORAGE_CLASSES = [
  'STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE',
  'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE'
] as const

export type StorageClass = typeof STORAGE_CLASSES[number]

/**
 * The record field of a write's storage class: none for STANDARD (a record without one is
 * STANDARD), so the common record stays as small as before. InvalidStorageClass for a class S3
 * does not know, as S3 answers it (exact spelling: S3 refuses `standard`).
 */
export function storageClassField (storageClass: unknown, where: { bucket: string, key: string }): { storageClass?: StorageClass } {
  if (storageClass === undefined || storageClass === 'STANDARD') return {}
  if (!(STORAGE_CLASSES as readonly unknown[]).includes(storageClass)) {
    throw new SpaceboxError('InvalidStorageClass', 'The storage class you specified is not valid', {
      ...where, detail: { storageClassRequested: String(storageClass) }
    })
  }
  return { storageClass: storageClass as StorageClass }
}

/** The class a record stands for. */
export function storageClassOf (record: { storageClass?: StorageClass }): StorageClass {
  return record.storageClass ?? 'STANDARD'
}

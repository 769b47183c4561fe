import type { Call } from '../call.js'

/** The version `?versionId=` names, as given: the engine refuses an empty or malformed id. */
export function versionOf (call: Call): { versionId?: string } {
  const versionId = call.target.query.get('versionId')
  return versionId === undefined ? {} : { versionId }
}

/** x-amz-version-id of a call on a named or current version, when the bucket has versions. */
export function versionHeader (versionId: string | undefined): Record<string, string> {
  return versionId === undefined ? {} : { 'x-amz-version-id': versionId }
}

// The JSON the console's API and the keys API answer (see notes/console-contract.md), as the pages read it.

export interface Session { csrf: string, expires_at: string }

export interface BucketSummary {
  name: string
  region: string
  created: string
  objects: number
  bytes: number
  /** More than the server counted (10 000 objects): objects and bytes are lower bounds. */
  more: boolean
}

export interface CorsRuleJson {
  id?: string
  allowed_origins: string[]
  allowed_methods: string[]
  allowed_headers?: string[]
  expose_headers?: string[]
  max_age_seconds?: number
}

export interface BucketDetails {
  bucket: { name: string, region: string, created: string }
  versioning: 'Enabled' | 'Suspended' | null
  encryption: { algorithm: string, master_key_id?: string, bucket_key_enabled?: boolean } | null
  cors: CorsRuleJson[] | null
  public: { acl: string, policy_statements: number }
}

export interface PublicAccess {
  acl: string
  policy: Array<{ sid?: string, actions: string[], resources: string[] }>
  objects: Array<{ key: string, version_id?: string, acl: string }>
}

export interface ObjectSummary { key: string, size: number, last_modified: string, etag: string, storage_class?: string }

export interface ObjectPage { objects: ObjectSummary[], prefixes: string[], next: string | null }

export interface ObjectDetails {
  key: string
  size: number
  etag: string
  content_type?: string
  last_modified: string
  metadata?: Record<string, string>
  checksums?: Record<string, string>
  version_id?: string
  storage_class?: string
  encryption?: string
  content_encoding?: string
  cache_control?: string
  content_disposition?: string
}

export type Permission = 'read' | 'readwrite' | 'fullaccess'

export interface Grant { bucket: string, permission: Permission, prefix?: string, publish?: boolean }

export interface AccessKey {
  name: string
  access_key: string
  grants: Grant[]
  created_at: string
  disabled: boolean
  expires_at?: string
  rate_limit?: number
  /** Only in the answer to create and regenerate. */
  secret_key?: string
}

export interface HourUsage { hour: string, requests: number, bytes_in: number, bytes_out: number }

export interface KeyUsage {
  requests: Record<string, number>
  bytes_in: number
  bytes_out: number
  denied: number
  last_used?: string
  last_denied?: { at: string, operation: string, reason: string }
  /** Hours with requests over the last 7 days, oldest first; older servers send none. */
  history?: HourUsage[]
}

export interface BucketAccess {
  access_key: string
  name: string
  permission: Permission
  prefix?: string
  publish?: boolean
  disabled: boolean
  expires_at?: string
}

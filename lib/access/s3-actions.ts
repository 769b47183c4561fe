/**
 * S3's action names by the resource each applies to, from AWS's "Actions, resources, and condition
 * keys for Amazon S3" (Service Authorization Reference). A table of its own: compiling a policy
 * expands action patterns against it, and deciding a request looks its action up in it.
 */

// `other` actions (account, access point, job, Storage Lens, Access Grants) are valid names that
// apply to no resource a bucket policy can name.
const OBJECT_ACTIONS = `AbortMultipartUpload BypassGovernanceRetention DeleteObject DeleteObjectAnnotation
  DeleteObjectTagging DeleteObjectVersion DeleteObjectVersionAnnotation DeleteObjectVersionTagging GetObject GetObjectAcl
  GetObjectAnnotation GetObjectAttributes GetObjectLegalHold GetObjectRetention GetObjectTagging GetObjectTorrent
  GetObjectVersion GetObjectVersionAcl GetObjectVersionAnnotation GetObjectVersionAnnotationForReplication
  GetObjectVersionAttributes GetObjectVersionForReplication GetObjectVersionTagging GetObjectVersionTorrent
  InitiateReplication ListMultipartUploadParts ListObjectAnnotations ListObjectVersionAnnotations
  ObjectOwnerOverrideToBucketOwner PutObject PutObjectAcl PutObjectAnnotation PutObjectLegalHold PutObjectRetention
  PutObjectTagging PutObjectVersionAcl PutObjectVersionAnnotation PutObjectVersionTagging ReplicateDelete ReplicateObject
  ReplicateObjectAnnotation ReplicateTags RestoreObject UpdateObjectEncryption`
const BUCKET_ACTIONS = `AllowVendedLogDeliveryForResource CreateBucket CreateBucketMetadataTableConfiguration DeleteBucket
  DeleteBucketMetadataTableConfiguration DeleteBucketPolicy DeleteBucketWebsite GetAccelerateConfiguration
  GetAnalyticsConfiguration GetBucketAbac GetBucketAcl GetBucketCORS GetBucketLocation GetBucketLogging
  GetBucketMetadataTableConfiguration GetBucketNotification GetBucketObjectLockConfiguration GetBucketOwnershipControls
  GetBucketPolicy GetBucketPolicyStatus GetBucketPublicAccessBlock GetBucketRequestPayment GetBucketTagging
  GetBucketVersioning GetBucketWebsite GetEncryptionConfiguration GetIntelligentTieringConfiguration
  GetInventoryConfiguration GetLifecycleConfiguration GetMetricsConfiguration GetReplicationConfiguration ListBucket
  ListBucketMultipartUploads ListBucketVersions ListTagsForResource PauseReplication PutAccelerateConfiguration
  PutAnalyticsConfiguration PutBucketAbac PutBucketAcl PutBucketCORS PutBucketLogging PutBucketNotification
  PutBucketObjectLockConfiguration PutBucketOwnershipControls PutBucketPolicy PutBucketPublicAccessBlock
  PutBucketRequestPayment PutBucketTagging PutBucketVersioning PutBucketWebsite PutEncryptionConfiguration
  PutIntelligentTieringConfiguration PutInventoryConfiguration PutLifecycleConfiguration PutMetricsConfiguration
  PutReplicationConfiguration TagResource UntagResource UpdateBucketMetadataAnnotationTableConfiguration
  UpdateBucketMetadataInventoryTableConfiguration UpdateBucketMetadataJournalTableConfiguration`
const OTHER_ACTIONS = `AssociateAccessGrantsIdentityCenter CreateAccessGrant CreateAccessGrantsInstance
  CreateAccessGrantsLocation CreateAccessPoint CreateAccessPointForObjectLambda CreateJob CreateMultiRegionAccessPoint
  CreateStorageLensGroup DeleteAccessGrant DeleteAccessGrantsInstance DeleteAccessGrantsInstanceResourcePolicy
  DeleteAccessGrantsLocation DeleteAccessPoint DeleteAccessPointForObjectLambda DeleteAccessPointPolicy
  DeleteAccessPointPolicyForObjectLambda DeleteJobTagging DeleteMultiRegionAccessPoint DeleteStorageLensConfiguration
  DeleteStorageLensConfigurationTagging DeleteStorageLensGroup DescribeJob DescribeMultiRegionAccessPointOperation
  DissociateAccessGrantsIdentityCenter GetAccessGrant GetAccessGrantsInstance GetAccessGrantsInstanceForPrefix
  GetAccessGrantsInstanceResourcePolicy GetAccessGrantsLocation GetAccessPoint GetAccessPointConfigurationForObjectLambda
  GetAccessPointForObjectLambda GetAccessPointPolicy GetAccessPointPolicyForObjectLambda GetAccessPointPolicyStatus
  GetAccessPointPolicyStatusForObjectLambda GetAccountPublicAccessBlock GetDataAccess GetJobTagging
  GetMultiRegionAccessPoint GetMultiRegionAccessPointPolicy GetMultiRegionAccessPointPolicyStatus
  GetMultiRegionAccessPointRoutes GetStorageLensConfiguration GetStorageLensConfigurationTagging GetStorageLensDashboard
  GetStorageLensGroup ListAccessGrants ListAccessGrantsInstances ListAccessGrantsLocations ListAccessPoints
  ListAccessPointsForObjectLambda ListAllMyBuckets ListCallerAccessGrants ListJobs ListMultiRegionAccessPoints
  ListStorageLensConfigurations ListStorageLensGroups PutAccessGrantsInstanceResourcePolicy
  PutAccessPointConfigurationForObjectLambda PutAccessPointPolicy PutAccessPointPolicyForObjectLambda
  PutAccessPointPublicAccessBlock PutAccountPublicAccessBlock PutJobTagging PutMultiRegionAccessPointPolicy
  PutStorageLensConfiguration PutStorageLensConfigurationTagging SubmitMultiRegionAccessPointRoutes
  UpdateAccessGrantsLocation UpdateJobPriority UpdateJobStatus UpdateStorageLensGroup`

export type ActionKind = 'object' | 'bucket' | 'other'
/** Lower-cased `s3:name` (IAM matches action names without regard to case) → what it applies to. */
export const ACTIONS: ReadonlyMap<string, ActionKind> = new Map(
  ([['object', OBJECT_ACTIONS], ['bucket', BUCKET_ACTIONS], ['other', OTHER_ACTIONS]] as const)
    .flatMap(([kind, names]) => names.trim().split(/\s+/).map(name => [`s3:${name.toLowerCase()}`, kind] as const))
)
export const ACTION_NAMES: readonly string[] = [...ACTIONS.keys()]

import { S3Error } from './errors.js'

/**
 * The regions S3 takes as a LocationConstraint (the SDK's BucketLocationConstraint list). us-east-1
 * is not among them: S3 refuses it spelt out, as its buckets are made by leaving the constraint out.
 */
const AWS_REGIONS: ReadonlySet<string> = new Set([
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1', 'ap-south-2',
  'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7',
  'ca-central-1', 'ca-west-1', 'cn-north-1', 'cn-northwest-1', 'eu-central-1', 'eu-central-2', 'eu-north-1', 'eu-south-1',
  'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1', 'mx-central-1',
  'sa-east-1', 'us-east-2', 'us-gov-east-1', 'us-gov-west-1', 'us-west-1', 'us-west-2'
])

/** The regions that have Spaces (DigitalOcean's availability matrix). */
const SPACES_REGIONS: ReadonlySet<string> = new Set(['nyc3', 'ams3', 'sfo2', 'sfo3', 'sgp1', 'lon1', 'fra1', 'tor1', 'blr1', 'syd1', 'atl1'])

/**
 * The region a CreateBucket's LocationConstraint names: one of the profile's regions (S3's `EU`
 * alias is eu-west-1) or the server's own, which may be any name it was given. One endpoint serves
 * every region here, as S3's global endpoint once did, so a region other than the server's is not
 * IllegalLocationConstraintException. Else 400 InvalidLocationConstraint, with S3's message.
 */
export function constraintRegion (constraint: string, profile: 'aws' | 'spaces', serverRegion: string | undefined): string {
  if (constraint === serverRegion && constraint !== 'us-east-1') return constraint
  if (profile === 'aws' && constraint === 'EU') return 'eu-west-1'
  if ((profile === 'aws' ? AWS_REGIONS : SPACES_REGIONS).has(constraint)) return constraint
  throw new S3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: constraint })
}

import { Duration } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CONTEXT_DEFAULTS } from './config';

export interface QuarantineBucketProps {
  /**
   * Quarantined events (and their access logs) are deleted after this long.
   * @default Duration.days(30)
   */
  readonly expiration?: Duration;
}

/**
 * Holds the events that failed validation (raw event, source id, validator errors), one object
 * each, until someone fixes the schema and replays them. Raw audit events carry personal data,
 * so the bucket is private, SSL-only, encrypted, access-logged, and expires its objects.
 */
export class QuarantineBucket extends Construct {
  readonly bucket: IBucket;

  constructor(scope: Construct, id: string, props: QuarantineBucketProps = {}) {
    super(scope, id);
    const expiration = props.expiration ?? Duration.days(CONTEXT_DEFAULTS.quarantineExpirationDays);
    const accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // Object ownership is left to the CDK: with cdk.json's serverAccessLogsUseBucketPolicy it
      // grants log delivery through the bucket policy, without it through the legacy ACL.
      lifecycleRules: [{ expiration }],
    });
    this.bucket = new Bucket(this, 'Bucket', {
      // SSE-S3: the objects are written and read by principals of this account only, and
      // SSE-KMS would add a key grant to every reader without narrowing who can read.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'quarantine/',
      lifecycleRules: [{ expiration, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
  }
}

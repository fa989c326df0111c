import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { Acknowledgements, inCompliancePacks } from '../internal/acknowledge';

/**
 * The access logs bucket: SSE-S3 (the only encryption the load balancer can write to), TLS only, no public access,
 * versioned, objects expire after `expiry`. It is retained with the stack's removal: logs are evidence.
 */
export function createAccessLogsBucket(scope: Construct, expiry: Duration, acks: Acknowledgements): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [{ expiration: expiry, noncurrentVersionExpiration: Duration.days(7) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  acks.acknowledge(bucket, {
    rules: ['AwsSolutions-S1', ...inCompliancePacks('S3BucketLoggingEnabled')],
    reason: 'This bucket holds access logs; logging access to it would need another bucket, and so on.',
  });
  acks.acknowledge(bucket, {
    rules: inCompliancePacks('S3DefaultEncryptionKMS'),
    reason: 'Application Load Balancers can write access logs only to buckets encrypted with SSE-S3.',
  });
  acks.acknowledge(bucket, {
    rules: inCompliancePacks('S3BucketReplicationEnabled'),
    reason:
      'Access logs are kept 90 days in one region; cross-region replication of them is left to the account owner.',
  });
  acks.acknowledge(bucket, {
    rules: [
      's3_bucket_default_encryption_kms_check',
      's3_bucket_logging_enabled_check',
      's3_event_notifications_enabled_check',
      's3_bucket_object_lock_enabled_check',
    ],
    reason:
      'The access logs bucket: the load balancer writes only to SSE-S3 buckets, logging it would recurse, nothing consumes its events, and its objects must expire after 90 days.',
  });
  return bucket;
}

import { RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { Acknowledgements } from './acknowledge';

/**
 * Every KMS key the construct creates: rotating, destroyed with the stack only when what it encrypts is (the dev
 * profile), else retained, so nothing it encrypted becomes unreadable; the default key policy's account-root
 * statement acknowledged. One helper, so no key forgets its removal policy.
 */
export function createKey(
  scope: Construct,
  id: string,
  options: { readonly description: string; readonly removalPolicy: RemovalPolicy; readonly acks: Acknowledgements },
): kms.Key {
  const key = new kms.Key(scope, id, {
    description: options.description,
    enableKeyRotation: true,
    removalPolicy: options.removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  options.acks.acknowledge(key, {
    rules: ['kms_create_grant_aws_service_check'],
    reason:
      'The account-root statement (kms:*) is the default key policy that lets IAM policies govern the key; service grants are scoped by kms:ViaService or the logs encryption context.',
  });
  return key;
}

import { RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { ResolvedOptions } from './resolve-options';

/**
 * Creates the service's dedicated ECR repository: images scanned on push, untagged images expired after a few
 * days, and only the newest images kept.
 */
export function createRepository(scope: Construct, options: ResolvedOptions): ecr.Repository {
  const r = options.repository;
  const repository = new ecr.Repository(scope, 'Repository', {
    repositoryName: r.repositoryName,
    imageScanOnPush: true,
    imageTagMutability: r.imageTagImmutable ? ecr.TagMutability.IMMUTABLE : ecr.TagMutability.MUTABLE,
    encryption: ecr.RepositoryEncryption.AES_256,
    removalPolicy: r.removalPolicy,
    emptyOnDelete: r.removalPolicy === RemovalPolicy.DESTROY,
  });
  repository.addLifecycleRule({
    rulePriority: 1,
    description: `Expire untagged images after ${r.untaggedImageExpiry.toDays()} days`,
    tagStatus: ecr.TagStatus.UNTAGGED,
    maxImageAge: r.untaggedImageExpiry,
  });
  repository.addLifecycleRule({
    rulePriority: 2,
    description: `Keep the newest ${r.maxImageCount} images`,
    tagStatus: ecr.TagStatus.ANY,
    maxImageCount: r.maxImageCount,
  });
  return repository;
}

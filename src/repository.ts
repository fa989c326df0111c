import { RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { ProfileDefaults } from './defaults';
import { Acknowledgements } from './internal/acknowledge';
import { PropChecker, Resolved } from './internal/validation';
import { EnvironmentProfile } from './profile';
import { RepositoryOptions } from './props';

export type ResolvedRepository = Resolved<RepositoryOptions, 'repositoryName'> & {
  readonly profile: EnvironmentProfile;
};

const REPOSITORY_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/;

export function resolveRepository(
  check: PropChecker,
  props: RepositoryOptions | undefined,
  defaults: ProfileDefaults,
  profile: EnvironmentProfile,
): ResolvedRepository {
  const r = props ?? {};
  check.integer('repository.maxImageCount', r.maxImageCount, 1, 10000);
  check.wholeDays('repository.untaggedImageExpiry', r.untaggedImageExpiry, 1, Infinity);
  check.matches(
    'repository.repositoryName',
    r.repositoryName,
    REPOSITORY_NAME,
    "be lowercase letters, digits and '.', '_', '-', '/' separators (2 to 256 characters)",
  );
  const imageTagMutability = r.imageTagMutability ?? defaults['RepositoryOptions.imageTagMutability'];
  check.refuse(
    imageTagMutability !== ecr.TagMutability.MUTABLE && imageTagMutability !== ecr.TagMutability.IMMUTABLE,
    `\`repository.imageTagMutability\` must be TagMutability.MUTABLE or TagMutability.IMMUTABLE, got ${imageTagMutability}.`,
  );
  return {
    repositoryName: r.repositoryName,
    maxImageCount: r.maxImageCount ?? defaults['RepositoryOptions.maxImageCount'],
    untaggedImageExpiry: r.untaggedImageExpiry ?? defaults['RepositoryOptions.untaggedImageExpiry'],
    imageTagMutability,
    removalPolicy: r.removalPolicy ?? defaults['RepositoryOptions.removalPolicy'],
    profile,
  };
}

/**
 * Creates the service's dedicated ECR repository: images scanned on push, untagged images expired after a few
 * days, and only the newest images kept.
 */
export function createRepository(scope: Construct, r: ResolvedRepository, acks: Acknowledgements): ecr.Repository {
  const repository = new ecr.Repository(scope, 'Repository', {
    repositoryName: r.repositoryName,
    imageScanOnPush: true,
    imageTagMutability: r.imageTagMutability,
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
  if (r.profile === EnvironmentProfile.DEV && r.imageTagMutability !== ecr.TagMutability.IMMUTABLE) {
    acks.acknowledge(repository, {
      rules: ['ecr_private_tag_immutability_enabled_check'],
      reason: 'The dev profile lets CI re-push a tag such as "dev"; prod makes tags immutable.',
    });
  }
  return repository;
}

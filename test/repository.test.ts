import { Duration } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { EnvironmentProfile } from '../src';
import { defaultStack, onlyResource, synth } from './helpers';

describe('repository', () => {
  test.each([
    [EnvironmentProfile.DEV, 1, 10, 'MUTABLE', 'Delete'],
    [EnvironmentProfile.PROD, 7, 30, 'IMMUTABLE', 'Retain'],
  ])(
    '%s: scan on push, untagged expire after %d days, keep %d images, tags %s, %s on removal',
    (profile, days, keep, mutability, deletion) => {
      const { template } = defaultStack(profile);
      const repo = onlyResource(template, 'AWS::ECR::Repository');
      expect(repo.props.ImageScanningConfiguration).toEqual({ ScanOnPush: true });
      expect(repo.props.ImageTagMutability).toBe(mutability);
      expect(repo.resource.DeletionPolicy).toBe(deletion);
      const rules = JSON.parse(repo.props.LifecyclePolicy.LifecyclePolicyText).rules;
      expect(rules).toEqual([
        expect.objectContaining({
          rulePriority: 1,
          selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: days, countUnit: 'days' },
          action: { type: 'expire' },
        }),
        expect.objectContaining({
          rulePriority: 2,
          selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: keep },
        }),
      ]);
    },
  );

  test('dev empties the repository when it is destroyed', () => {
    const { template } = defaultStack(EnvironmentProfile.DEV);
    expect(onlyResource(template, 'AWS::ECR::Repository').props.EmptyOnDelete).toBe(true);
  });

  test('lifecycle counts, immutability and name can be overridden', () => {
    const { template } = synth({
      repository: {
        maxImageCount: 3,
        untaggedImageExpiry: Duration.days(2),
        imageTagMutability: ecr.TagMutability.IMMUTABLE,
        repositoryName: 'team/api',
      },
    });
    const repo = onlyResource(template, 'AWS::ECR::Repository');
    expect(repo.props.RepositoryName).toBe('team/api');
    expect(repo.props.ImageTagMutability).toBe('IMMUTABLE');
    const rules = JSON.parse(repo.props.LifecyclePolicy.LifecyclePolicyText).rules;
    expect(rules.map((r: any) => r.selection.countNumber)).toEqual([2, 3]);
  });
});

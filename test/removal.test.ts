import { Duration } from 'aws-cdk-lib';
import { CredentialRotation, DatabaseEngine, EnvironmentProfile, RdsProxy, RolloutStrategy } from '../src';
import { defaultStack, synth } from './helpers';

/**
 * What a stack leaves behind when it is deleted, read from the template as CloudFormation reads it: a resource is
 * deleted with the stack unless its DeletionPolicy says Retain, RetainExceptOnCreate or Snapshot, and replaced ones
 * likewise by UpdateReplacePolicy.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html
 */
const kept = (template: any) =>
  Object.entries<any>(template.toJSON().Resources)
    .filter(([, r]) => [r.DeletionPolicy, r.UpdateReplacePolicy].some((p) => p !== undefined && p !== 'Delete'))
    .map(([id, r]) => `${id} (${r.Type}): ${r.DeletionPolicy ?? '-'}/${r.UpdateReplacePolicy ?? '-'}`);

test('dev leaves nothing behind: every resource of the dev template is deleted with the stack', () => {
  expect(kept(defaultStack(EnvironmentProfile.DEV).template)).toEqual([]);
});

test('dev with rotation, a canary and migrations leaves nothing behind either', () => {
  const { template } = synth({
    database: { rotation: CredentialRotation.every(Duration.days(30)) },
    service: { rolloutStrategy: RolloutStrategy.canary() },
    migrations: { command: ['migrate'] },
  });
  expect(kept(template)).toEqual([]);
});

test('prod keeps what holds data or evidence: the database (snapshot), its key, the log groups and their key, the repository, the backup vault', () => {
  const types = new Set(kept(defaultStack(EnvironmentProfile.PROD).template).map((k) => k.split(' ')[1]));
  expect([...types].sort()).toEqual(
    expect.arrayContaining([
      '(AWS::RDS::DBInstance):',
      '(AWS::KMS::Key):',
      '(AWS::Logs::LogGroup):',
      '(AWS::ECR::Repository):',
    ]),
  );
});

test('dev on Aurora, with RDS Proxy, leaves nothing behind either', () => {
  for (const database of [
    { engine: DatabaseEngine.auroraServerless() },
    { engine: DatabaseEngine.auroraProvisioned({ readers: 1 }), proxy: RdsProxy.iamAuthenticated() },
    { proxy: RdsProxy.iamAuthenticated() },
  ]) {
    expect(kept(synth({ database }).template)).toEqual([]);
  }
});

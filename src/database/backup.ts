import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { backupResourceOf, DatabaseServer } from './server';
import { Acknowledgements } from '../internal/acknowledge';

/** Daily and weekly AWS Backup recovery points in a vault encrypted with the database key. */
export function addBackupPlan(
  scope: Construct,
  server: DatabaseServer,
  key: kms.IKey,
  removalPolicy: RemovalPolicy,
  acks: Acknowledgements,
): backup.BackupPlan {
  const vault = new backup.BackupVault(scope, 'BackupVault', {
    encryptionKey: key,
    removalPolicy: removalPolicy === RemovalPolicy.DESTROY ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
  });
  const plan = new backup.BackupPlan(scope, 'BackupPlan', {
    backupVault: vault,
    backupPlanRules: [
      new backup.BackupPlanRule({
        ruleName: 'Daily',
        scheduleExpression: events.Schedule.cron({ hour: '3', minute: '0' }),
        deleteAfter: Duration.days(35),
      }),
      new backup.BackupPlanRule({
        ruleName: 'Weekly',
        scheduleExpression: events.Schedule.cron({ weekDay: 'SUN', hour: '4', minute: '0' }),
        deleteAfter: Duration.days(90),
      }),
    ],
  });
  const selection = plan.addSelection('Database', {
    resources: [backupResourceOf(server)],
  });
  for (const role of selection.node.findAll().filter((c) => c instanceof iam.Role)) {
    acks.acknowledge(role, {
      rules: ['AwsSolutions-IAM4'],
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup'],
      reason: 'The AWS managed policy is the documented permission set for AWS Backup and is kept current by AWS.',
    });
  }
  return plan;
}

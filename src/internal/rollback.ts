// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module (handlers bundle it).
// eslint-disable-next-line import/no-extraneous-dependencies
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/**
 * Whether CloudFormation is rolling the stack back after a failed update.
 *
 * Documented behaviour relied on: on a failed update CloudFormation sends each custom resource it had updated an
 * Update whose ResourceProperties are the previous ones, while the stack's status is UPDATE_ROLLBACK_IN_PROGRESS; a
 * custom resource that fails that Update leaves the stack in UPDATE_ROLLBACK_FAILED, which blocks every later
 * deployment until someone skips the resource by hand (ContinueUpdateRollback --resources-to-skip).
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requesttypes-update.html
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-update-rollback-failed
 */
export async function isRollingBack(cfn: CloudFormationClient, stackId: string): Promise<boolean> {
  const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackId }));
  return Stacks?.[0]?.StackStatus === 'UPDATE_ROLLBACK_IN_PROGRESS';
}

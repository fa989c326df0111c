// The Lambda runtime provides the AWS SDK v3; the library itself never loads this module.
/* eslint-disable import/no-extraneous-dependencies */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
/* eslint-enable import/no-extraneous-dependencies */
import { isRollingBack } from '../internal/rollback';

/**
 * The migration gate's logic, apart from the Lambda entry points so it can be tested with a mocked ECS client.
 *
 * onEvent starts the new task definition once as a one-off Fargate task with the migration command; isComplete
 * polls it until it stops and fails the deployment when the task could not start, exited non-zero, or ran too long.
 *
 * While CloudFormation rolls a failed update back, it sends the gate an Update to the previous task definition. The
 * gate then runs nothing and reports done at once: that version's migrations ran when it was deployed, the database
 * keeps the newer schema (migrations are expand-then-contract), and a migration task that failed now would leave the
 * stack in UPDATE_ROLLBACK_FAILED.
 */

/** The custom resource's properties, as CloudFormation passes them (strings). */
export interface GateProperties {
  readonly Cluster: string;
  readonly TaskDefinition: string;
  readonly ContainerName: string;
  readonly Command: string[];
  readonly Subnets: string[];
  readonly SecurityGroups: string[];
  readonly AssignPublicIp: 'ENABLED' | 'DISABLED';
  readonly TimeoutSeconds: string;
  readonly CapacityProvider?: string;
}

export interface GateEvent {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId?: string;
  readonly ResourceProperties: GateProperties;
  readonly PhysicalResourceId?: string;
  readonly Data?: { TaskArn?: string; StartedAt?: string; Skipped?: string };
}

export interface GateClients {
  readonly ecs: ECSClient;
  readonly cfn: CloudFormationClient;
}

export interface OnEventResult {
  readonly PhysicalResourceId: string;
  readonly Data?: { TaskArn: string; StartedAt: string } | { Skipped: string };
}

export interface IsCompleteResult {
  readonly IsComplete: boolean;
  readonly Data?: { TaskArn: string; ExitCode: string };
}

/** Starts the migration task. Delete has nothing to undo: migrations are not reverted when the stack goes. */
export async function onEvent({ ecs, cfn }: GateClients, event: GateEvent, now = Date.now()): Promise<OnEventResult> {
  if (event.RequestType === 'Delete') {
    return { PhysicalResourceId: event.PhysicalResourceId ?? 'migration-gate' };
  }
  const p = event.ResourceProperties;
  if (event.RequestType === 'Update' && event.StackId && (await rollingBack(cfn, event.StackId))) {
    return {
      PhysicalResourceId: event.PhysicalResourceId ?? 'migration-gate',
      Data: { Skipped: `rollback to ${p.TaskDefinition}: no migration runs while CloudFormation rolls back` },
    };
  }
  const response = await ecs.send(
    new RunTaskCommand({
      cluster: p.Cluster,
      taskDefinition: p.TaskDefinition,
      count: 1,
      launchType: 'FARGATE',
      startedBy: 'migration-gate',
      networkConfiguration: {
        awsvpcConfiguration: { subnets: p.Subnets, securityGroups: p.SecurityGroups, assignPublicIp: p.AssignPublicIp },
      },
      overrides: { containerOverrides: [{ name: p.ContainerName, command: p.Command }] },
    }),
  );
  const task = response.tasks?.[0];
  if (response.failures?.length || !task?.taskArn) {
    const reasons = (response.failures ?? []).map(
      (f) => `${f.reason ?? 'unknown'}${f.detail ? ` (${f.detail})` : ''}${f.arn ? ` [${f.arn}]` : ''}`,
    );
    throw new Error(
      `Migration task could not start from ${p.TaskDefinition}: ${reasons.join('; ') || 'RunTask returned no task'}. The service was not updated.`,
    );
  }
  return {
    PhysicalResourceId: task.taskArn,
    Data: { TaskArn: task.taskArn, StartedAt: String(now) },
  };
}

/** Reports whether the migration task finished; throws (failing the deployment) when it failed or timed out. */
export async function isComplete(ecs: ECSClient, event: GateEvent, now = Date.now()): Promise<IsCompleteResult> {
  if (event.RequestType === 'Delete' || event.Data?.Skipped) return { IsComplete: true };
  const p = event.ResourceProperties;
  const taskArn = event.Data?.TaskArn ?? event.PhysicalResourceId;
  if (!taskArn) throw new Error('Migration gate lost track of its task: no task ARN in the event.');
  const described = await ecs.send(new DescribeTasksCommand({ cluster: p.Cluster, tasks: [taskArn] }));
  const task = described.tasks?.[0];
  if (!task) {
    const reason = described.failures?.[0]?.reason ?? 'not found';
    throw new Error(`Migration task ${taskArn} cannot be described: ${reason}.`);
  }
  if (task.lastStatus !== 'STOPPED') {
    const startedAt = Number(event.Data?.StartedAt ?? now);
    const timeoutSeconds = Number(p.TimeoutSeconds);
    const elapsedSeconds = Math.floor((now - startedAt) / 1000);
    if (elapsedSeconds >= timeoutSeconds) {
      await ecs.send(new StopTaskCommand({ cluster: p.Cluster, task: taskArn, reason: 'Migration gate timeout' }));
      throw new Error(
        `Migration task ${taskArn} did not finish within ${timeoutSeconds} seconds (status ${task.lastStatus}); it was stopped and the service was not updated.`,
      );
    }
    return { IsComplete: false };
  }
  const container = task.containers?.find((c) => c.name === p.ContainerName);
  const exitCode = container?.exitCode;
  if (exitCode === 0) {
    return { IsComplete: true, Data: { TaskArn: taskArn, ExitCode: '0' } };
  }
  const why = [task.stopCode, task.stoppedReason, container?.reason].filter(Boolean).join('; ');
  throw new Error(
    `Migration task ${taskArn} failed: exit code ${exitCode ?? 'none (the container did not run)'}${why ? `; ${why}` : ''}. The service was not updated; see the service's log group for the task's output.`,
  );
}

/** The stack's status decides only whether to skip; when it cannot be read, the gate runs as on any update. */
async function rollingBack(cfn: CloudFormationClient, stackId: string): Promise<boolean> {
  try {
    return await isRollingBack(cfn, stackId);
  } catch (err) {
    console.log(JSON.stringify({ level: 'warn', message: `stack status not read: ${(err as Error).message}` }));
    return false;
  }
}

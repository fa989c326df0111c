import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeServicesCommand, ECSClient } from '@aws-sdk/client-ecs';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { explain, OperatorError, readStackOutputs } from './stack';

export interface Clients {
  readonly cloudFormation: CloudFormationClient;
  readonly ecs: ECSClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly rds: RDSClient;
}

export interface ServiceStatus {
  readonly stackName: string;
  readonly url: string;
  readonly service: { desired: number; running: number; pending: number; status: string };
  readonly deployments: {
    status: string;
    rolloutState: string;
    taskDefinition: string;
    running: number;
    desired: number;
  }[];
  readonly targets: Record<string, number>;
  readonly database: { status: string; multiAz: boolean; instanceClass: string; engineVersion: string };
}

/** One look at the deployed service: tasks, rollouts, load balancer targets and the database. */
export async function collectStatus(clients: Clients, stackName: string): Promise<ServiceStatus> {
  const outputs = await readStackOutputs(clients.cloudFormation, stackName);
  try {
    const [services, databases] = await Promise.all([
      clients.ecs.send(new DescribeServicesCommand({ cluster: outputs.ClusterName, services: [outputs.ServiceName] })),
      clients.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: outputs.DatabaseInstanceId })),
    ]);
    const service = services.services?.[0];
    if (!service) {
      throw new OperatorError(`Service ${outputs.ServiceName} was not found in cluster ${outputs.ClusterName}.`);
    }
    const targetGroupArn = service.loadBalancers?.[0]?.targetGroupArn;
    const health = targetGroupArn
      ? await clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn }))
      : { TargetHealthDescriptions: [] };
    const targets: Record<string, number> = {};
    for (const target of health.TargetHealthDescriptions ?? []) {
      const state = target.TargetHealth?.State ?? 'unknown';
      targets[state] = (targets[state] ?? 0) + 1;
    }
    const db = databases.DBInstances?.[0];
    return {
      stackName,
      url: outputs.ServiceUrl,
      service: {
        desired: service.desiredCount ?? 0,
        running: service.runningCount ?? 0,
        pending: service.pendingCount ?? 0,
        status: service.status ?? 'UNKNOWN',
      },
      deployments: (service.deployments ?? []).map((d) => ({
        status: d.status ?? 'UNKNOWN',
        rolloutState: d.rolloutState ?? 'UNKNOWN',
        taskDefinition: (d.taskDefinition ?? '').split('/').pop() ?? '',
        running: d.runningCount ?? 0,
        desired: d.desiredCount ?? 0,
      })),
      targets,
      database: {
        status: db?.DBInstanceStatus ?? 'not found',
        multiAz: db?.MultiAZ ?? false,
        instanceClass: db?.DBInstanceClass ?? '',
        engineVersion: db?.EngineVersion ?? '',
      },
    };
  } catch (err) {
    throw explain(err, stackName);
  }
}

/** Human-readable status, one fact per line. */
export function formatStatus(s: ServiceStatus, now = new Date()): string {
  const targets =
    Object.entries(s.targets)
      .map(([state, n]) => `${n} ${state}`)
      .join(', ') || 'none registered';
  const lines = [
    `${s.stackName}  ${now.toISOString()}`,
    `  url          ${s.url}`,
    `  service      ${s.service.status}: ${s.service.running} running, ${s.service.pending} pending, ${s.service.desired} desired`,
    ...s.deployments.map(
      (d) => `  deployment   ${d.status} ${d.rolloutState} ${d.taskDefinition} (${d.running}/${d.desired} running)`,
    ),
    `  targets      ${targets}`,
    `  database     ${s.database.status} ${s.database.instanceClass} PostgreSQL ${s.database.engineVersion}${s.database.multiAz ? ' Multi-AZ' : ''}`,
  ];
  return lines.join('\n');
}

/**
 * Monthly cost estimate of a synthesized template, from a dated price table (us-east-1, on-demand).
 *
 * scripts/readouts.ts prints it.
 *
 * Fixed monthly charges only; usage-based charges (data transfer and processing, LCUs above one, log ingestion and
 * storage, Container Insights metrics, backup storage above the free amount, ECR storage, Lambda, Step Functions,
 * SNS, WAF requests) are listed as not estimated.
 */

export const PRICES_AS_OF = '2026-11-27';
const HOURS = 730;

/** us-east-1 on-demand list prices in USD, as of PRICES_AS_OF. */
export const PRICES = {
  natGatewayHour: 0.045,
  publicIpv4Hour: 0.005,
  albHour: 0.0225,
  albLcuHour: 0.008,
  fargateVcpuHour: { X86_64: 0.04048, ARM64: 0.03238 },
  fargateGbHour: { X86_64: 0.004445, ARM64: 0.00356 },
  rdsPostgresHour: {
    'db.t4g.micro': 0.016,
    'db.t4g.small': 0.032,
    'db.t4g.medium': 0.065,
    'db.t4g.large': 0.129,
    'db.m7g.large': 0.168,
    'db.m7g.xlarge': 0.337,
    'db.r7g.large': 0.239,
    'db.r7g.xlarge': 0.478,
  } as Record<string, number>,
  rdsGp3GbMonth: 0.115,
  auroraStorageGbMonth: 0.1,
  auroraIoMillion: 0.2,
  /** RDS Proxy on provisioned instances: per vCPU of the instance, at least 2 vCPUs. */
  rdsProxyVcpuHour: 0.015,
  /** Aurora PostgreSQL (Aurora Standard): Serverless v2 per ACU-hour, provisioned instances per hour. */
  auroraAcuHour: 0.12,
  auroraPostgresHour: {
    'db.t4g.medium': 0.073,
    'db.t4g.large': 0.146,
    'db.r7g.large': 0.276,
    'db.r7g.xlarge': 0.552,
  } as Record<string, number>,
  secretMonth: 0.4,
  kmsKeyMonth: 1,
  interfaceEndpointHour: 0.01,
  wafWebAclMonth: 5,
  wafRuleMonth: 1,
  alarmMetricMonth: 0.1,
  dashboardMonth: 3,
};

/** vCPUs of the instance classes in the price table (RDS instance types page). */
const RDS_VCPUS: Record<string, number> = {
  'db.t4g.micro': 2,
  'db.t4g.small': 2,
  'db.t4g.medium': 2,
  'db.t4g.large': 2,
  'db.m7g.large': 2,
  'db.m7g.xlarge': 4,
  'db.r7g.large': 2,
  'db.r7g.xlarge': 4,
};

export interface CostLine {
  readonly item: string;
  readonly basis: string;
  readonly monthlyUsd: number;
  /** Part of the cheapest stack that can run the service at all (load balancer, tasks, database, credentials). */
  readonly essential: boolean;
}

export interface CostEstimate {
  readonly lines: CostLine[];
  readonly total: number;
  readonly essentialTotal: number;
  readonly notEstimated: string[];
  /** With rotation off: what turning it on (`database.rotation`) would add, from the same price table. */
  readonly rotationWouldAdd?: { readonly monthlyUsd: number; readonly what: string };
}

/**
 * Alarm metrics of the rotation alarms: the two rotation functions' errors; the redeploy's errors and failed
 * invocations; the failed-deployment rule's triggers.
 */
const ROTATION_ALARM_METRICS = 5;

const money = (n: number) => Math.round(n * 100) / 100;

type Resource = { Type: string; Properties?: any };

export function estimateCost(template: { Resources: Record<string, Resource> }): CostEstimate {
  const resources = Object.entries(template.Resources);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const lines: CostLine[] = [];
  const add = (item: string, basis: string, monthlyUsd: number, essential = false) => {
    if (monthlyUsd > 0) lines.push({ item, basis, monthlyUsd: money(monthlyUsd), essential });
  };

  for (const [id, lb] of ofType('AWS::ElasticLoadBalancingV2::LoadBalancer')) {
    add(`${id} (ALB)`, `${PRICES.albHour} USD/h`, PRICES.albHour * HOURS, true);
    add(`${id} (1 LCU baseline)`, `${PRICES.albLcuHour} USD/LCU-h`, PRICES.albLcuHour * HOURS, true);
    if (lb.Properties?.Scheme !== 'internal') {
      const ips = (lb.Properties?.Subnets ?? []).length;
      add(`${id} (${ips} public IPv4)`, `${PRICES.publicIpv4Hour} USD/IP-h`, ips * PRICES.publicIpv4Hour * HOURS, true);
    }
  }
  const nats = ofType('AWS::EC2::NatGateway').length;
  add(`${nats} NAT gateway(s)`, `${PRICES.natGatewayHour} USD/h each`, nats * PRICES.natGatewayHour * HOURS);
  const eips = ofType('AWS::EC2::EIP').length;
  add(
    `${eips} Elastic IP(s) of the NAT gateways`,
    `${PRICES.publicIpv4Hour} USD/IP-h`,
    eips * PRICES.publicIpv4Hour * HOURS,
  );

  const taskDefinitions = Object.fromEntries(ofType('AWS::ECS::TaskDefinition'));
  for (const [id, service] of ofType('AWS::ECS::Service')) {
    const tasks = service.Properties?.DesiredCount ?? 1;
    const taskDef = taskDefinitions[service.Properties?.TaskDefinition?.Ref] ?? Object.values(taskDefinitions)[0];
    if (!taskDef) continue;
    const arch: 'X86_64' | 'ARM64' =
      taskDef.Properties?.RuntimePlatform?.CpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64';
    const vcpu = Number(taskDef.Properties?.Cpu ?? 256) / 1024;
    const gb = Number(taskDef.Properties?.Memory ?? 512) / 1024;
    const perTask = (vcpu * PRICES.fargateVcpuHour[arch] + gb * PRICES.fargateGbHour[arch]) * HOURS;
    add(
      `${id} (${tasks} Fargate task(s), ${vcpu} vCPU / ${gb} GB, ${arch})`,
      'Fargate on-demand',
      tasks * perTask,
      true,
    );
    if (service.Properties?.NetworkConfiguration?.AwsvpcConfiguration?.AssignPublicIp === 'ENABLED') {
      add(
        `${id} (${tasks} task public IPv4)`,
        `${PRICES.publicIpv4Hour} USD/IP-h`,
        tasks * PRICES.publicIpv4Hour * HOURS,
        true,
      );
    }
  }

  const notEstimated = new Set<string>(['data transfer and processing', 'log ingestion and storage']);
  /** An Aurora writer or reader: serverless at its least capacity (0 when paused), or its class's hourly rate. */
  const auroraMember = (id: string, instanceClass: string, cluster: any) => {
    notEstimated.add(
      `Aurora storage and I/O (${PRICES.auroraStorageGbMonth} USD/GB-month, ${PRICES.auroraIoMillion} USD per million I/Os)`,
    );
    if (instanceClass === 'db.serverless') {
      const min = Number(cluster.ServerlessV2ScalingConfiguration?.MinCapacity ?? 0.5);
      const max = Number(cluster.ServerlessV2ScalingConfiguration?.MaxCapacity ?? 2);
      notEstimated.add(
        `Aurora Serverless v2 capacity above the minimum (up to ${max} ACUs, ${PRICES.auroraAcuHour} USD/ACU-h)`,
      );
      add(
        `${id} (Aurora Serverless v2, ${min} ACU minimum${min === 0 ? ': nothing while paused' : ''})`,
        `${PRICES.auroraAcuHour} USD/ACU-h`,
        min * PRICES.auroraAcuHour * HOURS,
        true,
      );
      return;
    }
    const hourly = PRICES.auroraPostgresHour[instanceClass];
    if (hourly === undefined) {
      notEstimated.add(`Aurora instance class ${instanceClass} (not in the price table)`);
      return;
    }
    add(`${id} (Aurora ${instanceClass})`, `${hourly} USD/h`, hourly * HOURS, true);
  };
  const clusters = Object.fromEntries(ofType('AWS::RDS::DBCluster'));
  for (const [id, db] of ofType('AWS::RDS::DBInstance')) {
    if (String(db.Properties?.Engine).startsWith('aurora')) {
      const cluster = clusters[db.Properties?.DBClusterIdentifier?.Ref]?.Properties ?? {};
      auroraMember(id, db.Properties?.DBInstanceClass, cluster);
      continue;
    }
    const instanceClass = db.Properties?.DBInstanceClass;
    const multiAz = db.Properties?.MultiAZ === true;
    const copies = multiAz ? 2 : 1;
    const hourly = PRICES.rdsPostgresHour[instanceClass];
    if (hourly === undefined) {
      notEstimated.add(`RDS instance class ${instanceClass} (not in the price table)`);
    } else {
      add(
        `${id} (${instanceClass}${multiAz ? ', Multi-AZ' : ''})`,
        `${hourly} USD/h x ${copies}`,
        hourly * copies * HOURS,
        true,
      );
    }
    const gb = Number(db.Properties?.AllocatedStorage ?? 20);
    add(
      `${id} (${gb} GB gp3${multiAz ? ' x 2' : ''})`,
      `${PRICES.rdsGp3GbMonth} USD/GB-month`,
      gb * copies * PRICES.rdsGp3GbMonth,
      true,
    );
  }
  const instanceClasses = Object.fromEntries(
    ofType('AWS::RDS::DBInstance').map(([id, db]) => [id, String(db.Properties?.DBInstanceClass)]),
  );
  for (const [id] of ofType('AWS::RDS::DBProxy')) {
    const target = ofType('AWS::RDS::DBProxyTargetGroup').find(([, t]) => t.Properties?.DBProxyName?.Ref === id)?.[1];
    // An Aurora cluster's proxy is billed on the vCPUs of its members (provisioned classes).
    const clusterId = target?.Properties?.DBClusterIdentifiers?.[0]?.Ref;
    const instanceClass = clusterId
      ? ofType('AWS::RDS::DBInstance').find(([, m]) => m.Properties?.DBClusterIdentifier?.Ref === clusterId)?.[1]
          .Properties?.DBInstanceClass
      : instanceClasses[target?.Properties?.DBInstanceIdentifiers?.[0]?.Ref];
    const members = clusterId
      ? ofType('AWS::RDS::DBInstance').filter(([, m]) => m.Properties?.DBClusterIdentifier?.Ref === clusterId).length
      : 1;
    if (instanceClass === 'db.serverless') {
      // In front of Aurora Serverless v2 the proxy is billed per ACU of the cluster, at least 8.
      add(
        `${id} (RDS Proxy, Aurora Serverless v2: 8 ACU minimum)`,
        `${PRICES.rdsProxyVcpuHour} USD/ACU-h, at least 8`,
        8 * PRICES.rdsProxyVcpuHour * HOURS,
      );
      continue;
    }
    const vcpus = RDS_VCPUS[instanceClass];
    if (vcpus === undefined) {
      notEstimated.add(`RDS Proxy on ${instanceClass ?? 'an unknown target'} (vCPUs not in the table)`);
      continue;
    }
    const billed = Math.max(2, vcpus * members);
    add(
      `${id} (RDS Proxy, ${billed} vCPU of ${members > 1 ? `${members} x ` : ''}${instanceClass})`,
      `${PRICES.rdsProxyVcpuHour} USD/vCPU-h, at least 2`,
      billed * PRICES.rdsProxyVcpuHour * HOURS,
    );
  }
  const secrets = ofType('AWS::SecretsManager::Secret').length;
  add(`${secrets} secret(s)`, `${PRICES.secretMonth} USD/month`, secrets * PRICES.secretMonth, true);
  const keys = ofType('AWS::KMS::Key').length;
  add(`${keys} KMS key(s)`, `${PRICES.kmsKeyMonth} USD/month`, keys * PRICES.kmsKeyMonth);
  for (const [id, endpoint] of ofType('AWS::EC2::VPCEndpoint')) {
    if (endpoint.Properties?.VpcEndpointType !== 'Interface') continue;
    const enis = (endpoint.Properties?.SubnetIds ?? []).length;
    add(
      `${id} (interface endpoint, ${enis} AZ)`,
      `${PRICES.interfaceEndpointHour} USD/AZ-h`,
      enis * PRICES.interfaceEndpointHour * HOURS,
    );
  }
  for (const [id, acl] of ofType('AWS::WAFv2::WebACL')) {
    const rules = (acl.Properties?.Rules ?? []).length;
    add(
      `${id} (web ACL, ${rules} rules)`,
      `${PRICES.wafWebAclMonth} + ${PRICES.wafRuleMonth}/rule USD/month`,
      PRICES.wafWebAclMonth + rules * PRICES.wafRuleMonth,
    );
    notEstimated.add('WAF requests');
  }
  const alarms = ofType('AWS::CloudWatch::Alarm');
  const alarmMetrics = alarms.reduce(
    (sum, [, a]) => sum + (a.Properties?.Metrics ? a.Properties.Metrics.filter((m: any) => m.MetricStat).length : 1),
    0,
  );
  add(
    `${alarms.length} alarm(s), ${alarmMetrics} metrics`,
    `${PRICES.alarmMetricMonth} USD/metric-month`,
    alarmMetrics * PRICES.alarmMetricMonth,
  );
  const dashboards = ofType('AWS::CloudWatch::Dashboard').length;
  add(`${dashboards} dashboard(s)`, `${PRICES.dashboardMonth} USD/month`, dashboards * PRICES.dashboardMonth);
  if (ofType('AWS::ECS::Cluster').some(([, c]) => JSON.stringify(c.Properties ?? {}).includes('containerInsights'))) {
    notEstimated.add('Container Insights metrics');
  }
  if (ofType('AWS::Backup::BackupPlan').length > 0) notEstimated.add('AWS Backup storage');
  if (ofType('AWS::EC2::FlowLog').length > 0) notEstimated.add('VPC flow log ingestion');

  let rotationWouldAdd: CostEstimate['rotationWouldAdd'];
  if (ofType('AWS::SecretsManager::RotationSchedule').length === 0) {
    // Without a NAT gateway the rotation functions reach Secrets Manager through an endpoint in one AZ.
    const needsEndpoint = ofType('AWS::EC2::NatGateway').length === 0;
    const endpoint = needsEndpoint ? PRICES.interfaceEndpointHour * HOURS : 0;
    const alarmsOn = alarms.length > 0;
    // Behind RDS Proxy the app has no password: only the master's rotation and its alarm.
    const proxied = ofType('AWS::RDS::DBProxy').length > 0;
    const rotationMetrics = proxied ? 1 : ROTATION_ALARM_METRICS;
    const alarmCost = alarmsOn ? rotationMetrics * PRICES.alarmMetricMonth : 0;
    rotationWouldAdd = {
      monthlyUsd: money(endpoint + alarmCost),
      what: [
        ...(needsEndpoint
          ? [`a Secrets Manager interface endpoint in one AZ (${money(endpoint).toFixed(2)} USD)`]
          : []),
        ...(alarmsOn
          ? [`${rotationMetrics} alarm metric${rotationMetrics > 1 ? 's' : ''} (${money(alarmCost).toFixed(2)} USD)`]
          : []),
        proxied
          ? "the master password's rotation function (requests only, a few a month)"
          : 'two rotation functions and a redeploy function (requests only, a few a month)',
      ].join(', '),
    };
  }

  const total = money(lines.reduce((sum, l) => sum + l.monthlyUsd, 0));
  const essentialTotal = money(lines.filter((l) => l.essential).reduce((sum, l) => sum + l.monthlyUsd, 0));
  return {
    lines,
    total,
    essentialTotal,
    notEstimated: [...notEstimated],
    ...(rotationWouldAdd ? { rotationWouldAdd } : {}),
  };
}

export function formatEstimate(name: string, e: CostEstimate): string {
  const rows = e.lines.map(
    (l) => `  ${l.monthlyUsd.toFixed(2).padStart(9)}  ${l.item}  [${l.basis}]${l.essential ? '' : '  (optional)'}`,
  );
  const over = Math.round((e.total / e.essentialTotal - 1) * 1000) / 10;
  return [
    `${name}: about ${e.total.toFixed(2)} USD a month (us-east-1 on-demand list prices of ${PRICES_AS_OF})`,
    ...rows,
    `  cheapest stack that can run the service (load balancer, tasks, database, credentials): ${e.essentialTotal.toFixed(2)} USD; this stack: +${over} %`,
    `  not estimated (usage-based): ${e.notEstimated.join(', ')}`,
    ...(e.rotationWouldAdd
      ? [
          `  password rotation is off; turning it on (database.rotation) adds +${e.rotationWouldAdd.monthlyUsd.toFixed(2)} USD a month: ${e.rotationWouldAdd.what}`,
        ]
      : []),
  ].join('\n');
}

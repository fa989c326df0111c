import { Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { ResolvedOptions } from './resolve-options';

/** What the alarms and the dashboard watch. */
export interface MonitoredParts {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly cluster: ecs.ICluster;
  readonly service: ecs.FargateService;
  readonly database: rds.DatabaseInstance;
}

export interface MonitoringParts {
  readonly alarms: cloudwatch.Alarm[];
  readonly alarmTopic?: sns.ITopic;
  readonly dashboard?: cloudwatch.Dashboard;
}

const GIB = 1024 ** 3;
/** Memory (GiB) of the common sizes of the general-purpose and burstable classes; memory-optimised classes double it. */
const SIZE_MEMORY_GIB: Record<string, number> = {
  nano: 0.5,
  micro: 1,
  small: 2,
  medium: 4,
  large: 8,
  xlarge: 16,
  '2xlarge': 32,
  '4xlarge': 64,
  '8xlarge': 128,
  '12xlarge': 192,
  '16xlarge': 256,
  '24xlarge': 384,
};

/**
 * Memory of an instance type in bytes, from its size (and doubled for r/x classes); undefined when unknown.
 * Used only to derive default thresholds; each can be overridden.
 */
export function instanceMemoryBytes(instanceType: ec2.InstanceType): number | undefined {
  const [family, size] = instanceType.toString().split('.');
  const base = SIZE_MEMORY_GIB[size];
  if (base === undefined || !family) return undefined;
  const factor = /^[rxz]/.test(family) ? 2 : 1;
  return base * factor * GIB;
}

/** PostgreSQL on RDS: max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000). */
export function maxConnections(memoryBytes: number): number {
  return Math.min(Math.floor(memoryBytes / 9531392), 5000);
}

/**
 * Creates the alarms (actions to the given topic, or a new encrypted one) and the dashboard.
 */
export function createMonitoring(scope: Construct, parts: MonitoredParts, options: ResolvedOptions): MonitoringParts {
  const m = options.monitoring;
  const t = m.thresholds;
  const alarms: cloudwatch.Alarm[] = [];
  const prefix = Names.uniqueResourceName(scope, { maxLength: 180, separator: '-' });
  const fiveMinutes = Duration.minutes(5);
  const oneMinute = Duration.minutes(1);

  let alarmTopic: sns.ITopic | undefined;
  if (m.alarms) {
    alarmTopic = m.alarmTopic ?? createAlarmTopic(scope, m.alarmEmail);
    const action = new cwActions.SnsAction(alarmTopic);
    const alarm = (
      id: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      description: string,
      extra: Partial<cloudwatch.CreateAlarmOptions> = {},
    ) => {
      const created = new cloudwatch.Alarm(scope, `${id}Alarm`, {
        alarmName: `${prefix}-${id}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        ...extra,
      });
      created.addAlarmAction(action);
      created.addOkAction(action);
      alarms.push(created);
    };

    const lb = parts.loadBalancer.metrics;
    const tg = parts.targetGroup.metrics;
    alarm(
      'Target5xx',
      tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: fiveMinutes, statistic: 'Sum' }),
      t.target5xxCount,
      `The service answered ${t.target5xxCount} or more 5xx responses in 5 minutes.`,
    );
    alarm(
      'LoadBalancer5xx',
      lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: fiveMinutes, statistic: 'Sum' }),
      t.loadBalancer5xxCount,
      `The load balancer itself answered ${t.loadBalancer5xxCount} or more 5xx responses in 5 minutes (no healthy target, or targets failing).`,
    );
    alarm(
      'LatencyP99',
      tg.targetResponseTime({ period: fiveMinutes, statistic: 'p99' }),
      t.p99LatencySeconds,
      `p99 target response time reached ${t.p99LatencySeconds} s over 5 minutes, three times in a row.`,
      { evaluationPeriods: 3 },
    );
    alarm(
      'UnhealthyHosts',
      tg.unhealthyHostCount({ period: oneMinute, statistic: 'Maximum' }),
      t.unhealthyHostCount,
      `${t.unhealthyHostCount} or more targets failed the load balancer health check for 5 minutes.`,
      { evaluationPeriods: 5 },
    );
    alarm(
      'ServiceCpu',
      parts.service.metricCpuUtilization({ period: fiveMinutes }),
      t.serviceCpuPercent,
      `Service CPU reached ${t.serviceCpuPercent} % for 15 minutes: auto-scaling may be at its maximum.`,
      { evaluationPeriods: 3 },
    );
    alarm(
      'ServiceMemory',
      parts.service.metricMemoryUtilization({ period: fiveMinutes }),
      t.serviceMemoryPercent,
      `Service memory reached ${t.serviceMemoryPercent} % for 15 minutes.`,
      { evaluationPeriods: 3 },
    );
    alarm(
      'RunningBelowDesired',
      missingTasks(parts, oneMinute),
      1,
      'Fewer tasks run than desired for 10 minutes: tasks fail to start or keep stopping.',
      { evaluationPeriods: 10 },
    );

    const db = parts.database;
    alarm(
      'DatabaseCpu',
      db.metricCPUUtilization({ period: fiveMinutes }),
      t.databaseCpuPercent,
      `Database CPU reached ${t.databaseCpuPercent} % for 15 minutes.`,
      { evaluationPeriods: 3 },
    );
    alarm(
      'DatabaseFreeStorage',
      db.metricFreeStorageSpace({ period: fiveMinutes, statistic: 'Minimum' }),
      t.databaseFreeStorageBytes,
      `Free database storage fell below ${formatBytes(t.databaseFreeStorageBytes)} (storage autoscaling may be at its maximum).`,
      { comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD },
    );
    alarm(
      'DatabaseFreeableMemory',
      db.metricFreeableMemory({ period: fiveMinutes, statistic: 'Minimum' }),
      t.databaseFreeableMemoryBytes,
      `Freeable database memory fell below ${formatBytes(t.databaseFreeableMemoryBytes)} for 15 minutes.`,
      { comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD, evaluationPeriods: 3 },
    );
    alarm(
      'DatabaseConnections',
      db.metricDatabaseConnections({ period: fiveMinutes, statistic: 'Maximum' }),
      t.databaseConnections,
      `Database connections reached ${t.databaseConnections} (80 % of the instance class's max_connections).`,
      { evaluationPeriods: 2 },
    );
  }

  const dashboard = m.dashboard ? createDashboard(scope, prefix, parts, options) : undefined;
  return { alarms, alarmTopic, dashboard };
}

function formatBytes(bytes: number): string {
  if (Token.isUnresolved(bytes)) return 'the threshold';
  return bytes >= GIB ? `${Math.round((bytes / GIB) * 10) / 10} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

function containerInsights(parts: MonitoredParts, metricName: string, period: Duration): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: 'ECS/ContainerInsights',
    metricName,
    dimensionsMap: { ClusterName: parts.cluster.clusterName, ServiceName: parts.service.serviceName },
    statistic: 'Average',
    period,
  });
}

/** Desired minus running tasks (Container Insights); 0 when the service is whole. */
function missingTasks(parts: MonitoredParts, period: Duration): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: 'FILL(desired, 0) - FILL(running, 0)',
    usingMetrics: {
      desired: containerInsights(parts, 'DesiredTaskCount', period),
      running: containerInsights(parts, 'RunningTaskCount', period),
    },
    label: 'Tasks missing',
    period,
  });
}

/** A topic encrypted with its own key, which CloudWatch may use to publish; TLS-only. */
function createAlarmTopic(scope: Construct, email?: string): sns.Topic {
  const key = new kms.Key(scope, 'AlarmTopicKey', {
    description: 'Encrypts the alarm topic of the web service',
    enableKeyRotation: true,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  );
  const topic = new sns.Topic(scope, 'AlarmTopic', { masterKey: key, enforceSSL: true });
  if (email) topic.addSubscription(new subscriptions.EmailSubscription(email));
  return topic;
}

function createDashboard(
  scope: Construct,
  prefix: string,
  parts: MonitoredParts,
  options: ResolvedOptions,
): cloudwatch.Dashboard {
  const period = Duration.minutes(1);
  const lb = parts.loadBalancer.metrics;
  const tg = parts.targetGroup.metrics;
  const db = parts.database;
  const width = 8;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { dashboardName: prefix.slice(0, 255) });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Requests per minute',
      width,
      left: [lb.requestCount({ period, statistic: 'Sum' })],
    }),
    new cloudwatch.GraphWidget({
      title: 'Latency (s)',
      width,
      left: ['p50', 'p90', 'p99'].map((statistic) => tg.targetResponseTime({ period, statistic, label: statistic })),
    }),
    new cloudwatch.GraphWidget({
      title: 'Errors per minute',
      width,
      left: [
        tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period, statistic: 'Sum', label: 'Target 5xx' }),
        lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period, statistic: 'Sum', label: 'Load balancer 5xx' }),
        tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, { period, statistic: 'Sum', label: 'Target 4xx' }),
      ],
    }),
  );
  const capacity = options.scaling;
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Healthy and unhealthy targets',
      width,
      left: [tg.healthyHostCount({ period, label: 'Healthy' }), tg.unhealthyHostCount({ period, label: 'Unhealthy' })],
    }),
    new cloudwatch.GraphWidget({
      title: 'Tasks (against scaling limits)',
      width,
      left: [
        containerInsights(parts, 'RunningTaskCount', period).with({ label: 'Running' }),
        containerInsights(parts, 'DesiredTaskCount', period).with({ label: 'Desired' }),
      ],
      leftAnnotations:
        Token.isUnresolved(capacity.minCapacity) || Token.isUnresolved(capacity.maxCapacity)
          ? []
          : [
              { value: capacity.minCapacity, label: 'Min capacity', color: cloudwatch.Color.GREY },
              { value: capacity.maxCapacity, label: 'Max capacity', color: cloudwatch.Color.RED },
            ],
    }),
    new cloudwatch.GraphWidget({
      title: 'Service CPU and memory (%)',
      width,
      left: [
        parts.service.metricCpuUtilization({ period, label: 'CPU' }),
        parts.service.metricMemoryUtilization({ period, label: 'Memory' }),
      ],
      leftYAxis: { min: 0, max: 100 },
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Database CPU (%)',
      width: 6,
      left: [db.metricCPUUtilization({ period })],
      leftYAxis: { min: 0, max: 100 },
    }),
    new cloudwatch.GraphWidget({
      title: 'Database connections',
      width: 6,
      left: [db.metricDatabaseConnections({ period })],
    }),
    new cloudwatch.GraphWidget({
      title: 'Database free storage (bytes)',
      width: 6,
      left: [db.metricFreeStorageSpace({ period })],
    }),
    new cloudwatch.GraphWidget({
      title: 'Database IOPS',
      width: 6,
      left: [db.metric('ReadIOPS', { period, label: 'Read' }), db.metric('WriteIOPS', { period, label: 'Write' })],
    }),
  );
  return dashboard;
}

import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { AlarmDefinition, createAlarm, namePrefix } from './alarm';
import { AlarmThresholds } from './alarms-choice';
import { createDashboard } from './dashboard';
import { ServiceMetrics } from './metrics';
import { maxConnections } from '../database/capacity';
import { ProfileDefaults } from '../defaults';
import { Acknowledgements } from '../internal/acknowledge';
import { createKey } from '../internal/keys';
import { isKnown, PropChecker } from '../internal/validation';
import { MonitoringOptions } from '../props';

/** Every threshold, with the database ones in bytes and connections. */
export interface ResolvedThresholds {
  readonly target5xxCount: number;
  readonly loadBalancer5xxCount: number;
  readonly p99LatencySeconds: number;
  readonly unhealthyHostCount: number;
  readonly serviceCpuPercent: number;
  readonly serviceMemoryPercent: number;
  readonly databaseCpuPercent: number;
  readonly databaseFreeStorageBytes: number;
  readonly databaseFreeableMemoryBytes: number;
  readonly databaseConnections: number;
}

export interface ResolvedMonitoring {
  /** Undefined when there are no alarms. */
  readonly alarms?: {
    readonly topic?: sns.ITopic;
    readonly email?: string;
    readonly thresholds: ResolvedThresholds;
  };
  readonly dashboard: boolean;
  /** What happens to the alarm topic's key when the stack goes: the profile's (destroyed in dev). */
  readonly keyRemovalPolicy: RemovalPolicy;
  /** The capacity limits the dashboard draws. */
  readonly capacity: { readonly minCapacity: number; readonly maxCapacity: number };
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

export function resolveMonitoring(
  check: PropChecker,
  props: MonitoringOptions | undefined,
  defaults: ProfileDefaults,
  inputs: {
    /** The memory that sets the database's `max_connections` and freeable memory; undefined when unknown. */
    readonly databaseMemoryBytes?: number;
    /** The instance's allocated storage; undefined on Aurora (no free-storage alarm). */
    readonly databaseStorageGiB?: number;
    readonly capacity: { readonly minCapacity: number; readonly maxCapacity: number };
  },
): ResolvedMonitoring {
  const m = props ?? {};
  const alarms = m.alarms ?? defaults['MonitoringOptions.alarms'];
  check.matches('monitoring.alarms', alarms._email, EMAIL, 'be an e-mail address');
  const dashboard = m.dashboard ?? defaults['MonitoringOptions.dashboard'];
  const keyRemovalPolicy = defaults['Fixed.logsRemovalPolicy'];
  if (!alarms._enabled) return { dashboard, capacity: inputs.capacity, keyRemovalPolicy };
  return {
    keyRemovalPolicy,
    alarms: {
      topic: alarms._topic,
      email: alarms._email,
      thresholds: resolveThresholds(check, alarms._thresholds ?? {}, defaults, inputs),
    },
    dashboard,
    capacity: inputs.capacity,
  };
}

function resolveThresholds(
  check: PropChecker,
  t: AlarmThresholds,
  defaults: ProfileDefaults,
  inputs: { readonly databaseMemoryBytes?: number; readonly databaseStorageGiB?: number },
): ResolvedThresholds {
  const prop = (name: keyof AlarmThresholds) => `monitoring.alarms.thresholds.${name}`;
  check.integer(prop('target5xxCount'), t.target5xxCount, 1, 1_000_000);
  check.integer(prop('loadBalancer5xxCount'), t.loadBalancer5xxCount, 1, 1_000_000);
  check.integer(prop('unhealthyHostCount'), t.unhealthyHostCount, 1, 1000);
  for (const name of ['serviceCpuPercent', 'serviceMemoryPercent', 'databaseCpuPercent'] as const) {
    check.integer(prop(name), t[name], 1, 100);
  }
  check.refuse(
    isKnown(t.p99LatencySeconds) && !(t.p99LatencySeconds! > 0 && t.p99LatencySeconds! <= 60),
    `\`${prop('p99LatencySeconds')}\` must be above 0 and at most 60, got ${t.p99LatencySeconds}.`,
  );
  check.integer(prop('databaseFreeStorageGiB'), t.databaseFreeStorageGiB, 1, 65536);
  check.integer(prop('databaseFreeableMemoryMiB'), t.databaseFreeableMemoryMiB, 1, 4_194_304);
  check.integer(prop('databaseConnections'), t.databaseConnections, 1, 5000);

  const memory = inputs.databaseMemoryBytes;
  const storageGiB =
    inputs.databaseStorageGiB !== undefined && isKnown(inputs.databaseStorageGiB) ? inputs.databaseStorageGiB : 20;
  return {
    target5xxCount: t.target5xxCount ?? defaults['AlarmThresholds.target5xxCount'],
    loadBalancer5xxCount: t.loadBalancer5xxCount ?? defaults['AlarmThresholds.loadBalancer5xxCount'],
    p99LatencySeconds: t.p99LatencySeconds ?? defaults['AlarmThresholds.p99LatencySeconds'],
    unhealthyHostCount: t.unhealthyHostCount ?? defaults['AlarmThresholds.unhealthyHostCount'],
    serviceCpuPercent: t.serviceCpuPercent ?? defaults['AlarmThresholds.serviceCpuPercent'],
    serviceMemoryPercent: t.serviceMemoryPercent ?? defaults['AlarmThresholds.serviceMemoryPercent'],
    databaseCpuPercent: t.databaseCpuPercent ?? defaults['AlarmThresholds.databaseCpuPercent'],
    databaseFreeStorageBytes:
      t.databaseFreeStorageGiB !== undefined
        ? t.databaseFreeStorageGiB * GIB
        : Math.round(storageGiB * defaults['Fixed.databaseFreeStorageFraction'] * GIB),
    databaseFreeableMemoryBytes:
      t.databaseFreeableMemoryMiB !== undefined
        ? t.databaseFreeableMemoryMiB * MIB
        : memory !== undefined
          ? Math.round(memory * defaults['Fixed.databaseFreeableMemoryFraction'])
          : defaults['Fixed.databaseFreeableMemoryFallbackMiB'] * MIB,
    databaseConnections:
      t.databaseConnections ??
      (memory !== undefined
        ? Math.floor(maxConnections(memory) * defaults['Fixed.databaseConnectionsFraction'])
        : defaults['Fixed.databaseConnectionsFallback']),
  };
}

export interface MonitoringParts {
  readonly alarms: cloudwatch.Alarm[];
  readonly alarmTopic?: sns.ITopic;
  /** What every alarm does on ALARM and OK: notify the topic. */
  readonly alarmAction?: cloudwatch.IAlarmAction;
  readonly dashboard?: cloudwatch.Dashboard;
}

/** Creates the alarms (actions to the given topic, or a new encrypted one) and the dashboard. */
export function createMonitoring(
  scope: Construct,
  m: ResolvedMonitoring,
  metrics: ServiceMetrics,
  acks: Acknowledgements,
): MonitoringParts {
  const alarms: cloudwatch.Alarm[] = [];
  let alarmTopic: sns.ITopic | undefined;
  let action: cloudwatch.IAlarmAction | undefined;
  if (m.alarms) {
    alarmTopic = m.alarms.topic ?? createAlarmTopic(scope, acks, m.keyRemovalPolicy, m.alarms.email);
    action = new cwActions.SnsAction(alarmTopic);
    for (const definition of alarmDefinitions(metrics, m.alarms.thresholds)) {
      alarms.push(createAlarm(scope, definition, action));
    }
  }
  const dashboard = m.dashboard ? createDashboard(scope, namePrefix(scope), metrics, m.capacity) : undefined;
  return { alarms, alarmTopic, alarmAction: action, dashboard };
}

/** The alarms, one line of intent each: what fires, after how long. */
function alarmDefinitions(metrics: ServiceMetrics, t: ResolvedThresholds): AlarmDefinition[] {
  const fiveMinutes = Duration.minutes(5);
  const oneMinute = Duration.minutes(1);
  const below = cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD;
  const storage: AlarmDefinition[] = metrics.databaseFreeStorage
    ? [
        {
          id: 'DatabaseFreeStorage',
          metric: metrics.databaseFreeStorage.with({ period: fiveMinutes }),
          threshold: t.databaseFreeStorageBytes,
          description: `Free database storage fell below ${formatBytes(t.databaseFreeStorageBytes)} (storage autoscaling may be at its maximum).`,
          comparisonOperator: below,
        },
      ]
    : [];
  const capacity: AlarmDefinition[] = metrics.databaseCapacity
    ? [
        {
          id: 'DatabaseCapacity',
          metric: metrics.databaseCapacity.with({ period: fiveMinutes }),
          threshold: 90,
          description:
            'Aurora Serverless used 90 % or more of its maximum capacity for 15 minutes: raise maxCapacity before it limits the service.',
          evaluationPeriods: 3,
        },
      ]
    : [];
  const proxy: AlarmDefinition[] = metrics.proxy
    ? [
        {
          id: 'ProxyLoginFailed',
          metric: metrics.proxy.failedLogins.with({ period: fiveMinutes }),
          threshold: 1,
          description:
            'RDS Proxy refused a login in the last 5 minutes: a task presented an IAM token the proxy did not accept (the task role lost rds-db:connect, the app user lost rds_iam, or the app sent a password) or did not use TLS.',
        },
      ]
    : [];
  return [
    {
      id: 'Target5xx',
      metric: metrics.target5xx.with({ period: fiveMinutes }),
      threshold: t.target5xxCount,
      description: `The service answered ${t.target5xxCount} or more 5xx responses in 5 minutes.`,
    },
    {
      id: 'LoadBalancer5xx',
      metric: metrics.loadBalancer5xx.with({ period: fiveMinutes }),
      threshold: t.loadBalancer5xxCount,
      description: `The load balancer itself answered ${t.loadBalancer5xxCount} or more 5xx responses in 5 minutes (no healthy target, or targets failing).`,
    },
    {
      id: 'LatencyP99',
      metric: metrics.latency('p99', fiveMinutes),
      threshold: t.p99LatencySeconds,
      description: `p99 target response time reached ${t.p99LatencySeconds} s over 5 minutes, three times in a row.`,
      evaluationPeriods: 3,
    },
    {
      id: 'UnhealthyHosts',
      metric: metrics.unhealthyHosts.with({ period: oneMinute }),
      threshold: t.unhealthyHostCount,
      description: `${t.unhealthyHostCount} or more targets failed the load balancer health check for 5 minutes.`,
      evaluationPeriods: 5,
    },
    {
      id: 'ServiceCpu',
      metric: metrics.serviceCpu.with({ period: fiveMinutes }),
      threshold: t.serviceCpuPercent,
      description: `Service CPU reached ${t.serviceCpuPercent} % for 15 minutes: auto-scaling may be at its maximum.`,
      evaluationPeriods: 3,
    },
    {
      id: 'ServiceMemory',
      metric: metrics.serviceMemory.with({ period: fiveMinutes }),
      threshold: t.serviceMemoryPercent,
      description: `Service memory reached ${t.serviceMemoryPercent} % for 15 minutes.`,
      evaluationPeriods: 3,
    },
    {
      id: 'RunningBelowDesired',
      metric: metrics.missingTasks(oneMinute),
      threshold: 1,
      description: 'Fewer tasks run than desired for 10 minutes: tasks fail to start or keep stopping.',
      evaluationPeriods: 10,
    },
    {
      id: 'DatabaseCpu',
      metric: metrics.databaseCpu.with({ period: fiveMinutes }),
      threshold: t.databaseCpuPercent,
      description: `Database CPU reached ${t.databaseCpuPercent} % for 15 minutes.`,
      evaluationPeriods: 3,
    },
    ...storage,
    {
      id: 'DatabaseFreeableMemory',
      metric: metrics.databaseFreeableMemory.with({ period: fiveMinutes }),
      threshold: t.databaseFreeableMemoryBytes,
      description: `Freeable database memory fell below ${formatBytes(t.databaseFreeableMemoryBytes)} for 15 minutes.`,
      comparisonOperator: below,
      evaluationPeriods: 3,
    },
    {
      id: 'DatabaseConnections',
      metric: metrics.databaseConnections.with({ period: fiveMinutes }),
      threshold: t.databaseConnections,
      description: `Database connections reached ${t.databaseConnections} (80 % of the instance class's max_connections).`,
      evaluationPeriods: 2,
    },
    ...capacity,
    ...proxy,
  ];
}

function formatBytes(bytes: number): string {
  if (Token.isUnresolved(bytes)) return 'the threshold';
  return bytes >= GIB ? `${Math.round((bytes / GIB) * 10) / 10} GiB` : `${Math.round(bytes / MIB)} MiB`;
}

/** A topic encrypted with its own key, which CloudWatch may use to publish; TLS-only. */
function createAlarmTopic(
  scope: Construct,
  acks: Acknowledgements,
  removalPolicy: RemovalPolicy,
  email?: string,
): sns.Topic {
  const key = createKey(scope, 'AlarmTopicKey', {
    description: 'Encrypts the alarm topic of the web service',
    removalPolicy,
    acks,
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

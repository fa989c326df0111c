import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { EnvironmentProfile } from './profile';

/** Tag key the construct puts on its resources, with the profile as value. */
export const PROFILE_TAG = 'fargate-web-service:profile';

/** The defaults a profile sets. Internal: every value here is reachable through a prop. */
export interface ProfileDefaults {
  readonly maxAzs: number;
  readonly natGateways: number;
  readonly vpcFlowLogs: boolean;
  readonly taskCpu: number;
  readonly taskMemoryMiB: number;
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  readonly maxImageCount: number;
  readonly untaggedImageExpiry: Duration;
  readonly imageTagImmutable: boolean;
  readonly databaseInstanceType: ec2.InstanceType;
  readonly multiAz: boolean;
  readonly allocatedStorageGiB: number;
  readonly maxAllocatedStorageGiB: number;
  readonly backupRetention: Duration;
  readonly deletionProtection: boolean;
  readonly databaseRemovalPolicy: RemovalPolicy;
  readonly accessLogs: boolean;
  readonly loadBalancerDeletionProtection: boolean;
  readonly webAcl: boolean;
  readonly backupPlan: boolean;
  readonly rotation: boolean;
  readonly dashboard: boolean;
  readonly alarmThresholds: ProfileAlarmThresholds;
}

/** The alarm thresholds a profile sets; the database ones derive from the instance class and storage instead. */
export interface ProfileAlarmThresholds {
  readonly target5xxCount: number;
  readonly loadBalancer5xxCount: number;
  readonly p99LatencySeconds: number;
  readonly unhealthyHostCount: number;
  readonly serviceCpuPercent: number;
  readonly serviceMemoryPercent: number;
  readonly databaseCpuPercent: number;
}

/** One table of defaults per profile; every part reads its defaults from here. */
export const PROFILE_DEFAULTS: Record<EnvironmentProfile, ProfileDefaults> = {
  [EnvironmentProfile.DEV]: {
    maxAzs: 2,
    natGateways: 0,
    vpcFlowLogs: true,
    taskCpu: 256,
    taskMemoryMiB: 512,
    minCapacity: 1,
    maxCapacity: 2,
    logRetention: logs.RetentionDays.ONE_WEEK,
    removalPolicy: RemovalPolicy.DESTROY,
    maxImageCount: 10,
    untaggedImageExpiry: Duration.days(1),
    imageTagImmutable: false,
    databaseInstanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    multiAz: false,
    allocatedStorageGiB: 20,
    maxAllocatedStorageGiB: 50,
    backupRetention: Duration.days(1),
    deletionProtection: false,
    databaseRemovalPolicy: RemovalPolicy.DESTROY,
    accessLogs: false,
    loadBalancerDeletionProtection: false,
    webAcl: false,
    backupPlan: false,
    // Rotation needs a Secrets Manager endpoint in a VPC without NAT (7.30 USD a month) and the dashboard costs
    // 3 USD: together they would put dev 25 % above the cheapest stack that runs the service (see README, Cost).
    rotation: false,
    dashboard: false,
    alarmThresholds: {
      target5xxCount: 20,
      loadBalancer5xxCount: 20,
      p99LatencySeconds: 3,
      unhealthyHostCount: 1,
      serviceCpuPercent: 90,
      serviceMemoryPercent: 90,
      databaseCpuPercent: 90,
    },
  },
  [EnvironmentProfile.PROD]: {
    maxAzs: 2,
    natGateways: 2,
    vpcFlowLogs: true,
    taskCpu: 512,
    taskMemoryMiB: 1024,
    minCapacity: 2,
    maxCapacity: 10,
    logRetention: logs.RetentionDays.ONE_YEAR,
    removalPolicy: RemovalPolicy.RETAIN,
    maxImageCount: 30,
    untaggedImageExpiry: Duration.days(7),
    imageTagImmutable: true,
    databaseInstanceType: ec2.InstanceType.of(ec2.InstanceClass.M7G, ec2.InstanceSize.LARGE),
    multiAz: true,
    allocatedStorageGiB: 100,
    maxAllocatedStorageGiB: 1000,
    backupRetention: Duration.days(14),
    deletionProtection: true,
    databaseRemovalPolicy: RemovalPolicy.SNAPSHOT,
    accessLogs: true,
    loadBalancerDeletionProtection: true,
    webAcl: true,
    backupPlan: true,
    rotation: true,
    dashboard: true,
    alarmThresholds: {
      target5xxCount: 10,
      loadBalancer5xxCount: 10,
      p99LatencySeconds: 2,
      unhealthyHostCount: 1,
      serviceCpuPercent: 85,
      serviceMemoryPercent: 85,
      databaseCpuPercent: 80,
    },
  },
};

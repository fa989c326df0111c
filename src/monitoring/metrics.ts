import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';
import { DatabaseServer } from '../database/server';

/** What the alarms and the dashboard watch. */
export interface MonitoredParts {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The second target group of a traffic-shifting strategy: target metrics then add both up. */
  readonly alternateTargetGroup?: elbv2.ApplicationTargetGroup;
  readonly cluster: ecs.ICluster;
  readonly service: ecs.FargateService;
  /** The instance or the Aurora cluster. */
  readonly database: DatabaseServer;
  /** Whether the cluster is Aurora Serverless v2: its capacity in use is then watched. */
  readonly serverless?: boolean;
  /** The RDS Proxy in front of the database, if any: its own connection metrics. */
  readonly proxy?: rds.DatabaseProxy;
}

/** The RDS Proxy's own metrics (namespace AWS/RDS, dimension ProxyName). */
export interface ProxyMetrics {
  /** Connections from the tasks to the proxy, maximum. */
  readonly clientConnections: cloudwatch.Metric;
  /** Connections from the proxy to the database, maximum. */
  readonly databaseConnections: cloudwatch.Metric;
  /** Client logins the proxy refused (IAM token or TLS), summed. */
  readonly failedLogins: cloudwatch.Metric;
}

/** A metric of the targets: one target group's, or the sum over both with a traffic-shifting strategy. */
export type TargetMetric = cloudwatch.Metric | cloudwatch.MathExpression;

/** One target group's own 5xx and requests: with two target groups, each version is judged on its own requests. */
export interface TargetGroupMetrics {
  /** `Blue` for the target group that starts as production, `Green` for the alternate one. */
  readonly name: 'Blue' | 'Green';
  readonly target5xx: cloudwatch.Metric;
  readonly requests: cloudwatch.Metric;
}

/**
 * The service's metrics, each defined once: alarms and dashboard take them at the period they need (`with`), so a
 * metric's namespace, dimensions and statistic live in one place.
 */
export class ServiceMetrics {
  public readonly target5xx: TargetMetric;
  public readonly target4xx: TargetMetric;
  public readonly loadBalancer5xx: cloudwatch.Metric;
  public readonly requests: cloudwatch.Metric;
  /** Requests that reached the tasks (the target group's count). */
  public readonly targetRequests: TargetMetric;
  public readonly healthyHosts: TargetMetric;
  public readonly unhealthyHosts: TargetMetric;
  public readonly serviceCpu: cloudwatch.Metric;
  public readonly serviceMemory: cloudwatch.Metric;
  public readonly runningTasks: cloudwatch.Metric;
  public readonly desiredTasks: cloudwatch.Metric;
  public readonly databaseCpu: cloudwatch.Metric;
  /** Free storage of the instance; none on Aurora, whose storage grows by itself. */
  public readonly databaseFreeStorage?: cloudwatch.Metric;
  /** Aurora Serverless v2: the share of the maximum capacity in use (ACUUtilization). */
  public readonly databaseCapacity?: cloudwatch.Metric;
  public readonly databaseFreeableMemory: cloudwatch.Metric;
  public readonly databaseConnections: cloudwatch.Metric;
  public readonly databaseReadIops: cloudwatch.Metric;
  public readonly databaseWriteIops: cloudwatch.Metric;
  /** Each target group's own metrics (one, or two with a traffic-shifting strategy). */
  public readonly targetGroups: TargetGroupMetrics[];
  /** The RDS Proxy's metrics, when there is one. */
  public readonly proxy?: ProxyMetrics;

  constructor(private readonly parts: MonitoredParts) {
    const lb = parts.loadBalancer.metrics;
    const db = parts.database;
    const groups = [parts.targetGroup, ...(parts.alternateTargetGroup ? [parts.alternateTargetGroup] : [])];
    // With two target groups, ECS moves traffic from one to the other at every deployment: add them up.
    // Ids are unique per metric, so expressions that combine several of these stay valid.
    const targets = (
      id: string,
      label: string,
      metric: (tg: elbv2.IApplicationTargetGroupMetrics) => cloudwatch.Metric,
    ) => {
      if (groups.length === 1) return metric(groups[0].metrics);
      return new cloudwatch.MathExpression({
        expression: `FILL(${id}Blue, 0) + FILL(${id}Green, 0)`,
        usingMetrics: { [`${id}Blue`]: metric(groups[0].metrics), [`${id}Green`]: metric(groups[1].metrics) },
        label,
      });
    };
    this.targetGroups = groups.map((tg, i) => ({
      name: i === 0 ? 'Blue' : 'Green',
      target5xx: tg.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum' }),
      requests: tg.metrics.requestCount({ statistic: 'Sum' }),
    }));
    this.target5xx = targets('target5xx', 'Target 5xx', (tg) =>
      tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum' }),
    );
    this.target4xx = targets('target4xx', 'Target 4xx', (tg) =>
      tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, { statistic: 'Sum' }),
    );
    this.loadBalancer5xx = lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { statistic: 'Sum' });
    this.requests = lb.requestCount({ statistic: 'Sum' });
    this.targetRequests = targets('targetRequests', 'Target requests', (tg) => tg.requestCount({ statistic: 'Sum' }));
    this.healthyHosts = targets('healthyHosts', 'Healthy targets', (tg) => tg.healthyHostCount());
    this.unhealthyHosts = targets('unhealthyHosts', 'Unhealthy targets', (tg) =>
      tg.unhealthyHostCount({ statistic: 'Maximum' }),
    );
    this.serviceCpu = parts.service.metricCpuUtilization();
    this.serviceMemory = parts.service.metricMemoryUtilization();
    this.runningTasks = this.containerInsights('RunningTaskCount');
    this.desiredTasks = this.containerInsights('DesiredTaskCount');
    this.databaseCpu = db.metricCPUUtilization();
    if (db instanceof rds.DatabaseInstance) {
      this.databaseFreeStorage = db.metricFreeStorageSpace({ statistic: 'Minimum' });
    } else if (parts.serverless) {
      this.databaseCapacity = db.metricACUUtilization({ statistic: 'Maximum' });
    }
    this.databaseFreeableMemory = db.metricFreeableMemory({ statistic: 'Minimum' });
    this.databaseConnections = db.metricDatabaseConnections({ statistic: 'Maximum' });
    // An Aurora cluster reports its shared volume's I/O.
    const aurora = db instanceof rds.DatabaseCluster;
    this.databaseReadIops = db.metric(aurora ? 'VolumeReadIOPs' : 'ReadIOPS');
    this.databaseWriteIops = db.metric(aurora ? 'VolumeWriteIOPs' : 'WriteIOPS');
    if (parts.proxy) {
      const proxyMetric = (metricName: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace: 'AWS/RDS',
          metricName,
          dimensionsMap: { ProxyName: parts.proxy!.dbProxyName },
          statistic,
        });
      this.proxy = {
        clientConnections: proxyMetric('ClientConnections', 'Maximum'),
        databaseConnections: proxyMetric('DatabaseConnections', 'Maximum'),
        failedLogins: proxyMetric('ClientConnectionsSetupFailedAuth', 'Sum'),
      };
    }
  }

  /** Target response time at a percentile (`p50`, `p99`). */
  public latency(statistic: string, period: Duration): cloudwatch.Metric {
    // A percentile cannot be added up: with two target groups, the load balancer's own figure covers both.
    return this.parts.alternateTargetGroup
      ? this.parts.loadBalancer.metrics.targetResponseTime({ statistic, period })
      : this.parts.targetGroup.metrics.targetResponseTime({ statistic, period });
  }

  /** Desired minus running tasks (Container Insights); 0 when the service is whole. */
  public missingTasks(period: Duration): cloudwatch.MathExpression {
    return new cloudwatch.MathExpression({
      expression: 'FILL(desired, 0) - FILL(running, 0)',
      usingMetrics: { desired: this.desiredTasks.with({ period }), running: this.runningTasks.with({ period }) },
      label: 'Tasks missing',
      period,
    });
  }

  private containerInsights(metricName: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'ECS/ContainerInsights',
      metricName,
      dimensionsMap: { ClusterName: this.parts.cluster.clusterName, ServiceName: this.parts.service.serviceName },
      statistic: 'Average',
    });
  }
}

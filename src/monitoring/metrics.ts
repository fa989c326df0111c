import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as rds from 'aws-cdk-lib/aws-rds';

/** What the alarms and the dashboard watch. */
export interface MonitoredParts {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly cluster: ecs.ICluster;
  readonly service: ecs.FargateService;
  readonly database: rds.DatabaseInstance;
}

/**
 * The service's metrics, each defined once: alarms and dashboard take them at the period they need (`with`), so a
 * metric's namespace, dimensions and statistic live in one place.
 */
export class ServiceMetrics {
  public readonly target5xx: cloudwatch.Metric;
  public readonly target4xx: cloudwatch.Metric;
  public readonly loadBalancer5xx: cloudwatch.Metric;
  public readonly requests: cloudwatch.Metric;
  /** Requests that reached the tasks (the target group's count). */
  public readonly targetRequests: cloudwatch.Metric;
  public readonly healthyHosts: cloudwatch.Metric;
  public readonly unhealthyHosts: cloudwatch.Metric;
  public readonly serviceCpu: cloudwatch.Metric;
  public readonly serviceMemory: cloudwatch.Metric;
  public readonly runningTasks: cloudwatch.Metric;
  public readonly desiredTasks: cloudwatch.Metric;
  public readonly databaseCpu: cloudwatch.Metric;
  public readonly databaseFreeStorage: cloudwatch.Metric;
  public readonly databaseFreeableMemory: cloudwatch.Metric;
  public readonly databaseConnections: cloudwatch.Metric;
  public readonly databaseReadIops: cloudwatch.Metric;
  public readonly databaseWriteIops: cloudwatch.Metric;

  constructor(private readonly parts: MonitoredParts) {
    const lb = parts.loadBalancer.metrics;
    const tg = parts.targetGroup.metrics;
    const db = parts.database;
    this.target5xx = tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { statistic: 'Sum' });
    this.target4xx = tg.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_4XX_COUNT, { statistic: 'Sum' });
    this.loadBalancer5xx = lb.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { statistic: 'Sum' });
    this.requests = lb.requestCount({ statistic: 'Sum' });
    this.targetRequests = tg.requestCount({ statistic: 'Sum' });
    this.healthyHosts = tg.healthyHostCount();
    this.unhealthyHosts = tg.unhealthyHostCount({ statistic: 'Maximum' });
    this.serviceCpu = parts.service.metricCpuUtilization();
    this.serviceMemory = parts.service.metricMemoryUtilization();
    this.runningTasks = this.containerInsights('RunningTaskCount');
    this.desiredTasks = this.containerInsights('DesiredTaskCount');
    this.databaseCpu = db.metricCPUUtilization();
    this.databaseFreeStorage = db.metricFreeStorageSpace({ statistic: 'Minimum' });
    this.databaseFreeableMemory = db.metricFreeableMemory({ statistic: 'Minimum' });
    this.databaseConnections = db.metricDatabaseConnections({ statistic: 'Maximum' });
    this.databaseReadIops = db.metric('ReadIOPS');
    this.databaseWriteIops = db.metric('WriteIOPS');
  }

  /** Target response time at a percentile (`p50`, `p99`). */
  public latency(statistic: string, period: Duration): cloudwatch.Metric {
    return this.parts.targetGroup.metrics.targetResponseTime({ statistic, period });
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

import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { ServiceMetrics, TargetMetric } from './metrics';

/** Requests, latency, errors, hosts, tasks against the scaling limits, CPU and memory, and the database. */
export function createDashboard(
  scope: Construct,
  name: string,
  metrics: ServiceMetrics,
  capacity: { readonly minCapacity: number; readonly maxCapacity: number },
): cloudwatch.Dashboard {
  const period = Duration.minutes(1);
  const at = (metric: TargetMetric, label?: string): cloudwatch.IMetric =>
    metric.with({ period, ...(label ? { label } : {}) });
  const width = 8;
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', { dashboardName: name.slice(0, 255) });
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Requests per minute', width, left: [at(metrics.requests)] }),
    new cloudwatch.GraphWidget({
      title: 'Latency (s)',
      width,
      left: ['p50', 'p90', 'p99'].map((statistic) => metrics.latency(statistic, period).with({ label: statistic })),
    }),
    new cloudwatch.GraphWidget({
      title: 'Errors per minute',
      width,
      left: [
        at(metrics.target5xx, 'Target 5xx'),
        at(metrics.loadBalancer5xx, 'Load balancer 5xx'),
        at(metrics.target4xx, 'Target 4xx'),
      ],
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Healthy and unhealthy targets',
      width,
      left: [at(metrics.healthyHosts, 'Healthy'), at(metrics.unhealthyHosts, 'Unhealthy')],
    }),
    new cloudwatch.GraphWidget({
      title: 'Tasks (against scaling limits)',
      width,
      left: [at(metrics.runningTasks, 'Running'), at(metrics.desiredTasks, 'Desired')],
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
      left: [at(metrics.serviceCpu, 'CPU'), at(metrics.serviceMemory, 'Memory')],
      leftYAxis: { min: 0, max: 100 },
    }),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({
      title: 'Database CPU (%)',
      width: 6,
      left: [at(metrics.databaseCpu)],
      leftYAxis: { min: 0, max: 100 },
    }),
    new cloudwatch.GraphWidget({ title: 'Database connections', width: 6, left: [at(metrics.databaseConnections)] }),
    metrics.databaseFreeStorage
      ? new cloudwatch.GraphWidget({
          title: 'Database free storage (bytes)',
          width: 6,
          left: [at(metrics.databaseFreeStorage)],
        })
      : metrics.databaseCapacity
        ? new cloudwatch.GraphWidget({
            title: 'Aurora capacity used (% of maximum ACUs)',
            width: 6,
            left: [at(metrics.databaseCapacity)],
            leftYAxis: { min: 0, max: 100 },
          })
        : new cloudwatch.GraphWidget({
            title: 'Database freeable memory (bytes)',
            width: 6,
            left: [at(metrics.databaseFreeableMemory)],
          }),
    new cloudwatch.GraphWidget({
      title: 'Database IOPS',
      width: 6,
      left: [at(metrics.databaseReadIops, 'Read'), at(metrics.databaseWriteIops, 'Write')],
    }),
  );
  if (metrics.proxy) {
    dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'RDS Proxy connections (tasks to proxy, proxy to database)',
        width: 12,
        left: [
          at(metrics.proxy.clientConnections, 'From the tasks'),
          at(metrics.proxy.databaseConnections, 'To the database'),
        ],
      }),
      new cloudwatch.GraphWidget({
        title: 'RDS Proxy refused logins',
        width: 12,
        left: [at(metrics.proxy.failedLogins, 'Refused')],
      }),
    );
  }
  return dashboard;
}

import { Names } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';

/** One alarm of the construct: what it watches, when it fires, and why in words. */
export interface AlarmDefinition {
  readonly id: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly description: string;
  /** Periods evaluated; 1 when not given. */
  readonly evaluationPeriods?: number;
  /** Breaching periods among them that fire the alarm; all of them when not given. */
  readonly datapointsToAlarm?: number;
  /** How the metric compares with the threshold; at or above when not given. */
  readonly comparisonOperator?: cloudwatch.ComparisonOperator;
}

/** Names (alarms, the dashboard) start with the construct's unique path, so two services never clash. */
export function namePrefix(scope: Construct): string {
  return Names.uniqueResourceName(scope, { maxLength: 180, separator: '-' });
}

/** Creates the alarm `<id>Alarm` named `<prefix>-<id>`; missing data never breaches; `action` on ALARM and OK. */
export function createAlarm(
  scope: Construct,
  definition: AlarmDefinition,
  action?: cloudwatch.IAlarmAction,
): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, `${definition.id}Alarm`, {
    alarmName: `${namePrefix(scope)}-${definition.id}`,
    alarmDescription: definition.description,
    metric: definition.metric,
    threshold: definition.threshold,
    evaluationPeriods: definition.evaluationPeriods ?? 1,
    datapointsToAlarm: definition.datapointsToAlarm,
    comparisonOperator:
      definition.comparisonOperator ?? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  if (action) {
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
  }
  return alarm;
}

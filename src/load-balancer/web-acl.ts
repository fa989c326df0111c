import { ArnFormat, Names, Stack } from 'aws-cdk-lib';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { LogGroupFactory } from '../logging';

const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesAmazonIpReputationList',
];

/**
 * A regional web ACL: AWS managed rule groups for common exploits, bad inputs and bad IPs, a per-IP rate limit, and
 * logging to an encrypted log group.
 */
export function createWebAcl(
  scope: Construct,
  options: { readonly rateLimit: number; readonly commonRulesToCount: string[] },
  logGroups: LogGroupFactory,
): wafv2.CfnWebACL {
  const { rateLimit, commonRulesToCount } = options;
  const metricPrefix = Names.uniqueId(scope).slice(-100);
  const visibility = (name: string) => ({
    cloudWatchMetricsEnabled: true,
    sampledRequestsEnabled: true,
    metricName: `${metricPrefix}-${name}`,
  });
  const rules: wafv2.CfnWebACL.RuleProperty[] = MANAGED_RULE_GROUPS.map((name, priority) => ({
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name,
        ...(name === 'AWSManagedRulesCommonRuleSet' && commonRulesToCount.length > 0
          ? { ruleActionOverrides: commonRulesToCount.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
          : {}),
      },
    },
    visibilityConfig: visibility(name),
  }));
  rules.push({
    name: 'RateLimitPerIp',
    priority: rules.length,
    action: { block: {} },
    statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP' } },
    visibilityConfig: visibility('RateLimitPerIp'),
  });
  const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: visibility('WebAcl'),
    rules,
  });
  // WAF writes only to log groups whose name starts with aws-waf-logs-.
  const logGroupName = `aws-waf-logs-${Names.uniqueResourceName(webAcl, { maxLength: 60 })}`;
  const logGroup = logGroups.createLogGroup(scope, 'WebAclLogs', logGroupName);
  const logging = new wafv2.CfnLoggingConfiguration(scope, 'WebAclLogging', {
    resourceArn: webAcl.attrArn,
    logDestinationConfigs: [
      Stack.of(scope).formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: logGroupName,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ],
  });
  logging.node.addDependency(logGroup);
  return webAcl;
}

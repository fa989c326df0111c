import { ArnFormat, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { createLogGroup } from './logging';
import { ResolvedOptions } from './resolve-options';

/** The parts of the load balancer the construct exposes. */
export interface LoadBalancerParts {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The listener that forwards to the service: HTTPS when there is a certificate, else HTTP. */
  readonly listener: elbv2.ApplicationListener;
  /** The HTTP listener on port 80: it forwards, or redirects to HTTPS when there is a certificate. */
  readonly httpListener: elbv2.ApplicationListener;
  readonly certificate?: acm.ICertificate;
  readonly url: string;
  readonly accessLogsBucket?: s3.IBucket;
}

/**
 * Creates the Application Load Balancer, its target group with the configured health check, and its listeners:
 * HTTP forwarding, or HTTPS with a modern TLS policy and HTTP redirecting to it.
 */
export function createLoadBalancer(
  scope: Construct,
  vpc: ec2.IVpc,
  logsKey: kms.IKey,
  options: ResolvedOptions,
): LoadBalancerParts {
  const lb = options.loadBalancer;
  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LB', {
    vpc,
    internetFacing: lb.internetFacing,
    vpcSubnets: lb.internetFacing ? { subnetType: ec2.SubnetType.PUBLIC } : options.network.taskSubnets,
    dropInvalidHeaderFields: true,
    idleTimeout: lb.idleTimeout,
    deletionProtection: lb.deletionProtection,
  });
  const accessLogsBucket = lb.accessLogs ? (lb.accessLogsBucket ?? createAccessLogsBucket(scope)) : undefined;
  if (accessLogsBucket) {
    loadBalancer.logAccessLogs(accessLogsBucket, 'alb');
  }
  const webAclArn = lb.webAcl ? createWebAcl(scope, lb.webAclRateLimit, logsKey, options).attrArn : lb.webAclArn;
  if (webAclArn !== undefined) {
    new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', {
      resourceArn: loadBalancer.loadBalancerArn,
      webAclArn,
    });
  }
  const hc = lb.healthCheck;
  const targetGroup = new elbv2.ApplicationTargetGroup(scope, 'TargetGroup', {
    vpc,
    port: options.container.port,
    protocol: elbv2.ApplicationProtocol.HTTP,
    targetType: elbv2.TargetType.IP,
    deregistrationDelay: lb.deregistrationDelay,
    healthCheck: {
      path: hc.path,
      interval: hc.interval,
      timeout: hc.timeout,
      healthyThresholdCount: hc.healthyThresholdCount,
      unhealthyThresholdCount: hc.unhealthyThresholdCount,
      healthyHttpCodes: hc.healthyHttpCodes,
    },
  });

  const certificate =
    lb.certificate ??
    (lb.domainName !== undefined
      ? new acm.Certificate(scope, 'Certificate', {
          domainName: lb.domainName,
          validation: acm.CertificateValidation.fromDns(lb.hostedZone),
        })
      : undefined);

  let listener: elbv2.ApplicationListener;
  let httpListener: elbv2.ApplicationListener;
  if (certificate) {
    listener = loadBalancer.addListener('HttpsListener', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultTargetGroups: [targetGroup],
    });
    httpListener = loadBalancer.addListener('HttpListener', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultAction: elbv2.ListenerAction.redirect({ protocol: 'HTTPS', port: '443', permanent: true }),
    });
  } else {
    listener = loadBalancer.addListener('HttpListener', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultTargetGroups: [targetGroup],
    });
    httpListener = listener;
  }

  if (lb.domainName !== undefined && lb.hostedZone) {
    new route53.ARecord(scope, 'AliasRecord', {
      zone: lb.hostedZone,
      recordName: lb.domainName,
      target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(loadBalancer)),
    });
  }

  const host = lb.domainName ?? loadBalancer.loadBalancerDnsName;
  const url = certificate ? `https://${host}` : `http://${host}`;
  return { loadBalancer, targetGroup, listener, httpListener, certificate, url, accessLogsBucket };
}

/**
 * The access logs bucket: SSE-S3 (the only encryption the load balancer can write to), TLS only, no public access,
 * versioned, objects expire after 90 days. It is retained with the stack's removal: logs are evidence.
 */
function createAccessLogsBucket(scope: Construct): s3.Bucket {
  return new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(90), noncurrentVersionExpiration: Duration.days(7) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

const MANAGED_RULE_GROUPS = [
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesAmazonIpReputationList',
];

/** A regional web ACL: AWS managed rule groups for common exploits, bad inputs and bad IPs, and a per-IP rate limit. */
function createWebAcl(
  scope: Construct,
  rateLimit: number,
  logsKey: kms.IKey,
  options: ResolvedOptions,
): wafv2.CfnWebACL {
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
    statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
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
  const logGroup = createLogGroup(scope, 'WebAclLogs', logsKey, options, logGroupName);
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

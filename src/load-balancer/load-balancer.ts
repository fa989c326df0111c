import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { createAccessLogsBucket } from './access-logs';
import { AccessLogs, WebAcl } from './choices';
import { addTrafficShift, TrafficShiftParts } from './traffic-shift';
import { createWebAcl } from './web-acl';
import { ProfileDefaults } from '../defaults';
import { Acknowledgements, inCompliancePacks } from '../internal/acknowledge';
import { PropChecker, Resolved } from '../internal/validation';
import { LogGroupFactory } from '../logging';
import { EnvironmentProfile } from '../profile';
import { HealthCheckOptions, LoadBalancerOptions } from '../props';

export type ResolvedHealthCheck = Resolved<HealthCheckOptions>;
export type ResolvedLoadBalancer = Resolved<Omit<LoadBalancerOptions, 'healthCheck'>> & {
  readonly healthCheck: ResolvedHealthCheck;
  readonly webAclRateLimit: number;
  readonly webAclCommonRulesToCount: string[];
  /** How long the bucket the construct creates keeps access logs. */
  readonly accessLogsExpiry: Duration;
  readonly profile: EnvironmentProfile;
};

const HTTP_CODES = /^([2-4][0-9]{2})(-[2-4][0-9]{2}|(,[2-4][0-9]{2})*)$/;
const DOMAIN_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const REGIONAL_WEB_ACL_ARN = /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/.+/;

export function resolveLoadBalancer(
  check: PropChecker,
  scope: Construct,
  props: LoadBalancerOptions | undefined,
  defaults: ProfileDefaults,
  profile: EnvironmentProfile,
): ResolvedLoadBalancer {
  const lb = props ?? {};
  const https = lb.https ?? defaults['LoadBalancerOptions.https'];
  const plainHttp = !https._certificate && !https._domain;
  check.refuse(
    profile === EnvironmentProfile.PROD && plainHttp && !https._terminatedUpstream,
    '`loadBalancer.https` is required in prod: give Https.fromDomain(domainName, hostedZone) or Https.fromCertificate(certificate). For a service behind another TLS terminator (a CDN or proxy), choose Https.terminatedUpstream().',
  );
  if (https._terminatedUpstream) {
    Annotations.of(scope).addWarningV2(
      'cdk-fargate-web-service-with-database:tlsTerminatedUpstream',
      'The load balancer serves plain HTTP (Https.terminatedUpstream()): make sure only your TLS terminator can reach it, and that clients never call it directly.',
    );
  }
  if (https._domain) {
    check.matches(
      'loadBalancer.https',
      https._domain.domainName,
      DOMAIN_NAME,
      'be a fully qualified domain name such as "api.example.com"',
    );
  }
  const webAcl = lb.webAcl ?? defaults['LoadBalancerOptions.webAcl'];
  check.matches(
    'loadBalancer.webAcl',
    webAcl._arn,
    REGIONAL_WEB_ACL_ARN,
    'be the ARN of a regional WAFv2 web ACL (arn:aws:wafv2:<region>:<account>:regional/webacl/...)',
  );
  check.integer('loadBalancer.webAcl.rateLimit', webAcl._managed?.rateLimit, 100, 2_000_000_000);
  for (const rule of webAcl._managed?.commonRulesToCount ?? []) {
    check.matches(
      'loadBalancer.webAcl.commonRulesToCount',
      rule,
      /^[A-Za-z0-9_-]{1,128}$/,
      'name rules of AWSManagedRulesCommonRuleSet, such as "SizeRestrictions_BODY"',
    );
  }
  check.duration('loadBalancer.deregistrationDelay', lb.deregistrationDelay, 0, 3600);
  check.duration('loadBalancer.idleTimeout', lb.idleTimeout, 1, 4000);
  return {
    internetFacing: lb.internetFacing ?? defaults['LoadBalancerOptions.internetFacing'],
    https,
    healthCheck: resolveHealthCheck(check, lb.healthCheck ?? {}, defaults),
    deregistrationDelay: lb.deregistrationDelay ?? defaults['LoadBalancerOptions.deregistrationDelay'],
    idleTimeout: lb.idleTimeout ?? defaults['LoadBalancerOptions.idleTimeout'],
    accessLogs: resolveAccessLogs(check, scope, lb.accessLogs, defaults['LoadBalancerOptions.accessLogs']),
    deletionProtection: lb.deletionProtection ?? defaults['LoadBalancerOptions.deletionProtection'],
    webAcl,
    webAclRateLimit: webAcl._managed?.rateLimit ?? defaults['ManagedWebAclOptions.rateLimit'],
    webAclCommonRulesToCount: webAcl._managed?.commonRulesToCount ?? [],
    accessLogsExpiry: defaults['Fixed.accessLogsExpiry'],
    profile,
  };
}

function resolveHealthCheck(
  check: PropChecker,
  hc: HealthCheckOptions,
  defaults: ProfileDefaults,
): ResolvedHealthCheck {
  check.matches(
    'loadBalancer.healthCheck.path',
    hc.path,
    /^\/[\x21-\x7e]*$/,
    'be a path that starts with "/" and contains no spaces',
  );
  check.duration('loadBalancer.healthCheck.interval', hc.interval, 5, 300);
  check.duration('loadBalancer.healthCheck.timeout', hc.timeout, 2, 120);
  check.integer('loadBalancer.healthCheck.healthyThresholdCount', hc.healthyThresholdCount, 2, 10);
  check.integer('loadBalancer.healthCheck.unhealthyThresholdCount', hc.unhealthyThresholdCount, 2, 10);
  check.matches(
    'loadBalancer.healthCheck.healthyHttpCodes',
    hc.healthyHttpCodes,
    HTTP_CODES,
    'be codes from 200 to 499 as a list ("200,204") or a range ("200-299")',
  );
  const interval = hc.interval ?? defaults['HealthCheckOptions.interval'];
  const timeout = hc.timeout ?? defaults['HealthCheckOptions.timeout'];
  check.refuse(
    !interval.isUnresolved() && !timeout.isUnresolved() && timeout.toSeconds() >= interval.toSeconds(),
    `\`loadBalancer.healthCheck.timeout\` must be shorter than \`loadBalancer.healthCheck.interval\`, got ${timeout.toHumanString()} >= ${interval.toHumanString()}.`,
  );
  return {
    path: hc.path ?? defaults['HealthCheckOptions.path'],
    interval,
    timeout,
    healthyThresholdCount: hc.healthyThresholdCount ?? defaults['HealthCheckOptions.healthyThresholdCount'],
    unhealthyThresholdCount: hc.unhealthyThresholdCount ?? defaults['HealthCheckOptions.unhealthyThresholdCount'],
    healthyHttpCodes: hc.healthyHttpCodes ?? defaults['HealthCheckOptions.healthyHttpCodes'],
  };
}

/**
 * The access-log bucket policy names the region's Elastic Load Balancing account, so access logs need a stack with a
 * concrete region. A profile default gives way (with a warning); an explicit request is an error.
 */
function resolveAccessLogs(
  check: PropChecker,
  scope: Construct,
  requested: AccessLogs | undefined,
  profileDefault: AccessLogs,
): AccessLogs {
  const accessLogs = requested ?? profileDefault;
  if (!accessLogs._enabled || !Token.isUnresolved(Stack.of(scope).region)) return accessLogs;
  check.fail(
    `\`loadBalancer.accessLogs\`${requested ? '' : ' (on by default in prod)'} needs a stack with a concrete region: give the stack \`env.region\` (new Stack(app, id, { env: { region } })), because the bucket policy names the region's load balancing account; or choose AccessLogs.disabled().`,
  );
}

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
  /** The second target group and the production listener rule, for the strategies that shift traffic. */
  readonly trafficShift?: TrafficShiftParts;
}

/** What the load balancer needs from the other parts. */
export interface LoadBalancerInputs {
  readonly vpc: ec2.IVpc;
  /** Where an internal load balancer goes: the task subnets. */
  readonly internalSubnets: ec2.SubnetSelection;
  readonly containerPort: number;
  /** The rollout strategy moves traffic between two target groups (blue/green, canary, linear). */
  readonly shiftsTraffic: boolean;
  readonly logGroups: LogGroupFactory;
  readonly acks: Acknowledgements;
}

/**
 * Creates the Application Load Balancer, its target group with the configured health check, and its listeners:
 * HTTP forwarding, or HTTPS with a modern TLS policy and HTTP redirecting to it.
 */
export function createLoadBalancer(
  scope: Construct,
  lb: ResolvedLoadBalancer,
  inputs: LoadBalancerInputs,
): LoadBalancerParts {
  const { vpc, acks } = inputs;
  const dev = lb.profile === EnvironmentProfile.DEV;
  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LB', {
    vpc,
    internetFacing: lb.internetFacing,
    vpcSubnets: lb.internetFacing ? { subnetType: ec2.SubnetType.PUBLIC } : inputs.internalSubnets,
    dropInvalidHeaderFields: true,
    idleTimeout: lb.idleTimeout,
    deletionProtection: lb.deletionProtection,
  });
  if (lb.internetFacing) {
    for (const securityGroup of loadBalancer.connections.securityGroups) {
      acks.acknowledge(securityGroup, {
        rules: ['AwsSolutions-EC23'],
        reason:
          'The internet-facing load balancer accepts the internet on its listener ports only; tasks and database admit only their upstream security group.',
      });
    }
  }
  if (dev && !lb.deletionProtection) {
    acks.acknowledge(loadBalancer, {
      rules: [
        'elbv2_deletion_protection_enabled_check',
        ...inCompliancePacks('ELBDeletionProtectionEnabled', ['NIST.800.53.R5', 'HIPAA.Security']),
      ],
      reason: 'The dev profile is disposable by design; prod turns load balancer deletion protection on.',
    });
  }

  const accessLogsBucket = lb.accessLogs._enabled
    ? (lb.accessLogs._bucket ?? createAccessLogsBucket(scope, lb.accessLogsExpiry, acks))
    : undefined;
  if (accessLogsBucket) {
    loadBalancer.logAccessLogs(accessLogsBucket, 'alb');
  } else if (dev) {
    acks.acknowledge(loadBalancer, {
      rules: ['AwsSolutions-ELB2', 'elbv2_logging_enabled_check', ...inCompliancePacks('ELBLoggingEnabled')],
      reason:
        'The dev profile turns access logs off to stay cheap; prod (or loadBalancer.accessLogs) writes them to S3.',
    });
  }

  associateWebAcl(scope, loadBalancer, lb, inputs);

  const hc = lb.healthCheck;
  const newTargetGroup = (id: string) =>
    new elbv2.ApplicationTargetGroup(scope, id, {
      vpc,
      port: inputs.containerPort,
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
  const targetGroup = newTargetGroup('TargetGroup');

  const domain = lb.https._domain;
  const certificate =
    lb.https._certificate ??
    (domain
      ? new acm.Certificate(scope, 'Certificate', {
          domainName: domain.domainName,
          validation: acm.CertificateValidation.fromDns(domain.hostedZone),
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
    acks.acknowledge(httpListener, {
      rules: inCompliancePacks('ELBv2ACMCertificateRequired'),
      reason: 'This HTTP listener only redirects to the HTTPS listener, which uses the ACM certificate.',
    });
  } else {
    listener = loadBalancer.addListener('HttpListener', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      defaultTargetGroups: [targetGroup],
    });
    httpListener = listener;
    if (dev) {
      acks.acknowledge(httpListener, {
        rules: [
          'alb_http_to_https_redirection_check',
          ...inCompliancePacks('ALBHttpToHttpsRedirection'),
          ...inCompliancePacks('ELBv2ACMCertificateRequired'),
        ],
        reason:
          'No certificate or domain name was given to this dev stack, so it serves HTTP; give loadBalancer.https to get HTTPS and the redirect.',
      });
    }
  }

  if (domain) {
    new route53.ARecord(scope, 'AliasRecord', {
      zone: domain.hostedZone,
      recordName: domain.domainName,
      target: route53.RecordTarget.fromAlias(new route53Targets.LoadBalancerTarget(loadBalancer)),
    });
  }

  const host = domain?.domainName ?? loadBalancer.loadBalancerDnsName;
  const url = certificate ? `https://${host}` : `http://${host}`;
  const trafficShift = inputs.shiftsTraffic
    ? addTrafficShift(scope, {
        listener,
        targetGroup,
        alternateTargetGroup: newTargetGroup('AlternateTargetGroup'),
        logGroups: inputs.logGroups,
        acks,
      })
    : undefined;
  return { loadBalancer, targetGroup, listener, httpListener, certificate, url, accessLogsBucket, trafficShift };
}

function associateWebAcl(
  scope: Construct,
  loadBalancer: elbv2.ApplicationLoadBalancer,
  lb: ResolvedLoadBalancer,
  inputs: LoadBalancerInputs,
): void {
  const webAcl: WebAcl = lb.webAcl;
  const webAclArn = webAcl._managed
    ? createWebAcl(
        scope,
        { rateLimit: lb.webAclRateLimit, commonRulesToCount: lb.webAclCommonRulesToCount },
        inputs.logGroups,
      ).attrArn
    : webAcl._arn;
  if (webAclArn === undefined) {
    if (lb.profile === EnvironmentProfile.DEV) {
      inputs.acks.acknowledge(loadBalancer, {
        rules: inCompliancePacks('ALBWAFEnabled', ['NIST.800.53.R5', 'PCI.DSS.321']),
        reason: 'The dev profile has no web ACL (about 10 USD a month); prod creates one, or give loadBalancer.webAcl.',
      });
    }
    return;
  }
  new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', {
    resourceArn: loadBalancer.loadBalancerArn,
    webAclArn,
  });
}

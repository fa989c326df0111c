import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53Targets from 'aws-cdk-lib/aws-route53-targets';
import { Construct } from 'constructs';
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
}

/**
 * Creates the Application Load Balancer, its target group with the configured health check, and its listeners:
 * HTTP forwarding, or HTTPS with a modern TLS policy and HTTP redirecting to it.
 */
export function createLoadBalancer(scope: Construct, vpc: ec2.IVpc, options: ResolvedOptions): LoadBalancerParts {
  const lb = options.loadBalancer;
  const loadBalancer = new elbv2.ApplicationLoadBalancer(scope, 'LB', {
    vpc,
    internetFacing: lb.internetFacing,
    vpcSubnets: lb.internetFacing ? { subnetType: ec2.SubnetType.PUBLIC } : options.network.taskSubnets,
    dropInvalidHeaderFields: true,
    idleTimeout: lb.idleTimeout,
  });
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
  return { loadBalancer, targetGroup, listener, httpListener, certificate, url };
}

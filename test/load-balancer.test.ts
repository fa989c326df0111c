import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AccessLogs, EnvironmentProfile, FargateWebServiceWithDatabase, Https, ServiceImage, WebAcl } from '../src';
import { defaultStack, newStack, onlyResource, synth } from './helpers';

describe('load balancer', () => {
  test('is internet-facing, drops invalid headers, and forwards HTTP when there is no certificate', () => {
    const { template, construct, stack } = defaultStack(EnvironmentProfile.DEV);
    const lb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(lb.props.Scheme).toBe('internet-facing');
    expect(lb.props.LoadBalancerAttributes).toEqual(
      expect.arrayContaining([{ Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' }]),
    );
    const listener = onlyResource(template, 'AWS::ElasticLoadBalancingV2::Listener');
    expect(listener.props).toMatchObject({ Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'forward' }] });
    expect(construct.listener).toBe(construct.httpListener);
    expect(stack.resolve(construct.url)).toEqual({
      'Fn::Join': ['', ['http://', { 'Fn::GetAtt': [expect.stringMatching(/^ApiLB/), 'DNSName'] }]],
    });
  });

  test('the target group checks /health by default and drains for 30 seconds', () => {
    const { template } = defaultStack(EnvironmentProfile.DEV);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Port: 3000,
      Protocol: 'HTTP',
      TargetType: 'ip',
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: 15,
      HealthCheckTimeoutSeconds: 5,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 3,
      Matcher: { HttpCode: '200' },
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
  });

  test('the health check is configurable', () => {
    const { template } = synth({
      loadBalancer: {
        healthCheck: {
          path: '/livez',
          interval: Duration.seconds(30),
          timeout: Duration.seconds(10),
          healthyThresholdCount: 5,
          unhealthyThresholdCount: 4,
          healthyHttpCodes: '200-299',
        },
        deregistrationDelay: Duration.seconds(10),
      },
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/livez',
      HealthCheckIntervalSeconds: 30,
      HealthCheckTimeoutSeconds: 10,
      HealthyThresholdCount: 5,
      UnhealthyThresholdCount: 4,
      Matcher: { HttpCode: '200-299' },
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '10' }]),
    });
  });

  test('with a certificate: HTTPS with a modern TLS policy, and HTTP redirects to HTTPS', () => {
    const stack = newStack();
    const certificate = acm.Certificate.fromCertificateArn(
      stack,
      'Cert',
      'arn:aws:acm:us-east-1:123456789012:certificate/11111111-2222-3333-4444-555555555555',
    );
    const { template, construct } = synth({ loadBalancer: { https: Https.fromCertificate(certificate) } }, stack);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [{ CertificateArn: certificate.certificateArn }],
      DefaultActions: [Match.objectLike({ Type: 'forward' })],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    });
    expect(construct.listener).not.toBe(construct.httpListener);
    expect(construct.certificate).toBe(certificate);
  });

  test('with a domain name: a DNS-validated certificate and an alias record', () => {
    const stack = newStack();
    const hostedZone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', {
      hostedZoneId: 'Z0123456789',
      zoneName: 'example.com',
    });
    const { template, construct } = synth(
      { loadBalancer: { https: Https.fromDomain('api.example.com', hostedZone) } },
      stack,
    );
    template.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'api.example.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [{ DomainName: 'api.example.com', HostedZoneId: 'Z0123456789' }],
    });
    template.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'api.example.com.',
      Type: 'A',
      AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443 });
    expect(construct.url).toBe('https://api.example.com');
  });

  test.each([
    [EnvironmentProfile.DEV, false, 0, 0],
    [EnvironmentProfile.PROD, true, 1, 1],
  ])(
    '%s: deletion protection %s, %d access-log bucket(s), %d web ACL(s)',
    (profile, deletionProtection, buckets, acls) => {
      const { template } = defaultStack(profile);
      const lb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
      expect(lb.props.LoadBalancerAttributes).toEqual(
        expect.arrayContaining([{ Key: 'deletion_protection.enabled', Value: String(deletionProtection) }]),
      );
      template.resourceCountIs('AWS::S3::Bucket', buckets);
      template.resourceCountIs('AWS::WAFv2::WebACL', acls);
      template.resourceCountIs('AWS::WAFv2::WebACLAssociation', acls);
    },
  );

  test('access logs go to a TLS-only, SSE-S3, private, versioned bucket that expires them', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    const lb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(lb.props.LoadBalancerAttributes).toEqual(
      expect.arrayContaining([
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.prefix', Value: 'alb' },
      ]),
    );
    const bucket = onlyResource(template, 'AWS::S3::Bucket');
    expect(bucket.props).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 90 })] },
    });
    expect(bucket.resource.DeletionPolicy).toBe('Retain');
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('the web ACL uses the AWS managed rule groups and a per-IP rate limit', () => {
    const { template } = synth({ loadBalancer: { webAcl: WebAcl.managed({ rateLimit: 500 }) } });
    const acl = onlyResource(template, 'AWS::WAFv2::WebACL');
    expect(acl.props.Scope).toBe('REGIONAL');
    expect(acl.props.DefaultAction).toEqual({ Allow: {} });
    expect(acl.props.Rules.map((r: any) => r.Name)).toEqual([
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
      'AWSManagedRulesAmazonIpReputationList',
      'RateLimitPerIp',
    ]);
    expect(acl.props.Rules[3].Statement.RateBasedStatement).toEqual({ Limit: 500, AggregateKeyType: 'IP' });
    // Every rule of the common set blocks, the 8 KB body limit (SizeRestrictions_BODY) included.
    expect(acl.props.Rules[0].Statement.ManagedRuleGroupStatement.RuleActionOverrides).toBeUndefined();
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: { Ref: Match.stringLikeRegexp('^ApiLB') },
      WebACLArn: { 'Fn::GetAtt': [acl.id, 'Arn'] },
    });
  });

  test('rules of the common set named in commonRulesToCount only count: the 8 KB body limit lifted for larger bodies', () => {
    const { template } = synth({
      loadBalancer: { webAcl: WebAcl.managed({ commonRulesToCount: ['SizeRestrictions_BODY'] }) },
    });
    const acl = onlyResource(template, 'AWS::WAFv2::WebACL');
    expect(acl.props.Rules[0].Statement.ManagedRuleGroupStatement).toEqual({
      VendorName: 'AWS',
      Name: 'AWSManagedRulesCommonRuleSet',
      RuleActionOverrides: [{ Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } }],
    });
    expect(acl.props.Rules[1].Statement.ManagedRuleGroupStatement.RuleActionOverrides).toBeUndefined();
    expect(() =>
      synth({ loadBalancer: { webAcl: WebAcl.managed({ commonRulesToCount: ['Size Restrictions'] }) } }),
    ).toThrow(
      'Test/Api: `loadBalancer.webAcl.commonRulesToCount` must name rules of AWSManagedRulesCommonRuleSet, such as "SizeRestrictions_BODY", got "Size Restrictions".',
    );
  });

  test('access logs can go to your bucket, and then no bucket is created', () => {
    const stack = newStack();
    const bucket = s3.Bucket.fromBucketName(stack, 'Mine', 'my-access-logs');
    const { template, construct } = synth({ loadBalancer: { accessLogs: AccessLogs.toBucket(bucket) } }, stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(construct.accessLogsBucket).toBe(bucket);
    const lb = onlyResource(template, 'AWS::ElasticLoadBalancingV2::LoadBalancer');
    expect(lb.props.LoadBalancerAttributes).toEqual(
      expect.arrayContaining([
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.bucket', Value: 'my-access-logs' },
      ]),
    );
  });

  test('prod access logs and web ACL can be turned off', () => {
    const { template } = synth({
      profile: EnvironmentProfile.PROD,
      loadBalancer: { accessLogs: AccessLogs.disabled(), webAcl: WebAcl.none() },
    });
    template.resourceCountIs('AWS::S3::Bucket', 0);
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  test('an existing web ACL can be associated instead', () => {
    const arn = 'arn:aws:wafv2:us-east-1:123456789012:regional/webacl/shared/abc';
    const { template } = synth({ loadBalancer: { webAcl: WebAcl.fromArn(arn) } });
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: arn });
  });

  test.each([
    ['prod by default', { profile: EnvironmentProfile.PROD }, ' (on by default in prod)'],
    ['an explicit request', { loadBalancer: { accessLogs: AccessLogs.newBucket() } }, ''],
  ])('access logs in a stack without a region are an error naming env.region: %s', (_case, props, by) => {
    const stack = new Stack(new App(), 'Agnostic');
    expect(() => synth(props as any, stack)).toThrow(
      `Agnostic/Api: \`loadBalancer.accessLogs\`${by} needs a stack with a concrete region: give the stack \`env.region\` (new Stack(app, id, { env: { region } })), because the bucket policy names the region's load balancing account; or choose AccessLogs.disabled().`,
    );
  });

  test('prod in a stack without a region synthesizes once access logs are turned off', () => {
    const stack = new Stack(new App(), 'Agnostic');
    const { template } = synth(
      { profile: EnvironmentProfile.PROD, loadBalancer: { accessLogs: AccessLogs.disabled() } },
      stack,
    );
    template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  test.each([
    ['no https prop', {}],
    ['Https.none()', { https: Https.none() }],
  ])('prod refuses plain HTTP (%s), naming the prop and the ways out', (_case, loadBalancer) => {
    const build = () =>
      new FargateWebServiceWithDatabase(newStack(), 'Api', {
        image: ServiceImage.fromRepositoryTag('v1.0.0'),
        profile: EnvironmentProfile.PROD,
        loadBalancer,
      });
    expect(build).toThrow(
      'Test/Api: `loadBalancer.https` is required in prod: give Https.fromDomain(domainName, hostedZone) or Https.fromCertificate(certificate). For a service behind another TLS terminator (a CDN or proxy), choose Https.terminatedUpstream().',
    );
  });

  test('Https.terminatedUpstream() serves plain HTTP in prod, with a warning', () => {
    const { stack, template } = synth({
      profile: EnvironmentProfile.PROD,
      loadBalancer: { https: Https.terminatedUpstream() },
    });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, Protocol: 'HTTP' });
    Annotations.fromStack(stack).hasWarning(
      '/Test/Api',
      Match.stringLikeRegexp('plain HTTP \\(Https.terminatedUpstream\\(\\)\\)'),
    );
  });

  test('internal load balancers are supported', () => {
    const { template } = synth({ profile: EnvironmentProfile.PROD, loadBalancer: { internetFacing: false } });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
  });
});

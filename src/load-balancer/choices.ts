import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';

/** What the load balancer serves HTTPS with. */
export class Https {
  /** HTTPS with a certificate you manage; HTTP redirects to HTTPS. */
  public static fromCertificate(certificate: acm.ICertificate): Https {
    return new Https('Https.fromCertificate(certificate)', certificate);
  }

  /**
   * HTTPS for `domainName`: the construct creates a certificate validated in `hostedZone` and an alias record there;
   * HTTP redirects to HTTPS.
   *
   * @param domainName a fully qualified domain name such as `api.example.com`
   * @param hostedZone the public hosted zone that holds `domainName`
   */
  public static fromDomain(domainName: string, hostedZone: route53.IHostedZone): Https {
    return new Https('Https.fromDomain(domainName, hostedZone)', undefined, { domainName, hostedZone });
  }

  /**
   * No HTTPS listener: the service is served over plain HTTP on port 80. Refused in prod: use `terminatedUpstream()`
   * when TLS really ends in front of this load balancer.
   */
  public static none(): Https {
    return new Https('Https.none()');
  }

  /**
   * No HTTPS listener here because TLS ends in front of this load balancer (a CDN or another proxy you run): plain
   * HTTP on port 80, accepted in prod with a warning. Restrict who can reach the load balancer yourself.
   */
  public static terminatedUpstream(): Https {
    return new Https('Https.terminatedUpstream()', undefined, undefined, true);
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _certificate?: acm.ICertificate,
    /** @internal */
    public readonly _domain?: { readonly domainName: string; readonly hostedZone: route53.IHostedZone },
    /** @internal */
    public readonly _terminatedUpstream = false,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}

/** Where the load balancer writes its access logs. */
export class AccessLogs {
  /** To a new bucket: SSE-S3, TLS only, no public access, versioned, objects expire after 90 days, retained. */
  public static newBucket(): AccessLogs {
    return new AccessLogs('AccessLogs.newBucket()', true);
  }

  /**
   * To your bucket. It must use SSE-S3 encryption: the load balancer cannot write to SSE-KMS buckets.
   */
  public static toBucket(bucket: s3.IBucket): AccessLogs {
    return new AccessLogs('AccessLogs.toBucket(bucket)', true, bucket);
  }

  /** No access logs. */
  public static disabled(): AccessLogs {
    return new AccessLogs('AccessLogs.disabled()', false);
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _enabled: boolean,
    /** @internal */
    public readonly _bucket?: s3.IBucket,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}

/** Options of the web ACL the construct creates. */
export interface ManagedWebAclOptions {
  /**
   * Requests per 5 minutes from one IP address above which the web ACL blocks it, 100 to 2000000000.
   *
   * @default 2000
   */
  readonly rateLimit?: number;

  /**
   * Rules of the AWS managed common rule set (`AWSManagedRulesCommonRuleSet`) that only count matching requests
   * instead of blocking them. Its `SizeRestrictions_BODY` rule blocks request bodies over 8 KB: an API that accepts
   * larger bodies names it here and limits the size itself (the sample app accepts 16 KB).
   *
   * @default - none: every rule of the set blocks
   */
  readonly commonRulesToCount?: string[];
}

/** The AWS WAF web ACL in front of the load balancer. */
export class WebAcl {
  /**
   * A new regional web ACL: the AWS managed common, known-bad-inputs and IP reputation rule groups, a rate limit per
   * client IP, and logging to an encrypted log group.
   */
  public static managed(options: ManagedWebAclOptions = {}): WebAcl {
    return new WebAcl('WebAcl.managed()', options);
  }

  /**
   * Your regional WAFv2 web ACL, by ARN (`arn:aws:wafv2:<region>:<account>:regional/webacl/...`).
   */
  public static fromArn(webAclArn: string): WebAcl {
    return new WebAcl('WebAcl.fromArn(webAclArn)', undefined, webAclArn);
  }

  /** No web ACL. */
  public static none(): WebAcl {
    return new WebAcl('WebAcl.none()');
  }

  private constructor(
    private readonly description: string,
    /** @internal */
    public readonly _managed?: ManagedWebAclOptions,
    /** @internal */
    public readonly _arn?: string,
  ) {}

  /** How this choice was made, as code. */
  public toString(): string {
    return this.description;
  }
}

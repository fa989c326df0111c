import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as rds from 'aws-cdk-lib/aws-rds';
import { Construct } from 'constructs';
import { RdsProxy } from './proxy-choice';
import { DatabaseServer, proxyTargetOf } from './server';
import { ProfileDefaults } from '../defaults';
import { Acknowledgements } from '../internal/acknowledge';
import { acknowledgeInlinePolicies } from '../internal/functions';
import { PropChecker } from '../internal/validation';

/** A resolved proxy choice: undefined for none. */
export interface ResolvedProxy {
  readonly maxConnectionsPercent: number;
  readonly borrowTimeout: Duration;
}

export function resolveProxy(
  check: PropChecker,
  choice: RdsProxy,
  iamAuthentication: boolean,
  defaults: ProfileDefaults,
): ResolvedProxy | undefined {
  const options = choice._options;
  if (!options) return undefined;
  check.integer('database.proxy.maxConnectionsPercent', options.maxConnectionsPercent, 1, 100);
  check.duration('database.proxy.borrowTimeout', options.borrowTimeout, 1, 3600);
  check.refuse(
    !iamAuthentication,
    `\`database.proxy\` ${choice} authenticates to the database with IAM: it needs \`database.iamAuthentication\` on (leave it unset or true), or choose RdsProxy.none().`,
  );
  return {
    maxConnectionsPercent: options.maxConnectionsPercent ?? defaults['RdsProxyOptions.maxConnectionsPercent'],
    borrowTimeout: options.borrowTimeout ?? defaults['RdsProxyOptions.borrowTimeout'],
  };
}

export interface ProxyInputs {
  readonly server: DatabaseServer;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** The database user the proxy logs in as (the app user, which holds `rds_iam`). */
  readonly appUsername: string;
  /** Whether the Aurora cluster has readers: the proxy then gets a read-only endpoint. */
  readonly readers: boolean;
  readonly acks: Acknowledgements;
}

/** The proxy and its security group. */
export interface ProxyParts {
  readonly proxy: rds.DatabaseProxy;
  readonly securityGroup: ec2.SecurityGroup;
  readonly role: iam.Role;
  /** The proxy's read-only endpoint (to the Aurora readers), when the cluster has readers. */
  readonly readOnlyEndpoint?: string;
}

/**
 * Creates the proxy in the database subnets. Its security group admits nothing until the service is allowed in, and
 * reaches only the instance's port (the rule `rds.DatabaseProxy` adds between the two groups); its role may log in to
 * the instance as the app user only.
 */
export function createProxy(scope: Construct, p: ResolvedProxy, inputs: ProxyInputs): ProxyParts {
  const securityGroup = new ec2.SecurityGroup(scope, 'DatabaseProxySecurityGroup', {
    vpc: inputs.vpc,
    description: 'RDS Proxy: admits only the web service on the database port, reaches only the database',
    allowAllOutbound: false,
  });
  // The proxy's own role: it logs in to the instance as the app user (rds-db:connect), and reads no secret.
  const role = new iam.Role(scope, 'DatabaseProxyRole', {
    assumedBy: new iam.ServicePrincipal('rds.amazonaws.com'),
    description: 'RDS Proxy: logs in to the database as the app user with IAM authentication',
  });
  const proxy = new rds.DatabaseProxy(scope, 'DatabaseProxy', {
    role,
    proxyTarget: proxyTargetOf(inputs.server),
    vpc: inputs.vpc,
    vpcSubnets: inputs.subnets,
    securityGroups: [securityGroup],
    defaultAuthScheme: rds.DefaultAuthScheme.IAM_AUTH,
    requireTLS: true,
    maxConnectionsPercent: p.maxConnectionsPercent,
    // The proxy keeps at most half of what it may open idle, so connections it no longer needs return to the database.
    maxIdleConnectionsPercent: Math.floor(p.maxConnectionsPercent / 2),
    borrowTimeout: p.borrowTimeout,
  });
  inputs.server.grantConnect(role, inputs.appUsername);
  acknowledgeInlinePolicies(inputs.acks, role);
  // Aurora readers behind the proxy: a read-only endpoint in the same subnets and security group.
  const readOnly = inputs.readers
    ? proxy.addEndpoint('ReadOnly', {
        vpc: inputs.vpc,
        vpcSubnets: inputs.subnets,
        securityGroups: [securityGroup],
        targetRole: rds.ProxyEndpointTargetRole.READ_ONLY,
      })
    : undefined;
  return { proxy, securityGroup, role, readOnlyEndpoint: readOnly?.endpoint };
}

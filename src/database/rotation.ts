import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { DatabaseServer } from './server';

/** The rotations of the two secrets. */
export interface Rotations {
  /** The app secret's rotation; none without an app secret (behind a proxy the app user has no password). */
  readonly app?: secretsmanager.SecretRotation;
  readonly master: secretsmanager.SecretRotation;
  /** The schedules, which rotate only at their first window (never on creation): order them after what they need. */
  readonly schedules: { readonly app?: Construct; readonly master: Construct };
}

export interface RotationInputs {
  readonly server: DatabaseServer;
  readonly appSecret?: secretsmanager.ISecret;
  readonly schedule: Duration;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  /** Subnets where a function reaches AWS APIs without a public IP; none means the VPC has no NAT. */
  readonly privateEgressSubnets?: ec2.SubnetSelection;
}

/**
 * The master secret rotates with a single user (only the bootstrap and the rotation functions use it), the app's with
 * alternating users. Neither rotates on creation: the first rotation waits for its window, after the app user and the
 * redeploy exist (the construct orders the schedules after them).
 */
export function addRotations(scope: Construct, inputs: RotationInputs): Rotations {
  const { server, appSecret } = inputs;
  const { endpoint, ...placement } = rotationPlacement(scope, inputs);
  const when = { automaticallyAfter: inputs.schedule, rotateImmediatelyOnUpdate: false };
  const master = server.addRotationSingleUser({ ...when, ...placement });
  const app = appSecret
    ? server.addRotationMultiUser('AppUserRotation', { secret: appSecret, ...when, ...placement })
    : undefined;
  if (endpoint) [master, ...(app ? [app] : [])].forEach((r) => r.node.addDependency(endpoint));
  const scheduleOf = (secret: secretsmanager.ISecret) => secret.node.findChild('RotationSchedule');
  return {
    app,
    master,
    schedules: { app: appSecret && scheduleOf(appSecret), master: scheduleOf(server.secret!) },
  };
}

/**
 * Where the rotation functions run. They need the database and Secrets Manager: in subnets with egress they reach the
 * public endpoint; otherwise the construct adds an interface endpoint in one database subnet and runs them there.
 */
function rotationPlacement(
  scope: Construct,
  inputs: RotationInputs,
): { vpcSubnets: ec2.SubnetSelection; securityGroup?: ec2.ISecurityGroup; endpoint?: ec2.IInterfaceVpcEndpoint } {
  const { vpc } = inputs;
  if (inputs.privateEgressSubnets) return { vpcSubnets: inputs.privateEgressSubnets };
  const subnet = vpc.selectSubnets(inputs.subnets).subnets[0];
  const endpoint = new ec2.InterfaceVpcEndpoint(scope, 'SecretsManagerEndpoint', {
    vpc,
    service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    subnets: { subnets: [subnet] },
    privateDnsEnabled: true,
    open: false,
  });
  const securityGroup = new ec2.SecurityGroup(scope, 'RotationSecurityGroup', {
    vpc,
    description: 'Password rotation functions: reach the database and the Secrets Manager endpoint',
  });
  endpoint.connections.allowDefaultPortFrom(securityGroup, 'The password rotation functions');
  return { vpcSubnets: { subnets: [subnet] }, securityGroup, endpoint };
}

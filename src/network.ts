import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { createLogGroup } from './logging';
import { ResolvedOptions } from './resolve-options';

/**
 * Creates the VPC, or returns the given one.
 *
 * A new VPC has public subnets (load balancer, NAT gateways), private-with-egress subnets when there are NAT
 * gateways (tasks) and isolated subnets (database). Without NAT gateways the tasks run in the public subnets.
 */
export function createNetwork(scope: Construct, options: ResolvedOptions, logsKey: kms.IKey): ec2.IVpc {
  const network = options.network;
  if (network.vpc) return network.vpc;

  const subnetConfiguration: ec2.SubnetConfiguration[] = [
    // Nothing launched here gets a public IP unless it asks for one (the dev profile's tasks do).
    { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
    { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
  ];
  if (network.natGateways > 0) {
    subnetConfiguration.splice(1, 0, { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 });
  }
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs: network.maxAzs,
    natGateways: network.natGateways,
    subnetConfiguration,
    restrictDefaultSecurityGroup: true,
  });
  if (network.flowLogs) {
    const logGroup = createLogGroup(scope, 'FlowLogs', logsKey, options);
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
  }
  return vpc;
}

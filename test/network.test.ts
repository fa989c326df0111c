import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EnvironmentProfile, FargateWebServiceWithDatabase } from '../src';
import { addTaskEndpoints, defaultStack, isolatedVpcWithEndpoints, newStack, onlyResource, synth } from './helpers';
import { fixtureImage } from '../tools/stacks';

describe('network', () => {
  test('dev creates a VPC in 2 AZs with public and isolated subnets and no NAT gateway', () => {
    const { template } = defaultStack(EnvironmentProfile.DEV);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 4);
    // Public subnets do not hand out public IPs; only the dev tasks ask for one.
    for (const subnet of Object.values<any>(template.findResources('AWS::EC2::Subnet'))) {
      expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
    }
  });

  test('dev tasks run in public subnets with a public IP, admitted only from the load balancer', () => {
    const { template, construct, stack } = defaultStack(EnvironmentProfile.DEV);
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'ENABLED' } },
    });
    const sgId = stack.getLogicalId(construct.serviceSecurityGroup.node.defaultChild as ec2.CfnSecurityGroup);
    const ingress = template.findResources('AWS::EC2::SecurityGroupIngress', {
      Properties: { GroupId: { 'Fn::GetAtt': [sgId, 'GroupId'] } },
    });
    expect(Object.values(ingress)).toHaveLength(1);
    const rule = Object.values<any>(ingress)[0].Properties;
    expect(rule.FromPort).toBe(3000);
    expect(rule.SourceSecurityGroupId['Fn::GetAtt'][0]).toMatch(/^ApiLBSecurityGroup/);
  });

  test('prod creates one NAT gateway per AZ and runs tasks in private subnets without public IPs', () => {
    const { template } = defaultStack(EnvironmentProfile.PROD);
    template.resourceCountIs('AWS::EC2::NatGateway', 2);
    template.resourceCountIs('AWS::EC2::Subnet', 6);
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
    });
  });

  test.each([EnvironmentProfile.DEV, EnvironmentProfile.PROD])(
    '%s records all VPC traffic in an encrypted log group with the profile retention',
    (profile) => {
      const { template, construct, stack } = defaultStack(profile);
      const flowLog = onlyResource(template, 'AWS::EC2::FlowLog');
      expect(flowLog.props).toMatchObject({ TrafficType: 'ALL', LogDestinationType: 'cloud-watch-logs' });
      const groupId = flowLog.props.LogGroupName.Ref;
      const keyId = stack.getLogicalId(construct.logEncryptionKey.node.defaultChild as any);
      expect(template.toJSON().Resources[groupId].Properties).toMatchObject({
        RetentionInDays: profile === EnvironmentProfile.PROD ? 365 : 7,
        KmsKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
      });
    },
  );

  test('natGateways and maxAzs override the profile', () => {
    const { template } = synth({ network: { maxAzs: 3, natGateways: 1 } });
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 9);
  });

  test('a given VPC is used as it is and no VPC is created', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Existing', { maxAzs: 2, natGateways: 1 });
    const { template, construct } = synth({ network: { vpc } }, stack);
    expect(construct.vpc).toBe(vpc);
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::FlowLog', 0);
  });

  test('a given VPC without visible egress passes with a warning when taskEgressOutsideApp declares it', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'V', {
      natGateways: 0,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    synth({ network: { vpc, taskEgressOutsideApp: true }, loadBalancer: { internetFacing: false } }, stack);
    Annotations.fromStack(stack).hasWarning(
      '/Test/Api',
      Match.stringLikeRegexp('`network.taskEgressOutsideApp` says they do'),
    );
  });

  test('an imported VPC whose route tables the construct cannot see gets a warning, not an error', () => {
    const stack = newStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Imported', {
      vpcId: 'vpc-0123456789abcdef0',
      availabilityZones: ['us-east-1a', 'us-east-1b'],
      isolatedSubnetIds: ['subnet-0000000000000000a', 'subnet-0000000000000000b'],
    });
    synth({ network: { vpc }, loadBalancer: { internetFacing: false } }, stack);
    Annotations.fromStack(stack).hasWarning(
      '/Test/Api',
      Match.stringLikeRegexp("the construct cannot see an imported VPC's route tables"),
    );
  });

  test('a given VPC whose task subnets are isolated passes when it has the endpoints tasks need', () => {
    const stack = newStack();
    const vpc = isolatedVpcWithEndpoints(stack);
    const { template } = synth({ network: { vpc }, loadBalancer: { internetFacing: false } }, stack);
    template.hasResourceProperties('AWS::ECS::Service', {
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
    });
  });

  test('a given VPC without isolated subnets places the database in private subnets, with a warning', () => {
    const stack = newStack();
    const vpc = new ec2.Vpc(stack, 'Existing', { maxAzs: 2, natGateways: 1 });
    synth({ network: { vpc } }, stack);
    Annotations.fromStack(stack).hasWarning(
      '/Test/Api',
      Match.stringLikeRegexp('The given VPC has no isolated subnets'),
    );
  });

  test('the database sits in the isolated subnets', () => {
    const { template, construct, stack } = defaultStack(EnvironmentProfile.PROD);
    const isolated = construct.vpc.isolatedSubnets.map((s) => ({ Ref: stack.resolve(s.subnetId).Ref }));
    template.hasResourceProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: Match.arrayEquals(isolated) });
  });
});

describe('the egress check of a given VPC runs on the finished app', () => {
  const isolatedOnly = (stack: ReturnType<typeof newStack>) =>
    new ec2.Vpc(stack, 'V', {
      natGateways: 0,
      subnetConfiguration: [{ name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });

  test('task subnets without egress or endpoints fail the synthesis, naming the prop and what to do', () => {
    const stack = newStack();
    const vpc = isolatedOnly(stack);
    expect(() => synth({ network: { vpc }, loadBalancer: { internetFacing: false } }, stack)).toThrow(
      '[Test/Api] `network.taskSubnets` select subnets without egress (no NAT or internet gateway route): tasks could not pull their image, write logs or read their secrets. Use subnets with a NAT route, add VPC endpoints for ecr.api, ecr.dkr, logs, secretsmanager, s3, or set `network.taskEgressOutsideApp: true` if they reach them in a way this app cannot see.',
    );
  });

  test('endpoints added to the VPC after the construct count (the check no longer runs in the constructor)', () => {
    const stack = newStack();
    const vpc = isolatedOnly(stack);
    const api = new FargateWebServiceWithDatabase(stack, 'Api', {
      image: fixtureImage(EnvironmentProfile.DEV),
      network: { vpc },
      loadBalancer: { internetFacing: false },
    });
    addTaskEndpoints(vpc);
    expect(() => Template.fromStack(stack)).not.toThrow();
    expect(api.vpc).toBe(vpc);
  });
});

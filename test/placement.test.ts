import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { EnvironmentProfile } from '../src';
import { defaultStack, newStack, synth, Synthesized } from './helpers';

/** Where each part runs: the subnets the template places it in, compared with the VPC's own subnets. */

const refs = (s: Synthesized, subnets: ec2.ISubnet[]) => subnets.map((x) => s.stack.resolve(x.subnetId)).sort(byJson);
const byJson = (a: unknown, b: unknown) => JSON.stringify(a).localeCompare(JSON.stringify(b));
const sorted = (values: unknown[]) => [...values].sort(byJson);
const only = (s: Synthesized, type: string) => {
  const found = Object.values<any>(s.template.findResources(type));
  expect(found).toHaveLength(1);
  return found[0].Properties;
};

describe('prod: tasks, gate and rotation in private subnets; the SQL function and the database isolated; the load balancer public', () => {
  const s = defaultStack(EnvironmentProfile.PROD);
  const vpc = s.construct.vpc;

  test('the service tasks', () => {
    const service = only(s, 'AWS::ECS::Service');
    expect(sorted(service.NetworkConfiguration.AwsvpcConfiguration.Subnets)).toEqual(refs(s, vpc.privateSubnets));
  });

  test('the load balancer', () => {
    expect(sorted(only(s, 'AWS::ElasticLoadBalancingV2::LoadBalancer').Subnets)).toEqual(refs(s, vpc.publicSubnets));
  });

  test("the app-user bootstrap's SQL function (beside the database) and the database", () => {
    const sql = Object.entries<any>(s.template.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('ApiAppUserSql'),
    )![1].Properties;
    expect(sorted(sql.VpcConfig.SubnetIds)).toEqual(refs(s, vpc.isolatedSubnets));
    expect(sorted(only(s, 'AWS::RDS::DBSubnetGroup').SubnetIds)).toEqual(refs(s, vpc.isolatedSubnets));
  });

  test('both rotation functions', () => {
    const applications = Object.values<any>(s.template.findResources('AWS::Serverless::Application'));
    expect(applications).toHaveLength(2);
    const subnetRefs = (value: unknown) =>
      sorted([...JSON.stringify(value).matchAll(/\{"Ref":"([A-Za-z0-9]+)"\}/g)].map((m) => ({ Ref: m[1] })));
    for (const app of applications) {
      expect(subnetRefs(app.Properties.Parameters.vpcSubnetIds)).toEqual(refs(s, vpc.privateSubnets));
    }
  });
});

test('the migration gate runs its task in the task subnets, with the service security group', () => {
  const s = synth({ profile: EnvironmentProfile.PROD, migrations: { command: ['migrate'] } });
  const gate = only(s, 'Custom::MigrationGate');
  expect(sorted(gate.Subnets)).toEqual(refs(s, s.construct.vpc.privateSubnets));
  expect(gate.SecurityGroups).toEqual([s.stack.resolve(s.construct.serviceSecurityGroup.securityGroupId)]);
});

test('dev: tasks in the public subnets with a public IP (no NAT), the SQL function isolated', () => {
  const s = defaultStack(EnvironmentProfile.DEV);
  const network = only(s, 'AWS::ECS::Service').NetworkConfiguration.AwsvpcConfiguration;
  expect(sorted(network.Subnets)).toEqual(refs(s, s.construct.vpc.publicSubnets));
  expect(network.AssignPublicIp).toBe('ENABLED');
});

test("a user's network.taskSubnets place the tasks and the gate exactly there", () => {
  const stack = newStack();
  const vpc = new ec2.Vpc(stack, 'Shared', {
    maxAzs: 2,
    natGateways: 1,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
      { name: 'Web', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'Batch', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      { name: 'Data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
    ],
  });
  const s = synth(
    { network: { vpc, taskSubnets: { subnetGroupName: 'Web' } }, migrations: { command: ['migrate'] } },
    stack,
  );
  const web = vpc.selectSubnets({ subnetGroupName: 'Web' }).subnets;
  const service = only(s, 'AWS::ECS::Service');
  expect(sorted(service.NetworkConfiguration.AwsvpcConfiguration.Subnets)).toEqual(refs(s, web));
  expect(sorted(only(s, 'Custom::MigrationGate').Subnets)).toEqual(refs(s, web));
});

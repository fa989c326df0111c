import { Duration } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { EnvironmentProfile } from '../../src';
import { onlyResource, synth } from '../helpers';

const command = ['node', 'dist/migrate-cli.js', 'up'];

describe('migration gate wiring', () => {
  const { template, stack, construct } = synth({ profile: EnvironmentProfile.PROD, migrations: { command } });

  test('the custom resource runs the current task definition with the command, in the service subnets and security group', () => {
    const gate = onlyResource(template, 'Custom::MigrationGate');
    const taskDefId = stack.getLogicalId(construct.taskDefinition.node.defaultChild as any);
    expect(gate.props).toMatchObject({
      TaskDefinition: { Ref: taskDefId },
      ContainerName: 'App',
      Command: command,
      SecurityGroups: [{ 'Fn::GetAtt': [expect.stringMatching(/^ApiServiceSecurityGroup/), 'GroupId'] }],
      AssignPublicIp: 'DISABLED',
      TimeoutSeconds: '900',
    });
    expect(gate.props.Subnets.map((s: any) => s.Ref)).toEqual(
      construct.vpc.privateSubnets.map((s) => stack.resolve(s.subnetId).Ref),
    );
  });

  test('the service depends on the gate, and the gate on the database', () => {
    const service = onlyResource(template, 'AWS::ECS::Service');
    const gate = onlyResource(template, 'Custom::MigrationGate');
    expect(service.resource.DependsOn).toContain(gate.id);
    expect(gate.resource.DependsOn).toEqual(
      expect.arrayContaining([stack.getLogicalId(construct.database!.node.defaultChild as any)]),
    );
  });

  test('on the very first deployment the gate waits for the execution role policy and the database ingress rule', () => {
    const gate = onlyResource(template, 'Custom::MigrationGate');
    const executionPolicy = Object.entries<any>(template.findResources('AWS::IAM::Policy')).find(([, p]) =>
      p.Properties.Roles.some((r: any) => /^ApiTaskDefExecutionRole/.test(r.Ref)),
    )![0];
    const ingress = Object.entries<any>(template.findResources('AWS::EC2::SecurityGroupIngress')).find(
      ([, r]) =>
        r.Properties.FromPort === 5432 &&
        r.Properties.GroupId['Fn::GetAtt'][0] ===
          stack.getLogicalId(construct.databaseSecurityGroup.node.defaultChild as any),
    )![0];
    expect(gate.resource.DependsOn).toEqual(expect.arrayContaining([executionPolicy, ingress]));
  });

  test('CloudFormation waits for the gate the timeout plus 5 minutes, within its one-hour limit', () => {
    expect(onlyResource(template, 'Custom::MigrationGate').props.ServiceTimeout).toBe(String(15 * 60 + 300));
    const longest = synth({ migrations: { command, timeout: Duration.minutes(55) } }).template;
    expect(onlyResource(longest, 'Custom::MigrationGate').props.ServiceTimeout).toBe('3600');
  });

  test('the starter may run only this task definition family in this cluster, pass only its two roles and read only this stack', () => {
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy')).filter((p) =>
      p.Properties.Roles.some((r: any) => /^ApiMigrationStarterServiceRole/.test(r.Ref)),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const runTask = statements.find((s) => s.Action === 'ecs:RunTask');
    expect(JSON.stringify(runTask.Resource)).toContain(':task-definition/TestApiTaskDef');
    expect(runTask.Condition).toEqual({
      ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [expect.stringMatching(/^ApiCluster/), 'Arn'] } },
    });
    const passRole = statements.find((s) => s.Action === 'iam:PassRole');
    expect(passRole.Resource.map((r: any) => r['Fn::GetAtt'][0]).sort()).toEqual([
      expect.stringMatching(/^ApiTaskDefExecutionRole/),
      expect.stringMatching(/^ApiTaskDefTaskRole/),
    ]);
    expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    // It reads this stack's status, to run nothing while CloudFormation rolls back.
    const describe = statements.find((s) => s.Action === 'cloudformation:DescribeStacks');
    expect(describe.Resource).toEqual({ Ref: 'AWS::StackId' });
    expect(
      statements
        .map((s) => s.Action)
        .flat()
        .sort(),
    ).toEqual(['cloudformation:DescribeStacks', 'ecs:RunTask', 'iam:PassRole']);
  });

  test('the waiter may only describe and stop tasks of this cluster', () => {
    const policies = Object.values<any>(template.findResources('AWS::IAM::Policy')).filter((p) =>
      p.Properties.Roles.some((r: any) => /^ApiMigrationWaiterServiceRole/.test(r.Ref)),
    );
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    const clusterId = stack.getLogicalId(construct.cluster.node.defaultChild as any);
    expect(statements[0].Resource).toEqual({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:123456789012:task/', { Ref: clusterId }, '/*'],
      ],
    });
    expect(statements[0].Condition).toEqual({ ArnEquals: { 'ecs:cluster': { 'Fn::GetAtt': [clusterId, 'Arn'] } } });
  });

  test('the provider polls every 15 seconds, and its functions log to encrypted groups with retention', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('Starts the one-off migration task'),
      Runtime: 'nodejs24.x',
    });
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', { DefinitionString: Match.anyValue() });
    const sm = onlyResource(template, 'AWS::StepFunctions::StateMachine');
    expect(JSON.stringify(sm.props.DefinitionString)).toContain('\\"IntervalSeconds\\":15');
    for (const group of Object.values<any>(template.findResources('AWS::Logs::LogGroup'))) {
      expect(group.Properties.RetentionInDays).toBe(365);
      expect(group.Properties.KmsKeyId).toBeDefined();
    }
  });

  test('replicas no longer migrate at start: MIGRATE_ON_START=false', () => {
    const container = onlyResource(template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
    expect(container.Environment).toContainEqual({ Name: 'MIGRATE_ON_START', Value: 'false' });
  });

  test('without the gate, replicas migrate at start and there is no custom resource', () => {
    const plain = synth({});
    plain.template.resourceCountIs('Custom::MigrationGate', 0);
    const container = onlyResource(plain.template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
    expect(container.Environment.map((e: any) => e.Name)).not.toContain('MIGRATE_ON_START');
  });

  test('the timeout and the start-up behaviour are configurable', () => {
    const custom = synth({ migrations: { command, timeout: Duration.minutes(30), disableMigrateOnStart: false } });
    expect(onlyResource(custom.template, 'Custom::MigrationGate').props.TimeoutSeconds).toBe('1800');
    const container = onlyResource(custom.template, 'AWS::ECS::TaskDefinition').props.ContainerDefinitions[0];
    expect(container.Environment.map((e: any) => e.Name)).not.toContain('MIGRATE_ON_START');
  });
});

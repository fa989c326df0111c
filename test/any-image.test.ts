import * as ecs from 'aws-cdk-lib/aws-ecs';
import { DatabaseVariables, EnvironmentProfile, ServiceImage } from '../src';
import { synth } from './helpers';

/**
 * The construct with stock images a new user would bring, each with only the props its nature needs: what runs is
 * asserted from the task definition (health check, user, sysctl, variables, writable paths).
 *
 * Documented behaviour relied on: Fargate (platform 1.4.0 and later) accepts namespaced `net.*` kernel parameters in
 * a container's `systemControls`, among them `net.ipv4.ip_unprivileged_port_start`, which lets a non-root process
 * bind ports from that number up.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#container_definition_systemcontrols
 */

const containerOf = (template: any) =>
  Object.values<any>(template.findResources('AWS::ECS::TaskDefinition'))[0].Properties.ContainerDefinitions[0];
const taskDefinitionOf = (template: any) =>
  Object.values<any>(template.findResources('AWS::ECS::TaskDefinition'))[0].Properties;
const secretFields = (container: any) =>
  Object.fromEntries(container.Secrets.map((s: any) => [s.Name, s.ValueFrom['Fn::Join'][1][1].replace(/^:|::$/g, '')]));

describe('stock nginx on port 80', () => {
  const { template } = synth({
    image: ServiceImage.fromContainerImage(ecs.ContainerImage.fromRegistry('nginx:1.27')),
    container: { port: 80, user: '101', writablePaths: ['/tmp', '/var/cache/nginx', '/var/run'] },
    loadBalancer: { healthCheck: { path: '/' } },
  });
  const container = containerOf(template);

  test('no node-based health check: the load balancer judges the tasks', () => {
    expect(container.HealthCheck).toBeUndefined();
  });

  test('runs as its non-root user, which may bind port 80 (the unprivileged port floor moves to 80)', () => {
    expect(container.User).toBe('101');
    expect(container.SystemControls).toEqual([{ Namespace: 'net.ipv4.ip_unprivileged_port_start', Value: '80' }]);
    expect(container.PortMappings).toEqual([{ ContainerPort: 80, Name: 'http', Protocol: 'tcp' }]);
  });

  test('keeps the root filesystem read-only with the three paths nginx writes to as task-local volumes', () => {
    expect(container.ReadonlyRootFilesystem).toBe(true);
    expect(container.MountPoints).toEqual([
      { ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false },
      { ContainerPath: '/var/cache/nginx', SourceVolume: 'var-cache-nginx', ReadOnly: false },
      { ContainerPath: '/var/run', SourceVolume: 'var-run', ReadOnly: false },
    ]);
    expect(taskDefinitionOf(template).Volumes).toEqual([
      { Name: 'tmp' },
      { Name: 'var-cache-nginx' },
      { Name: 'var-run' },
    ]);
  });

  test('no Node.js variable is forced on it', () => {
    expect(container.Environment.map((e: any) => e.Name).sort()).toEqual(['DB_POOL_MAX', 'PORT']);
  });
});

describe('a Python app on port 8000 reading libpq variables', () => {
  const { template } = synth({
    image: ServiceImage.fromContainerImage(ecs.ContainerImage.fromRegistry('ghcr.io/example/orders-api:1.4.2')),
    container: { port: 8000, databaseVariables: DatabaseVariables.libpq() },
  });
  const container = containerOf(template);

  test("the database settings come as libpq's own variables, read from the app's secret", () => {
    expect(secretFields(container)).toEqual({
      PGHOST: 'host',
      PGPORT: 'port',
      PGDATABASE: 'dbname',
      PGUSER: 'username',
      PGPASSWORD: 'password',
    });
    expect(container.Environment).toEqual(
      expect.arrayContaining([
        { Name: 'PORT', Value: '8000' },
        { Name: 'DB_POOL_MAX', Value: '10' },
      ]),
    );
  });

  test('no health check of its own, no sysctl above 1024, the default non-root user', () => {
    expect(container.HealthCheck).toBeUndefined();
    expect(container.SystemControls).toBeUndefined();
    expect(container.User).toBe('1000');
  });
});

describe('a Go binary on port 8080 with the defaults', () => {
  const { template } = synth({
    image: ServiceImage.fromContainerImage(ecs.ContainerImage.fromRegistry('ghcr.io/example/ledger:2.0.0')),
    container: {
      port: 8080,
      databaseVariables: DatabaseVariables.custom({
        host: 'LEDGER_DB_HOST',
        port: 'LEDGER_DB_PORT',
        name: 'LEDGER_DB_NAME',
        user: 'LEDGER_DB_USER',
        password: 'LEDGER_DB_PASSWORD',
        poolSize: 'LEDGER_DB_MAX_CONNS',
      }),
    },
  });
  const container = containerOf(template);

  test('its own variable names, the pool size included', () => {
    expect(secretFields(container)).toEqual({
      LEDGER_DB_HOST: 'host',
      LEDGER_DB_PORT: 'port',
      LEDGER_DB_NAME: 'dbname',
      LEDGER_DB_USER: 'username',
      LEDGER_DB_PASSWORD: 'password',
    });
    expect(container.Environment.map((e: any) => e.Name).sort()).toEqual(['LEDGER_DB_MAX_CONNS', 'PORT']);
  });

  test('a read-only root filesystem with /tmp writable, no health check, no sysctl', () => {
    expect(container.MountPoints).toEqual([{ ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false }]);
    expect(container.HealthCheck).toBeUndefined();
    expect(container.SystemControls).toBeUndefined();
  });
});

describe.each([
  ['DatabaseVariables.db()', DatabaseVariables.db()],
  ['DatabaseVariables.libpq()', DatabaseVariables.libpq()],
  [
    'DatabaseVariables.custom()',
    DatabaseVariables.custom({ host: 'H', port: 'P', name: 'N', user: 'U', password: 'W', poolSize: 'S' }),
  ],
])('%s in prod with migrations and rotation', (_name, databaseVariables) => {
  const { template, stack, construct } = synth({
    profile: EnvironmentProfile.PROD,
    container: { databaseVariables },
    migrations: { command: ['migrate'] },
  });

  test("every database variable reads the rotating app secret (so each new task gets the current login), never the master's", () => {
    const container = containerOf(template);
    const app = JSON.stringify(stack.resolve(construct.databaseSecret!.secretArn));
    const master = JSON.stringify(stack.resolve(construct.databaseMasterSecret.secretArn));
    expect(container.Secrets).toHaveLength(5);
    for (const s of container.Secrets) {
      expect(JSON.stringify(s.ValueFrom)).toContain(app);
      expect(JSON.stringify(s.ValueFrom)).not.toContain(master);
    }
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 2);
  });

  test('the migration gate runs this same task definition, so the migration task gets the same variables', () => {
    const [gate] = Object.values<any>(template.findResources('Custom::MigrationGate'));
    expect(gate.Properties.TaskDefinition).toEqual(stack.resolve(construct.taskDefinition.taskDefinitionArn));
  });
});

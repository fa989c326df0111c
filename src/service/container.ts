import { Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { ProfileDefaults } from '../defaults';
import { isKnown, PropChecker, Resolved } from '../internal/validation';
import { ContainerOptions } from '../props';

/** The container's settings with defaults applied; the health check is the ECS one to use, if any. */
export type ResolvedContainer = Resolved<Omit<ContainerOptions, 'healthCheck'>> & {
  readonly healthCheck?: ecs.HealthCheck;
};

/** The database settings the construct injects, by environment variable, with the secret field each one reads. */
export const DATABASE_SECRET_FIELDS: Readonly<Record<string, string>> = {
  DB_HOST: 'host',
  DB_PORT: 'port',
  DB_NAME: 'dbname',
  DB_USER: 'username',
  DB_PASSWORD: 'password',
};

/** Environment variable names the construct sets itself. */
export const RESERVED_ENVIRONMENT = ['PORT', 'NODE_ENV', 'DB_POOL_MAX', ...Object.keys(DATABASE_SECRET_FIELDS)];
const CREDENTIAL_LIKE_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i;
const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function resolveContainer(
  check: PropChecker,
  props: ContainerOptions | undefined,
  defaults: ProfileDefaults,
  inputs: { readonly healthCheckPath: string },
): ResolvedContainer {
  const c = props ?? {};
  check.integer('container.port', c.port, 1, 65535);
  check.integer('container.databasePoolSize', c.databasePoolSize, 1, 1000);
  check.duration('container.stopTimeout', c.stopTimeout, 2, 120);
  const environment = c.environment ?? {};
  const secrets = c.secrets ?? {};
  for (const name of [...Object.keys(environment), ...Object.keys(secrets)]) {
    const prop = name in environment ? 'container.environment' : 'container.secrets';
    check.refuse(
      !ENVIRONMENT_NAME.test(name),
      `\`${prop}\` names must be letters, digits and underscores, not starting with a digit, got "${name}".`,
    );
    check.refuse(
      RESERVED_ENVIRONMENT.includes(name),
      `\`${prop}\` must not set ${name}: the construct sets ${RESERVED_ENVIRONMENT.join(', ')} itself.`,
    );
  }
  for (const [name, value] of Object.entries(environment)) {
    check.refuse(
      CREDENTIAL_LIKE_NAME.test(name) && !Token.isUnresolved(value),
      `\`container.environment.${name}\` looks like a credential and would be stored in plain text in the task definition; pass it in \`container.secrets\` (ecs.Secret.fromSecretsManager or fromSsmParameter).`,
    );
  }
  check.refuse(
    isKnown(c.user) && /^(root|0)(:|$)/.test(c.user!.trim()),
    `\`container.user\` must not be root: give a non-root user name or numeric id such as "1000", got "${c.user}".`,
  );
  const port = c.port ?? defaults['ContainerOptions.port'];
  const choice = c.healthCheck ?? defaults['ContainerOptions.healthCheck'];
  return {
    port,
    databasePoolSize: c.databasePoolSize ?? defaults['ContainerOptions.databasePoolSize'],
    environment,
    secrets,
    healthCheck: choice._nodeFetch ? nodeFetchHealthCheck(port, inputs.healthCheckPath, defaults) : choice._healthCheck,
    stopTimeout: c.stopTimeout ?? defaults['ContainerOptions.stopTimeout'],
    user: c.user ?? defaults['ContainerOptions.user'],
    readonlyRootFilesystem: c.readonlyRootFilesystem ?? defaults['ContainerOptions.readonlyRootFilesystem'],
  };
}

/** `node` fetches the load balancer's health path inside the container: the same check, without the network. */
function nodeFetchHealthCheck(port: number, path: string, defaults: ProfileDefaults): ecs.HealthCheck {
  return {
    command: [
      'CMD',
      'node',
      '-e',
      `fetch('http://127.0.0.1:${port}${path}').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
    ],
    interval: defaults['Fixed.containerHealthCheckInterval'],
    timeout: defaults['Fixed.containerHealthCheckTimeout'],
    retries: defaults['Fixed.containerHealthCheckRetries'],
    startPeriod: defaults['Fixed.containerHealthCheckStartPeriod'],
  };
}

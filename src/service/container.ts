import { Annotations, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { DatabaseVariables } from './database-variables';
import { ProfileDefaults } from '../defaults';
import { isKnown, PropChecker, Resolved } from '../internal/validation';
import { ContainerOptions } from '../props';

/** The container's settings with defaults applied; the health check is the ECS one to use, if any. */
export type ResolvedContainer = Resolved<Omit<ContainerOptions, 'healthCheck' | 'writablePaths'>> & {
  readonly healthCheck?: ecs.HealthCheck;
  /** Writable paths under a read-only root filesystem (none when the root filesystem is writable). */
  readonly writablePaths: string[];
  /** The variables injected as ECS secrets from the app's database secret, with the field each one reads. */
  readonly databaseSecretFields: Readonly<Record<string, string>>;
};

const CREDENTIAL_LIKE_NAME = /PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL/i;
const ENVIRONMENT_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ABSOLUTE_PATH = /^(\/[A-Za-z0-9._-]+)+$/;
const MAX_WRITABLE_PATHS = 10;

export function resolveContainer(
  check: PropChecker,
  scope: Construct,
  props: ContainerOptions | undefined,
  defaults: ProfileDefaults,
  inputs: { readonly healthCheckPath: string },
): ResolvedContainer {
  const c = props ?? {};
  check.integer('container.port', c.port, 1, 65535);
  check.integer('container.databasePoolSize', c.databasePoolSize, 1, 1000);
  check.duration('container.stopTimeout', c.stopTimeout, 2, 120);
  const databaseVariables = c.databaseVariables ?? defaults['ContainerOptions.databaseVariables'];
  const databaseSecretFields = resolveDatabaseVariables(check, databaseVariables);
  const reserved = [
    'PORT',
    databaseVariables._poolSize,
    databaseVariables._iamAuthentication,
    databaseVariables._readHost,
    ...Object.keys(databaseSecretFields),
  ];
  const environment = c.environment ?? {};
  const secrets = c.secrets ?? {};
  for (const name of [...Object.keys(environment), ...Object.keys(secrets)]) {
    const prop = name in environment ? 'container.environment' : 'container.secrets';
    check.refuse(
      !ENVIRONMENT_NAME.test(name),
      `\`${prop}\` names must be letters, digits and underscores, not starting with a digit, got "${name}".`,
    );
    check.refuse(
      reserved.includes(name),
      `\`${prop}\` must not set ${name}: the construct sets ${reserved.join(', ')} itself (\`container.databaseVariables\` ${databaseVariables} names the database ones).`,
    );
  }
  for (const [name, value] of Object.entries(environment)) {
    if (CREDENTIAL_LIKE_NAME.test(name) && !Token.isUnresolved(value)) {
      Annotations.of(scope).addWarningV2(
        'cdk-fargate-web-service-with-database:credentialInEnvironment',
        `\`container.environment.${name}\` looks like a credential and would be stored in plain text in the task definition; pass a credential in \`container.secrets\` (ecs.Secret.fromSecretsManager or fromSsmParameter), or acknowledge this warning for a value that is not one.`,
      );
    }
  }
  check.refuse(
    isKnown(c.user) && /^(root|0)(:|$)/.test(c.user!.trim()),
    `\`container.user\` must not be root: give a non-root user name or numeric id such as "1000", got "${c.user}".`,
  );
  const readonlyRootFilesystem = c.readonlyRootFilesystem ?? defaults['ContainerOptions.readonlyRootFilesystem'];
  const writablePaths = c.writablePaths ?? defaults['ContainerOptions.writablePaths'];
  check.refuse(
    c.writablePaths !== undefined && !readonlyRootFilesystem,
    '`container.writablePaths` needs `container.readonlyRootFilesystem` (with a writable root filesystem every path is writable); leave one of them unset.',
  );
  for (const path of writablePaths) {
    check.refuse(
      !Token.isUnresolved(path) && (!ABSOLUTE_PATH.test(path) || path.split('/').some((p) => p === '..' || p === '.')),
      `\`container.writablePaths\` must be absolute paths without "." or ".." segments (letters, digits, ".", "_", "-"), got "${path}".`,
    );
  }
  check.refuse(
    new Set(writablePaths).size !== writablePaths.length || writablePaths.length > MAX_WRITABLE_PATHS,
    `\`container.writablePaths\` must be at most ${MAX_WRITABLE_PATHS} distinct paths, got ${JSON.stringify(writablePaths)}.`,
  );
  const port = c.port ?? defaults['ContainerOptions.port'];
  const choice = c.healthCheck ?? defaults['ContainerOptions.healthCheck'];
  return {
    port,
    databasePoolSize: c.databasePoolSize ?? defaults['ContainerOptions.databasePoolSize'],
    databaseVariables,
    databaseSecretFields,
    environment,
    secrets,
    healthCheck: choice._nodeFetch ? nodeFetchHealthCheck(port, inputs.healthCheckPath, defaults) : choice._healthCheck,
    stopTimeout: c.stopTimeout ?? defaults['ContainerOptions.stopTimeout'],
    user: c.user ?? defaults['ContainerOptions.user'],
    readonlyRootFilesystem,
    writablePaths: readonlyRootFilesystem ? writablePaths : [],
  };
}

/** The variable names of a `DatabaseVariables` choice, checked: environment names, all different, not PORT. */
function resolveDatabaseVariables(check: PropChecker, choice: DatabaseVariables): Record<string, string> {
  const n = choice._names;
  const names = [
    n.host,
    n.port,
    n.name,
    n.user,
    n.password,
    choice._poolSize,
    choice._iamAuthentication,
    choice._readHost,
  ];
  for (const name of names) {
    check.refuse(
      !ENVIRONMENT_NAME.test(name) || name === 'PORT',
      `\`container.databaseVariables\` ${choice} names must be letters, digits and underscores, not starting with a digit, and not PORT, got "${name}".`,
    );
  }
  check.refuse(
    new Set(names).size !== names.length,
    `\`container.databaseVariables\` ${choice} must name ${names.length} different variables, got ${names.join(', ')}.`,
  );
  return choice._secretFields();
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

/** Configuration read from the environment, validated once at start. */
export interface Config {
  readonly port: number;
  readonly logLevel: string;
  /** Undefined when no database is configured: the entry starts the embedded one. */
  readonly database?: DatabaseConfig;
  /** Time given to in-flight requests after SIGTERM before connections are forced closed. */
  readonly shutdownGraceMs: number;
  /** Run pending migrations at start (under an advisory lock). */
  readonly migrateOnStart: boolean;
  readonly bodyLimit: string;
  /**
   * How long an idle keep-alive connection stays open: 5 s longer than the load balancer's idle timeout
   * (`LB_IDLE_TIMEOUT_SECONDS`, which the infra sets from `loadBalancer.idleTimeout`), so the load balancer always
   * closes first and never sends a request on a connection the app is closing (a classic source of 502s).
   */
  readonly keepAliveTimeoutMs: number;
}

export interface DatabaseConfig {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
  /** Empty with IAM authentication: each connection then signs a token instead. */
  readonly password: string;
  /**
   * Authenticate with an IAM token signed by the task role for each new connection (`DB_IAM_AUTH=true`, which the
   * construct sets behind RDS Proxy), in `region` (`AWS_REGION`, which Fargate sets in every task).
   */
  readonly iamAuthentication?: { readonly region: string };
  /**
   * The Aurora readers' endpoint (`DB_READ_HOST`, which the construct sets when the cluster has readers): the hot read
   * path's pool connects there, on the same port, as the same user.
   */
  readonly readHost?: string;
  /** `require`: TLS with the CA bundle verified; `disable`: plain TCP (local only). */
  readonly ssl: 'require' | 'disable';
  readonly caFile?: string;
  readonly poolMax: number;
  /** Bound on waiting for a connection, connecting and running one query. */
  readonly timeoutMs: number;
}

/** A configuration problem: names the variable and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${raw}"`);
  }
  return Number(raw);
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!allowed.includes(raw as T)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  return oneOf(env, name, ['true', 'false'] as const, fallback ? 'true' : 'false') === 'true';
}

/**
 * Reads the configuration. The database comes from `DB_HOST`, `DB_PORT`, `DB_NAME`, `DB_USER`, `DB_PASSWORD` (as
 * FargateWebServiceWithDatabase injects them; behind RDS Proxy `DB_IAM_AUTH=true` replaces `DB_PASSWORD`) or from
 * `DATABASE_URL`; with neither, it is undefined.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    database: loadDatabaseConfig(env, production),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 20000, 0, 110000),
    migrateOnStart: bool(env, 'MIGRATE_ON_START', true),
    bodyLimit: `${integer(env, 'BODY_LIMIT_KB', 16, 1, 10240)}kb`,
    keepAliveTimeoutMs: (integer(env, 'LB_IDLE_TIMEOUT_SECONDS', 60, 1, 4000) + 5) * 1000,
  };
}

function loadDatabaseConfig(env: NodeJS.ProcessEnv, production: boolean): DatabaseConfig | undefined {
  const parts = ['DB_HOST', 'DB_PORT', 'DB_NAME', 'DB_USER', 'DB_PASSWORD'];
  const given = parts.filter((name) => env[name] !== undefined && env[name] !== '');
  if (env.DATABASE_URL && env.DB_IAM_AUTH) {
    throw new ConfigError('DB_IAM_AUTH', 'works with the DB_* variables, not with DATABASE_URL');
  }
  if (given.length > 0 && env.DATABASE_URL) {
    throw new ConfigError(
      'DATABASE_URL',
      `set either DATABASE_URL or the DB_* variables, not both (got ${given.join(', ')})`,
    );
  }
  const common = {
    ssl: oneOf(env, 'DB_SSL', ['require', 'disable'] as const, production ? 'require' : 'disable'),
    caFile: env.DB_CA_FILE || undefined,
    poolMax: integer(env, 'DB_POOL_MAX', 20, 2, 200),
    timeoutMs: integer(env, 'DB_TIMEOUT_MS', 2000, 100, 60000),
  };
  if (env.DATABASE_URL) {
    let url: URL;
    try {
      url = new URL(env.DATABASE_URL);
    } catch {
      throw new ConfigError('DATABASE_URL', 'must be a URL such as postgres://user:password@host:5432/name');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new ConfigError('DATABASE_URL', `must use the postgres:// scheme, got "${url.protocol}//"`);
    }
    const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (!url.hostname || !name || !url.username) {
      throw new ConfigError(
        'DATABASE_URL',
        'must name a host, a user and a database: postgres://user:password@host:5432/name',
      );
    }
    const port = url.port ? Number(url.port) : 5432;
    return {
      ...common,
      host: url.hostname,
      port,
      name,
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    };
  }
  if (given.length === 0) return undefined;
  const missing = parts.filter((name) => !given.includes(name) && name !== 'DB_PASSWORD');
  if (missing.length > 0) {
    throw new ConfigError(missing[0], `is required when any DB_* variable is set (missing: ${missing.join(', ')})`);
  }
  return {
    ...common,
    host: env.DB_HOST!,
    port: integer(env, 'DB_PORT', 5432, 1, 65535),
    name: env.DB_NAME!,
    user: env.DB_USER!,
    password: env.DB_PASSWORD ?? '',
    ...(env.DB_READ_HOST ? { readHost: env.DB_READ_HOST } : {}),
    ...iamAuthentication(env, common.ssl),
  };
}

/** `DB_IAM_AUTH=true`: tokens instead of a password, over TLS only, in the task's region. */
function iamAuthentication(
  env: NodeJS.ProcessEnv,
  ssl: DatabaseConfig['ssl'],
): Pick<DatabaseConfig, 'iamAuthentication'> {
  if (!bool(env, 'DB_IAM_AUTH', false)) return {};
  if (env.DB_PASSWORD) {
    throw new ConfigError('DB_IAM_AUTH', 'is true, so DB_PASSWORD must not be set: each connection signs an IAM token');
  }
  if (ssl !== 'require') {
    throw new ConfigError(
      'DB_SSL',
      'must be require with DB_IAM_AUTH=true: IAM authentication tokens travel over TLS only',
    );
  }
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (!region) {
    throw new ConfigError(
      'AWS_REGION',
      'is required with DB_IAM_AUTH=true to sign tokens (Fargate sets it in every task)',
    );
  }
  return { iamAuthentication: { region } };
}

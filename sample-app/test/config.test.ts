import { ConfigError, loadConfig } from '../src/config';

describe('configuration', () => {
  test('defaults: port 3000, no database (embedded), migrate on start, 16 kB bodies', () => {
    expect(loadConfig({})).toMatchObject({ port: 3000, database: undefined, migrateOnStart: true, bodyLimit: '16kb' });
  });

  test('reads the DB_* variables the construct injects; TLS required in production', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      DB_HOST: 'db.example.internal',
      DB_PORT: '5432',
      DB_NAME: 'app',
      DB_USER: 'app_admin',
      DB_PASSWORD: 's3cret',
      DB_CA_FILE: '/app/certs/rds-global-bundle.pem',
    });
    expect(config.database).toEqual({
      host: 'db.example.internal',
      port: 5432,
      name: 'app',
      user: 'app_admin',
      password: 's3cret',
      ssl: 'require',
      caFile: '/app/certs/rds-global-bundle.pem',
      poolMax: 20,
      timeoutMs: 2000,
    });
  });

  test('reads DATABASE_URL with encoded credentials', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://me:p%40ss@localhost:6543/shop' });
    expect(config.database).toMatchObject({
      host: 'localhost',
      port: 6543,
      name: 'shop',
      user: 'me',
      password: 'p@ss',
      ssl: 'disable',
    });
  });

  test('keeps idle connections 5 s longer than the load balancer does (60 s unless LB_IDLE_TIMEOUT_SECONDS says)', () => {
    expect(loadConfig({}).keepAliveTimeoutMs).toBe(65000);
    expect(loadConfig({ LB_IDLE_TIMEOUT_SECONDS: '300' }).keepAliveTimeoutMs).toBe(305000);
  });

  test.each([
    [{ PORT: 'eighty' }, 'PORT: must be an integer from 0 to 65535, got "eighty"'],
    [{ PORT: '70000' }, 'PORT: must be an integer from 0 to 65535, got "70000"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ DB_HOST: 'h' }, 'DB_PORT: is required when any DB_* variable is set (missing: DB_PORT, DB_NAME, DB_USER)'],
    [
      { DB_HOST: 'h', DB_PORT: 'x', DB_NAME: 'n', DB_USER: 'u' },
      'DB_PORT: must be an integer from 1 to 65535, got "x"',
    ],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL: must be a URL such as postgres://user:password@host:5432/name'],
    [{ DATABASE_URL: 'mysql://u@h/db' }, 'DATABASE_URL: must use the postgres:// scheme, got "mysql://"'],
    [
      { DATABASE_URL: 'postgres://u@h/db', DB_HOST: 'h' },
      'DATABASE_URL: set either DATABASE_URL or the DB_* variables, not both (got DB_HOST)',
    ],
    [{ DATABASE_URL: 'postgres://u@h/db', DB_SSL: 'maybe' }, 'DB_SSL: must be one of require, disable, got "maybe"'],
    [{ DB_POOL_MAX: '1' }, 'DB_POOL_MAX: must be an integer from 2 to 200, got "1"'],
    [{ DB_TIMEOUT_MS: '10' }, 'DB_TIMEOUT_MS: must be an integer from 100 to 60000, got "10"'],
    [{ SHUTDOWN_GRACE_MS: '-5' }, 'SHUTDOWN_GRACE_MS: must be an integer from 0 to 110000, got "-5"'],
    [{ MIGRATE_ON_START: 'yes' }, 'MIGRATE_ON_START: must be one of true, false, got "yes"'],
    [{ LB_IDLE_TIMEOUT_SECONDS: '5000' }, 'LB_IDLE_TIMEOUT_SECONDS: must be an integer from 1 to 4000, got "5000"'],
  ])('%j is refused with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(ConfigError);
    expect(() => loadConfig(env as NodeJS.ProcessEnv)).toThrow(message);
  });
});

import { Client } from 'pg';
import { QueryInterface, Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug } from 'umzug';
import { DatabaseConfig } from './config';
import { tlsOptions } from './db';

/** The type every migration file implements. */
export type Migration = Umzug<QueryInterface>['_types']['migration'];

/** Any fixed 64-bit key works; every replica must use the same one. */
const MIGRATION_LOCK_KEY = 7_316_054_223;

/** Migrations are the files in `migrations/`, `.ts` under ts-node or jest, `.js` once compiled. */
export function createMigrator(sequelize: Sequelize): Umzug<QueryInterface> {
  return new Umzug({
    migrations: {
      glob: ['migrations/*.{js,ts}', { cwd: __dirname, ignore: ['**/*.d.ts', '**/*.map'] }],
      // Names without the extension, so a database migrated by the compiled app and one migrated under ts-node agree.
      resolve: ({ name, path: file, context }) => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const migration = require(file!) as { up: Migration; down: Migration };
        const params = { name: name.replace(/\.(js|ts)$/, ''), path: file, context };
        return {
          name: params.name,
          path: file,
          up: () => migration.up(params),
          down: () => migration.down(params),
        };
      },
    },
    context: sequelize.getQueryInterface(),
    storage: new SequelizeStorage({ sequelize, tableName: 'migrations' }),
    logger: undefined,
  });
}

/**
 * Applies pending migrations while holding a PostgreSQL advisory lock on a dedicated connection, so replicas that
 * start together apply each migration exactly once: the first takes the lock and migrates, the others wait for it
 * and then find nothing pending.
 */
export async function migrateWithLock(
  sequelize: Sequelize,
  config: DatabaseConfig,
  lockTimeoutMs = 120000,
): Promise<string[]> {
  const client = new Client({
    host: config.host,
    port: config.port,
    database: config.name,
    user: config.user,
    password: config.password,
    ssl: tlsOptions(config),
    connectionTimeoutMillis: config.timeoutMs,
    application_name: 'sample-users-api-migrate',
  });
  await client.connect();
  try {
    await client.query(`SET lock_timeout = ${Math.floor(lockTimeoutMs)}`);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      const applied = await createMigrator(sequelize).up();
      return applied.map((m) => m.name);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

/** For single-session databases (the embedded one): no second connection for a lock, and no second process. */
export async function migrateWithoutLock(sequelize: Sequelize): Promise<string[]> {
  const applied = await createMigrator(sequelize).up();
  return applied.map((m) => m.name);
}


import { Client } from 'pg';
import { QueryInterface, Sequelize } from 'sequelize';
import { SequelizeStorage, Umzug, UmzugOptions } from 'umzug';
import { DatabaseConfig } from './config';
import { pgConnection } from './db';

/** The type every migration file implements. */
export type Migration = Umzug<QueryInterface>['_types']['migration'];

type UmzugLogger = UmzugOptions['logger'];

/** Any fixed 64-bit key works; every replica must use the same one. */
export const MIGRATION_LOCK_KEY = 7_316_054_223;

/** Migrations are the files in `migrations/`, `.ts` under ts-node or jest, `.js` once compiled. */
export function createMigrator(sequelize: Sequelize, logger?: UmzugLogger): Umzug<QueryInterface> {
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
    logger,
  });
}

/**
 * Runs `work` while holding a PostgreSQL advisory lock on a dedicated connection, so replicas (or operators) that
 * migrate at the same time take turns: the first applies each migration, the others then find nothing pending.
 * Every migration command goes through it: `up` at start, and each command of the CLI.
 */
export async function withMigrationLock<T>(
  config: DatabaseConfig,
  work: () => Promise<T>,
  lockTimeoutMs = 120000,
): Promise<T> {
  const client = new Client({
    ...pgConnection(config),
    connectionTimeoutMillis: config.timeoutMs,
    application_name: 'sample-users-api-migrate',
  });
  await client.connect();
  try {
    await client.query(`SET lock_timeout = ${Math.floor(lockTimeoutMs)}`);
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await work();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await client.end();
  }
}

/** Applies pending migrations under the advisory lock; returns their names. */
export async function migrateWithLock(
  sequelize: Sequelize,
  config: DatabaseConfig,
  lockTimeoutMs = 120000,
): Promise<string[]> {
  const applied = await withMigrationLock(config, () => createMigrator(sequelize).up(), lockTimeoutMs);
  return applied.map((m) => m.name);
}

/** For single-session databases (the embedded one): no second connection for a lock, and no second process. */
export async function migrateWithoutLock(sequelize: Sequelize): Promise<string[]> {
  const applied = await createMigrator(sequelize).up();
  return applied.map((m) => m.name);
}

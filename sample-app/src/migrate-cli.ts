import { Umzug, UmzugCLI } from 'umzug';
import { ConfigError, DatabaseConfig, loadConfig } from './config';
import { createSequelize } from './db';
import { createLogger, flushLogs } from './logger';
import { createMigrator, withMigrationLock } from './migrator';

/**
 * One-off migration commands, e.g. the construct's migration gate (`node dist/migrate-cli.js up`): Umzug's own CLI
 * (`up`, `down`, `pending`, `executed`, each with `--help`), run while holding the same advisory lock as the
 * replicas' migrate-at-start, so no two migration commands ever run at once.
 *
 * Reads the database from DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD or DATABASE_URL.
 */
/** Where `--help` points Sequelize: it never connects to print help. */
const NO_DATABASE: DatabaseConfig = {
  host: '127.0.0.1',
  port: 5432,
  name: 'none',
  user: 'none',
  password: '',
  ssl: 'disable',
  poolMax: 1,
  timeoutMs: 1000,
};

async function main(argv: string[]): Promise<number> {
  const config = loadConfig();
  const wantsHelp = argv.length === 0 || argv.some((arg) => arg === '-h' || arg === '--help');
  const database = config.database ?? (wantsHelp ? NO_DATABASE : undefined);
  if (!database) throw new ConfigError('DB_HOST', 'is required (or DATABASE_URL) to run migrations');
  // One connection, and room for statements longer than a request's bound.
  const sequelize = createSequelize({ ...database, timeoutMs: Math.max(database.timeoutMs, 30000) }, 1);
  const migrator = createMigrator(sequelize, createLogger(config.logLevel));
  const cli = () =>
    // UmzugCLI is typed for Umzug<object>; Umzug's own runAsCLI hands itself over the same way.
    new UmzugCLI(migrator as unknown as Umzug<object>, {
      toolFileName: 'npm run migrate --',
      toolDescription: 'Database migrations of the users API, run under the advisory lock the replicas share.',
    }).execute(argv);
  try {
    const ok = wantsHelp ? await cli() : await withMigrationLock(database, cli);
    return ok ? 0 : 1;
  } finally {
    await sequelize.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    flushLogs();
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: (err as Error)?.message ?? String(err) })}\n`);
    process.exit(1);
  },
);

import { ConfigError, loadConfig } from './config';
import { createSequelize } from './db';
import { createMigrator, migrateWithLock } from './migrator';

const USAGE = `usage: npm run migrate -- <command>

  up       apply pending migrations (under the advisory lock replicas share)
  down     revert the last applied migration
  status   list applied and pending migrations

Reads the database from DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD or DATABASE_URL.`;

/** One-off migration command, e.g. as an ECS task with a command override. */
async function main(command: string | undefined): Promise<number> {
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (command !== 'up' && command !== 'down' && command !== 'status') {
    process.stderr.write(`unknown command "${command ?? ''}"\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  if (!config.database) {
    throw new ConfigError('DB_HOST', 'is required (or DATABASE_URL) to run migrations');
  }
  const sequelize = createSequelize({ ...config.database, timeoutMs: Math.max(config.database.timeoutMs, 30000) });
  try {
    if (command === 'up') {
      const applied = await migrateWithLock(sequelize, config.database);
      process.stdout.write(`${JSON.stringify({ command, applied })}\n`);
    } else if (command === 'down') {
      const reverted = await createMigrator(sequelize).down();
      process.stdout.write(`${JSON.stringify({ command, reverted: reverted.map((m) => m.name) })}\n`);
    } else {
      const migrator = createMigrator(sequelize);
      const executed = (await migrator.executed()).map((m) => m.name);
      const pending = (await migrator.pending()).map((m) => m.name);
      process.stdout.write(`${JSON.stringify({ command, executed, pending })}\n`);
    }
    return 0;
  } finally {
    await sequelize.close();
  }
}

main(process.argv[2]).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: (err as Error)?.message ?? String(err) })}\n`);
    process.exit(1);
  },
);

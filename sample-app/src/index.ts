import * as path from 'node:path';
import { createApp } from './app';
import { ConfigError, DatabaseConfig, loadConfig } from './config';
import { openDatabase } from './db';
import { EmbeddedDatabase, EmbeddedDatabaseError, startEmbeddedDatabase } from './embedded';
import { createLogger, flushLogs } from './logger';
import { migrateWithLock, migrateWithoutLock } from './migrator';
import { handleShutdownSignals } from './server';

/** Entry: read the configuration, reach the database, migrate, listen, and drain on SIGTERM. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);

  let embedded: EmbeddedDatabase | undefined;
  let database: DatabaseConfig | undefined = config.database;
  if (!database) {
    if (process.env.NODE_ENV === 'production') {
      throw new ConfigError(
        'DB_HOST',
        'is required in production (or DATABASE_URL); the embedded database is for local use',
      );
    }
    const dataDir = path.resolve(process.env.EMBEDDED_DATA_DIR || '.data');
    embedded = await startEmbeddedDatabase(dataDir);
    database = embedded.config;
    logger.info(
      { dataDir, port: database.port },
      'no database configured: started the embedded PostgreSQL (PGlite); set DB_* or DATABASE_URL to use a real one',
    );
  }

  const db = openDatabase(database);
  const { sequelize } = db;
  try {
    await sequelize.authenticate();
    if (config.migrateOnStart) {
      const applied = embedded ? await migrateWithoutLock(sequelize) : await migrateWithLock(sequelize, database);
      logger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'database schema up to date');
    }
  } catch (err) {
    await db.close();
    await embedded?.stop().catch(() => undefined);
    throw err;
  }

  const state = { draining: false };
  const app = createApp({ database: db, logger, bodyLimit: config.bodyLimit, isDraining: () => state.draining });
  const server = app.listen(config.port, (error?: Error) => {
    if (error) {
      logger.fatal({ err: error }, 'could not listen');
      flushLogs();
      process.exit(1);
    }
    const address = server.address();
    logger.info({ port: typeof address === 'object' && address ? address.port : config.port }, 'listening');
  });
  // Longer than the load balancer's idle timeout, so the load balancer closes idle connections first.
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  server.headersTimeout = config.keepAliveTimeoutMs + 1000;
  handleShutdownSignals({
    server,
    logger,
    graceMs: config.shutdownGraceMs,
    startDraining: () => {
      state.draining = true;
    },
    release: async () => {
      await db.close();
      await embedded?.stop();
    },
    exit: (code) => {
      flushLogs();
      process.exit(code);
    },
  });
}

main().catch((err: unknown) => {
  const known = err instanceof ConfigError || err instanceof EmbeddedDatabaseError;
  const message = known ? (err as Error).message : `startup failed: ${(err as Error)?.message ?? String(err)}`;
  process.stderr.write(`${JSON.stringify({ level: 'fatal', msg: message })}\n`);
  process.exit(1);
});

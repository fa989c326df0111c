import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { DatabaseConfig } from './config';

/** A running embedded PostgreSQL (PGlite served over the PostgreSQL wire protocol). */
export interface EmbeddedDatabase {
  readonly config: DatabaseConfig;
  readonly dataDir: string;
  stop(): Promise<void>;
}

export class EmbeddedDatabaseError extends Error {}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<dataDir>/.lock` for this process; PGlite's data directory must never be opened by two processes. */
function acquireLock(dataDir: string): string {
  const lockFile = path.join(dataDir, '.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return lockFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && processIsAlive(owner)) {
        throw new EmbeddedDatabaseError(
          `the embedded database in ${dataDir} is in use by process ${owner}; stop it, or set EMBEDDED_DATA_DIR to another directory`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  throw new EmbeddedDatabaseError(`could not lock ${lockFile}`);
}

/**
 * Starts PGlite on `dataDir` and serves it on 127.0.0.1. It is one session: the app's two pools get one connection
 * each (`poolMax: 2`), and the server runs their queries one at a time.
 * The packages are development dependencies, so the production image does not carry them.
 */
export async function startEmbeddedDatabase(dataDir: string, port = 0): Promise<EmbeddedDatabase> {
  let pglite: typeof import('@electric-sql/pglite');
  let socket: typeof import('@electric-sql/pglite-socket');
  try {
    // Development dependencies on purpose: the production image must not carry an embedded database.
    // eslint-disable-next-line import/no-extraneous-dependencies
    pglite = await import('@electric-sql/pglite');
    // eslint-disable-next-line import/no-extraneous-dependencies
    socket = await import('@electric-sql/pglite-socket');
  } catch {
    throw new EmbeddedDatabaseError(
      'no database is configured (set DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD or DATABASE_URL) and the embedded database is not installed (it is a development dependency)',
    );
  }
  mkdirSync(dataDir, { recursive: true });
  const lockFile = acquireLock(dataDir);
  try {
    const db = await pglite.PGlite.create(path.join(dataDir, 'pgdata'));
    // Two connections (Sequelize's and the read pool's) share PGlite's one session; the server queues their queries.
    const server = new socket.PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 2 });
    await server.start();
    const actualPort = Number(server.getServerConn().split(':').pop());
    return {
      dataDir,
      config: {
        host: '127.0.0.1',
        port: actualPort,
        name: 'postgres',
        user: 'postgres',
        password: 'postgres',
        ssl: 'disable',
        poolMax: 2,
        timeoutMs: 5000,
      },
      async stop() {
        await server.stop();
        await db.close();
        rmSync(lockFile, { force: true });
      },
    };
  } catch (err) {
    rmSync(lockFile, { force: true });
    throw err;
  }
}

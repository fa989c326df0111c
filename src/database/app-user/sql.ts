// Bundled into the SQL function's asset by esbuild; the library itself never loads this module.
import * as net from 'net';
// eslint-disable-next-line import/no-extraneous-dependencies
import { Client, ClientConfig } from 'pg';
import { AppUserReport, canSetRole, CurrentLogin, ensureAppUser, quoteIdent } from './statements';

/**
 * The app-user bootstrap's SQL function: runs in the database subnets, reaches only the database, and applies the
 * reviewed statements (statements.ts) as the master user. It gets the credentials from the bootstrap handler and
 * never logs them.
 */

export interface SqlRequest {
  readonly host: string;
  readonly port: number;
  readonly databaseName: string;
  readonly username: string;
  /** App users of earlier deployments whose objects go to `username` (database.appUsername renamed). */
  readonly previousUsernames?: string[];
  /** The master's current credentials, then its pending ones during a rotation of the master password. */
  readonly masterLogins: CurrentLogin[];
  /** The app secret's current login; none when the app authenticates with IAM (behind RDS Proxy). */
  readonly current?: CurrentLogin;
}

/** The report, and what the app user was refused when it tried (a probe in a transaction that is rolled back). */
export type SqlResult = AppUserReport & { readonly createRoleRefused: boolean };

export interface SqlOptions {
  /** TLS, verified against the CA bundle the runtime trusts (the Lambda runtime's includes the RDS CAs). */
  readonly ssl: boolean;
  /** A CA to verify the server against instead of the runtime's bundle (tests: the test server's own CA). */
  readonly ca?: string;
  readonly connectTimeoutMs?: number;
}

function config(request: SqlRequest, login: CurrentLogin, options: SqlOptions): ClientConfig {
  return {
    host: request.host,
    port: request.port,
    database: request.databaseName,
    user: login.username,
    password: login.password,
    ssl: options.ssl
      ? {
          rejectUnauthorized: true,
          ...(net.isIP(request.host) ? {} : { servername: request.host }),
          ...(options.ca ? { ca: options.ca } : {}),
        }
      : false,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10000,
    statement_timeout: 30000,
  };
}

async function connect(request: SqlRequest, login: CurrentLogin, options: SqlOptions): Promise<Client> {
  const client = new Client(config(request, login, options));
  client.on('error', () => undefined);
  try {
    await client.connect();
    return client;
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

export async function runSql(request: SqlRequest, options: SqlOptions): Promise<SqlResult> {
  let passwordWorks = false;
  try {
    if (request.current) {
      const probe = await connect(request, request.current, options);
      await probe.end();
      passwordWorks = true;
    }
  } catch {
    // The first deployment, or a secret changed outside rotation: the bootstrap sets the password.
  }
  let master: Client | undefined;
  const failures: string[] = [];
  for (const login of request.masterLogins) {
    try {
      master = await connect(request, login, options);
      break;
    } catch (err) {
      failures.push((err as Error).message);
    }
  }
  if (!master) throw new Error(`cannot log in as the master user: ${failures.join('; ')}`);
  let report: AppUserReport;
  let createRoleRefused: true | undefined;
  try {
    report = await ensureAppUser(
      master,
      { databaseName: request.databaseName, username: request.username, previousUsernames: request.previousUsernames },
      request.current,
      passwordWorks,
    );
    // Without a password the probe cannot log in as the app: the master's session takes the app's role instead.
    if (!request.current) createRoleRefused = await createRoleIsRefusedAs(master, request.username);
  } finally {
    await master.end();
  }
  return { ...report, createRoleRefused: createRoleRefused ?? (await createRoleIsRefused(request, options)) };
}

/**
 * Tries to create a role in a transaction that is rolled back, after `prepare` (which runs inside it): only
 * PostgreSQL's "insufficient privilege" passes; anything else, success included, fails the deployment.
 */
async function probeCreateRole(client: Client, prepare: () => Promise<unknown> = async () => undefined): Promise<true> {
  try {
    await client.query('BEGIN');
    await prepare();
    await client.query(`CREATE ROLE probe_${Date.now()}`);
  } catch (err) {
    if ((err as { code?: string }).code === '42501') return true;
    throw err;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
  }
  throw new Error('the app user could create a role');
}

/**
 * In the master's session, takes the app user's role (`SET LOCAL ROLE`) and probes: PostgreSQL checks CREATEROLE
 * against the current role, so this answers for the app user without its login.
 */
export async function createRoleIsRefusedAs(master: Client, username: string): Promise<true> {
  return probeCreateRole(master, async () => {
    if (!(await canSetRole(master, username))) await master.query(`GRANT ${quoteIdent(username)} TO CURRENT_USER`);
    await master.query(`SET LOCAL ROLE ${quoteIdent(username)}`);
  });
}

/** Logs in as the app and probes; anything but PostgreSQL's "insufficient privilege" fails the deployment. */
export async function createRoleIsRefused(request: SqlRequest, options: SqlOptions): Promise<true> {
  if (!request.current) throw new Error('the app has no password login to probe with');
  const app = await connect(request, request.current, options);
  try {
    return await probeCreateRole(app);
  } finally {
    await app.end();
  }
}

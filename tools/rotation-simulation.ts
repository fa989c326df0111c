/**
 * What Secrets Manager's PostgreSQL alternating-users rotation function does, step by step, with the same SQL
 * (SecretsManagerRDSPostgreSQLRotationMultiUser: createSecret, setSecret, testSecret, finishSecret), against a
 * PostgreSQL the test reaches, with the secret's versions kept in memory. Used to prove offline that the construct's
 * bootstrap and this rotation fit together: the app keeps working, and the oldest password stops working.
 *
 * Source: aws-samples/aws-secrets-manager-rotation-lambdas, commit b4b8eca63e1f61bbcfb18c291b640f4fc3b0deb8
 * (2025-02-25), SecretsManagerRDSPostgreSQLRotationMultiUser/lambda_function.py: set_secret returns at once when the
 * pending login already works, refuses unless the current login works ("confused deputy"), then, logged in with the
 * master secret at AWSCURRENT, runs `CREATE ROLE <pending> WITH LOGIN PASSWORD` and `GRANT <current> TO <pending>`
 * when the pending role is missing, else only `ALTER USER <pending> WITH PASSWORD`; test_secret logs in with the
 * pending login and runs `SELECT NOW()`; finish_secret moves AWSCURRENT to the pending version.
 */
import { randomBytes } from 'crypto';
import { ConnectionOptions } from 'tls';
import { Client } from 'pg';

export interface Login {
  readonly username: string;
  readonly password: string;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** TLS as the client verifies the server (the test server requires it, as RDS with rds.force_ssl=1 does). */
  readonly ssl?: ConnectionOptions;
}

/** The app's secret: AWSCURRENT and AWSPREVIOUS. */
export interface AppSecret {
  current: Login;
  previous?: Login;
}

const CLONE = '_clone';
const alternate = (username: string) =>
  username.endsWith(CLONE) ? username.slice(0, -CLONE.length) : `${username}${CLONE}`;

/**
 * PostgreSQL's SQLSTATE for a refused password (invalid_password). Not 28000: pg_hba.conf rejects with it too, for
 * example a connection without TLS, which is a broken setup, not a refused login.
 */
const AUTHENTICATION_FAILED = ['28P01'];

/**
 * Logs in with `login` and runs a query; true when PostgreSQL accepts it, false when it refuses the login. Anything
 * else (the server down, a timeout, a TLS error) is thrown: a harness that took it for "refused" would prove nothing.
 */
export async function canLogIn(endpoint: Endpoint, login: Login): Promise<boolean> {
  const client = new Client({
    ...endpoint,
    user: login.username,
    password: login.password,
    connectionTimeoutMillis: 5000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT now()');
    return true;
  } catch (err) {
    if (AUTHENTICATION_FAILED.includes((err as { code?: string }).code ?? '')) return false;
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** One rotation of `secret`, as the rotation function runs it with `master`'s credentials. */
export async function rotate(endpoint: Endpoint, master: Login, secret: AppSecret): Promise<void> {
  // createSecret: the other login, a new password.
  const pending: Login = {
    username: alternate(secret.current.username),
    password: randomBytes(24).toString('base64url'),
  };
  // setSecret: nothing to do when the pending login already works (a retried step); refuse to touch anything if the
  // current login does not work (confused deputy).
  if (!(await canLogIn(endpoint, pending))) await setSecret(endpoint, master, secret.current, pending);
  // testSecret
  if (!(await canLogIn(endpoint, pending))) throw new Error('testSecret: the pending credentials do not log in');
  // finishSecret
  secret.previous = secret.current;
  secret.current = pending;
}

/** setSecret of AWS's function, as the master user. */
async function setSecret(endpoint: Endpoint, master: Login, current: Login, pending: Login): Promise<void> {
  if (!(await canLogIn(endpoint, current))) throw new Error('setSecret: the current credentials do not log in');
  const admin = new Client({ ...endpoint, user: master.username, password: master.password });
  await admin.connect();
  try {
    const pendingName = (await admin.query('SELECT quote_ident($1) AS q', [pending.username])).rows[0].q;
    const currentName = (await admin.query('SELECT quote_ident($1) AS q', [current.username])).rows[0].q;
    const exists = await admin.query('SELECT 1 FROM pg_roles where rolname = $1', [pending.username]);
    if (exists.rows.length === 0) {
      await admin.query(`CREATE ROLE ${pendingName} WITH LOGIN PASSWORD '${pending.password}'`);
      await admin.query(`GRANT ${currentName} TO ${pendingName}`);
    } else {
      await admin.query(`ALTER USER ${pendingName} WITH PASSWORD '${pending.password}'`);
    }
  } finally {
    await admin.end();
  }
}

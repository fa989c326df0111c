/**
 * What Secrets Manager's PostgreSQL alternating-users rotation function does, step by step, with the same SQL
 * (SecretsManagerRDSPostgreSQLRotationMultiUser: createSecret, setSecret, testSecret, finishSecret), against a
 * PostgreSQL the test reaches, with the secret's versions kept in memory. Used to prove offline that the construct's
 * bootstrap and this rotation fit together: the app keeps working, and the oldest password stops working.
 */
import { randomBytes } from 'crypto';
import { Client } from 'pg';

export interface Login {
  readonly username: string;
  readonly password: string;
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/** The app's secret: AWSCURRENT and AWSPREVIOUS. */
export interface AppSecret {
  current: Login;
  previous?: Login;
}

const CLONE = '_clone';
const alternate = (username: string) =>
  username.endsWith(CLONE) ? username.slice(0, -CLONE.length) : `${username}${CLONE}`;

/** Logs in with `login`; true when PostgreSQL accepts it. */
export async function canLogIn(endpoint: Endpoint, login: Login): Promise<boolean> {
  const client = new Client({
    ...endpoint,
    user: login.username,
    password: login.password,
    connectionTimeoutMillis: 5000,
  });
  try {
    await client.connect();
    await client.query('SELECT now()');
    return true;
  } catch {
    return false;
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
  // setSecret: refuse to touch anything if the current login does not work (confused deputy).
  if (!(await canLogIn(endpoint, secret.current))) throw new Error('setSecret: the current credentials do not log in');
  const admin = new Client({ ...endpoint, user: master.username, password: master.password });
  await admin.connect();
  try {
    const pendingName = (await admin.query('SELECT quote_ident($1) AS q', [pending.username])).rows[0].q;
    const currentName = (await admin.query('SELECT quote_ident($1) AS q', [secret.current.username])).rows[0].q;
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
  // testSecret
  if (!(await canLogIn(endpoint, pending))) throw new Error('testSecret: the pending credentials do not log in');
  // finishSecret
  secret.previous = secret.current;
  secret.current = pending;
}

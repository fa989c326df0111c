import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'crypto';

/**
 * The application user's privileges, as the one reviewed list of SQL statements. The bootstrap runs it as the master
 * user on every deployment, and the tests run the same code against a local PostgreSQL.
 *
 * Two login roles share the privileges: `<user>` and `<user>_clone`, the pair that Secrets Manager's alternating-users
 * rotation switches between. The clone is a member of the user and starts every session as the user (`SET ROLE`), so
 * whatever either of them creates (tables from migrations) is owned by the same role and stays usable by both.
 *
 * Neither role is a superuser, a member of `rds_superuser`, or able to create roles or databases. They may connect to
 * the app's database, create temporary tables, and create objects in its `public` schema (DDL for migrations); they
 * own what they create there (DML on it).
 */

/** What Secrets Manager's PostgreSQL alternating-users rotation appends to the user name for the second login. */
export const CLONE_SUFFIX = '_clone';

/** The database and the user the app connects as. */
export interface AppUserSpec {
  readonly databaseName: string;
  readonly username: string;
}

/** The credentials the app's secret holds now (AWSCURRENT): one of the two logins. */
export interface CurrentLogin {
  readonly username: string;
  readonly password: string;
}

/** Only what the bootstrap needs of a PostgreSQL client (pg's `Client` fits). */
export interface SqlClient {
  query(text: string, values?: unknown[]): Promise<{ rows: any[] }>;
}

/** The privileges the bootstrap found after applying the statements; any `true` fails the deployment. */
export interface AppUserReport {
  readonly superuser: boolean;
  readonly createRole: boolean;
  readonly createDatabase: boolean;
  readonly replication: boolean;
  readonly bypassRls: boolean;
  /** Member of the master user or of `rds_superuser`. */
  readonly memberOfAdmin: boolean;
  /** Whether the current login's password had to be set (first deployment, or the secret changed outside rotation). */
  readonly passwordSet: boolean;
  /** Objects in `public` that the master user owned and that now belong to the app user. */
  readonly objectsHandedOver: number;
}

export const cloneOf = (username: string) => `${username}${CLONE_SUFFIX}`;
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
export const quoteLiteral = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * A SCRAM-SHA-256 verifier for `password`, in PostgreSQL's stored format. `ALTER ROLE ... PASSWORD '<verifier>'` sets
 * the password without the password itself ever appearing in a statement (so never in a statement log). Passwords
 * from Secrets Manager are printable ASCII, for which SASLprep changes nothing.
 */
export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** Kinds of relation the bootstrap hands over from the master user, with the ALTER keyword for each. */
const RELATION_KINDS: Record<string, string> = {
  r: 'TABLE',
  p: 'TABLE',
  v: 'VIEW',
  m: 'MATERIALIZED VIEW',
  S: 'SEQUENCE',
  f: 'FOREIGN TABLE',
};

/**
 * Creates or repairs the two logins and their privileges, idempotently, in one transaction, as the connected master
 * user. `passwordWorks` says whether `current` can already log in: only if not is its password (as a verifier) set.
 */
export async function ensureAppUser(
  client: SqlClient,
  spec: AppUserSpec,
  current: CurrentLogin,
  passwordWorks: boolean,
): Promise<AppUserReport> {
  const user = spec.username;
  const clone = cloneOf(user);
  if (current.username !== user && current.username !== clone) {
    throw new Error(`the app secret's username "${current.username}" is neither "${user}" nor "${clone}"`);
  }
  const [u, c, db] = [quoteIdent(user), quoteIdent(clone), quoteIdent(spec.databaseName)];
  await client.query('BEGIN');
  try {
    for (const [name, quoted] of [
      [user, u],
      [clone, c],
    ]) {
      const exists = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name]);
      // A new role has no password: the clone cannot log in until a rotation gives it one.
      if (exists.rows.length === 0) await client.query(`CREATE ROLE ${quoted} WITH LOGIN`);
      await client.query(`ALTER ROLE ${quoted} WITH LOGIN NOCREATEDB NOCREATEROLE`);
    }
    const member = await client.query('SELECT pg_has_role($1, $2, $3) AS m', [clone, user, 'MEMBER']);
    if (!member.rows[0].m) await client.query(`GRANT ${u} TO ${c}`);
    await client.query(`ALTER ROLE ${c} SET role TO ${quoteLiteral(user)}`);
    await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${u}`);
    await client.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${u}`);
    // Checked before anything is handed over: a login with admin powers stops the deployment here.
    const report = await inspect(client, user, clone);
    const refused = Object.entries(report).filter(([, v]) => v === true);
    if (refused.length > 0) {
      throw new Error(`the app user must not have ${refused.map(([k]) => k).join(', ')}`);
    }

    // Tables the master user created (before the app had its own user) become the app's, so migrations can alter them.
    const owned = await client.query(
      `SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)
          AND c.relkind = ANY($1) AND NOT EXISTS (SELECT 1 FROM pg_depend d
            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))`,
      [Object.keys(RELATION_KINDS)],
    );
    if (owned.rows.length > 0) {
      // Changing an owner needs membership in the new owner.
      await client.query(`GRANT ${u} TO CURRENT_USER`);
      for (const row of owned.rows) {
        await client.query(`ALTER ${RELATION_KINDS[row.relkind]} public.${quoteIdent(row.relname)} OWNER TO ${u}`);
      }
    }
    if (!passwordWorks) {
      await client.query(
        `ALTER ROLE ${quoteIdent(current.username)} WITH PASSWORD ${quoteLiteral(scramVerifier(current.password))}`,
      );
    }
    await client.query('COMMIT');
    return { ...report, passwordSet: !passwordWorks, objectsHandedOver: owned.rows.length };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

async function inspect(
  client: SqlClient,
  user: string,
  clone: string,
): Promise<Omit<AppUserReport, 'passwordSet' | 'objectsHandedOver'>> {
  const { rows } = await client.query(
    `SELECT bool_or(rolsuper) AS superuser, bool_or(rolcreaterole) AS create_role, bool_or(rolcreatedb) AS create_db,
            bool_or(rolreplication) AS replication, bool_or(rolbypassrls) AS bypass_rls,
            bool_or(pg_has_role(rolname, current_user, 'MEMBER')
              OR (EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_superuser')
                  AND pg_has_role(rolname, 'rds_superuser', 'MEMBER'))) AS admin
       FROM pg_roles WHERE rolname = ANY($1)`,
    [[user, clone]],
  );
  const r = rows[0];
  return {
    superuser: r.superuser,
    createRole: r.create_role,
    createDatabase: r.create_db,
    replication: r.replication,
    bypassRls: r.bypass_rls,
    memberOfAdmin: r.admin,
  };
}

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
  /** App users of earlier deployments (`database.appUsername` renamed): what they own goes to `username`. */
  readonly previousUsernames?: string[];
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
  /**
   * Member of the master user, of `rds_superuser`, or of a predefined role that reads or writes every table or the
   * server's files (`pg_read_all_data`, `pg_write_all_data`, `pg_read_server_files`, `pg_write_server_files`,
   * `pg_execute_server_program`).
   */
  readonly memberOfAdmin: boolean;
  /** Whether the current login's password had to be set (first deployment, or the secret changed outside rotation). */
  readonly passwordSet: boolean;
  /**
   * Objects in the app's database that the master user (or a previous app user) owned and that now belong to the app
   * user; sequences of identity and serial columns follow their tables and are not counted.
   */
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

/** Roles whose members read or write every table, or the server's files: the app user must be in none of them. */
export const POWERFUL_ROLES = [
  'rds_superuser',
  'pg_read_all_data',
  'pg_write_all_data',
  'pg_read_server_files',
  'pg_write_server_files',
  'pg_execute_server_program',
];

/** How long the handover waits for a lock on each object before it gives up (a migration or a long query). */
export const HANDOVER_LOCK_TIMEOUT_SECONDS = 5;

/** The ALTER keyword for each kind of object pg_identify_object names; kinds not listed are not handed over. */
const ALTER_KEYWORDS: Record<string, string> = {
  table: 'TABLE',
  view: 'VIEW',
  'materialized view': 'MATERIALIZED VIEW',
  sequence: 'SEQUENCE',
  'foreign table': 'FOREIGN TABLE',
  type: 'TYPE',
  domain: 'DOMAIN',
  function: 'FUNCTION',
  procedure: 'PROCEDURE',
  aggregate: 'AGGREGATE',
  schema: 'SCHEMA',
  collation: 'COLLATION',
  conversion: 'CONVERSION',
  'statistics object': 'STATISTICS',
  'text search configuration': 'TEXT SEARCH CONFIGURATION',
  'text search dictionary': 'TEXT SEARCH DICTIONARY',
};

/**
 * Everything `roles` own in the current database, as pg_shdepend records ownership, but for what follows another
 * object's owner: members of an extension, sequences of identity and serial columns (they follow their table) and
 * multirange types (they follow their range type). Extensions stay with whoever installed them (the app uses their
 * functions without owning them). Large objects are data and are never handed over one by one.
 */
const OWNED_OBJECTS = `
  SELECT i.type, i.identity, t.typtype = 'd' AS domain, pg_describe_object(d.classid, d.objid, 0) AS description
    FROM pg_shdepend d
    CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, 0) i
    LEFT JOIN pg_type t ON d.classid = 'pg_type'::regclass AND t.oid = d.objid
   WHERE d.deptype = 'o'
     AND d.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND d.refobjid IN (SELECT oid FROM pg_roles WHERE rolname = ANY($1))
     AND d.classid <> 'pg_extension'::regclass
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = d.classid AND e.objid = d.objid AND e.deptype = 'e')
     AND NOT (d.classid = 'pg_class'::regclass AND EXISTS (
           SELECT 1 FROM pg_depend e JOIN pg_class c ON c.oid = e.objid
            WHERE e.classid = 'pg_class'::regclass AND e.objid = d.objid AND c.relkind = 'S'
              AND e.refclassid = 'pg_class'::regclass AND e.deptype IN ('a', 'i')))
     AND coalesce(t.typtype, '') <> 'm'
   ORDER BY CASE i.type WHEN 'schema' THEN 0 WHEN 'type' THEN 1 ELSE 2 END, i.identity`;

interface OwnedObject {
  readonly type: string;
  readonly identity: string;
  readonly domain: boolean;
  readonly description: string;
}

/**
 * Hands what `from` own in the current database over to `to`, waiting at most HANDOVER_LOCK_TIMEOUT_SECONDS for each
 * object's lock. Returns how many objects changed owner; throws, naming them, when some could not.
 */
async function handOver(client: SqlClient, from: string[], to: string): Promise<number> {
  const { rows } = await client.query(OWNED_OBJECTS, [from]);
  const owned = rows as OwnedObject[];
  if (owned.length === 0) return 0;
  // Changing an owner needs the right to SET ROLE to the new owner. Since PostgreSQL 16 the role that creates another
  // is a member of it with ADMIN OPTION only (no SET), so membership alone does not tell.
  if (!(await canSetRole(client, to))) await client.query(`GRANT ${quoteIdent(to)} TO CURRENT_USER`);
  await client.query(`SET LOCAL lock_timeout = '${HANDOVER_LOCK_TIMEOUT_SECONDS}s'`);
  let handed = 0;
  for (const o of owned) {
    const keyword = o.domain ? 'DOMAIN' : ALTER_KEYWORDS[o.type];
    if (!keyword) continue;
    try {
      await client.query(`ALTER ${keyword} ${o.identity} OWNER TO ${quoteIdent(to)}`);
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') {
        throw new Error(
          `could not hand ${o.identity} (${o.type}) over to the app user within ${HANDOVER_LOCK_TIMEOUT_SECONDS} s: it is in use; deploy again once the transaction holding it has finished`,
        );
      }
      throw err;
    }
    handed += 1;
  }
  const left = (await client.query(OWNED_OBJECTS, [from])).rows as OwnedObject[];
  if (left.length > 0) {
    throw new Error(
      `could not hand over what the ${from.length > 1 ? 'previous app user' : 'master user'} owns in the app's database: ${left.map((o) => o.description).join(', ')}; change their owner to "${to}" by hand (ALTER ... OWNER TO), or drop them`,
    );
  }
  return handed;
}

/** Whether the connected user may SET ROLE to `role` (PostgreSQL 16 and later tell SET apart from membership). */
export async function canSetRole(client: SqlClient, role: string): Promise<boolean> {
  const { rows } = await client.query(
    `SELECT CASE WHEN current_setting('server_version_num')::int >= 160000
                 THEN pg_has_role(current_user, $1, 'SET') ELSE pg_has_role(current_user, $1, 'MEMBER') END AS can`,
    [role],
  );
  return rows[0].can;
}

/**
 * A renamed app user: what the previous user and its clone own goes to the new user, and the previous user becomes a
 * member of the new one, so tasks still running with the previous login keep their access until the rollout
 * replaces them. A membership the other way (left by an earlier rename) is revoked first: PostgreSQL refuses cycles.
 */
async function takeOverPreviousUser(client: SqlClient, previous: string, user: string): Promise<number> {
  const roles = [previous, cloneOf(previous)];
  const existing = (await client.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1)', [roles])).rows.map(
    (r: { rolname: string }) => r.rolname,
  );
  if (!existing.includes(previous)) return 0;
  const [p, u] = [quoteIdent(previous), quoteIdent(user)];
  try {
    for (const role of existing) await client.query(`GRANT ${quoteIdent(role)} TO CURRENT_USER`);
  } catch (err) {
    throw new Error(
      `cannot hand over what the previous app user "${previous}" owns: ${(err as Error).message}; give it back its name (database.appUsername) or have an administrator run REASSIGN OWNED BY "${previous}" TO "${user}"`,
    );
  }
  const handed = await handOver(client, existing, user);
  const reverse = await client.query(
    'SELECT 1 FROM pg_auth_members WHERE roleid = to_regrole($1) AND member = to_regrole($2)',
    [quoteIdent(previous), quoteIdent(user)],
  );
  if (reverse.rows.length > 0) await client.query(`REVOKE ${p} FROM ${u}`);
  const member = await client.query('SELECT pg_has_role($1, $2, $3) AS m', [previous, user, 'MEMBER']);
  if (!member.rows[0].m) await client.query(`GRANT ${u} TO ${p}`);
  return handed;
}

/**
 * Creates or repairs the app's logins and their privileges, idempotently, in one transaction, as the connected master
 * user.
 *
 * With a password (`current`, the app secret's login): the two logins of the alternating-users rotation; only if
 * `passwordWorks` is false is `current`'s password (as a verifier) set, and `rds_iam` is revoked (on RDS it would
 * disable the password).
 *
 * Without (`current` undefined, the app behind RDS Proxy with end-to-end IAM authentication): the user alone, a
 * member of `rds_iam` and without a password; a clone left by an earlier password setup can no longer log in.
 */
export async function ensureAppUser(
  client: SqlClient,
  spec: AppUserSpec,
  current: CurrentLogin | undefined,
  passwordWorks: boolean,
): Promise<AppUserReport> {
  const user = spec.username;
  const clone = cloneOf(user);
  if (current && current.username !== user && current.username !== clone) {
    throw new Error(`the app secret's username "${current.username}" is neither "${user}" nor "${clone}"`);
  }
  const [u, c, db] = [quoteIdent(user), quoteIdent(clone), quoteIdent(spec.databaseName)];
  await client.query('BEGIN');
  try {
    const exists = async (name: string) =>
      (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rows.length > 0;
    const logins: [string, string][] = current
      ? [
          [user, u],
          [clone, c],
        ]
      : [[user, u]];
    for (const [name, quoted] of logins) {
      // A new role has no password: the clone cannot log in until a rotation gives it one.
      if (!(await exists(name))) await client.query(`CREATE ROLE ${quoted} WITH LOGIN`);
      await client.query(`ALTER ROLE ${quoted} WITH LOGIN NOCREATEDB NOCREATEROLE`);
    }
    if (current) {
      const member = await client.query('SELECT pg_has_role($1, $2, $3) AS m', [clone, user, 'MEMBER']);
      if (!member.rows[0].m) await client.query(`GRANT ${u} TO ${c}`);
      await client.query(`ALTER ROLE ${c} SET role TO ${quoteLiteral(user)}`);
    } else if (await exists(clone)) {
      // Nobody holds the clone's password any more (its secret is gone): it must not stay a way in.
      await client.query(`ALTER ROLE ${c} WITH NOLOGIN PASSWORD NULL`);
    }
    await client.query(`GRANT CONNECT, TEMPORARY ON DATABASE ${db} TO ${u}`);
    await client.query(`GRANT USAGE, CREATE ON SCHEMA public TO ${u}`);
    // Checked before anything is handed over: a login with admin powers stops the deployment here.
    const report = await inspect(client, user, clone);
    const refused = Object.entries(report.powers).filter(([, v]) => v === true);
    if (refused.length > 0) {
      const roles = report.memberOf.length > 0 ? ` (member of ${report.memberOf.join(', ')})` : '';
      throw new Error(`the app user must not have ${refused.map(([k]) => k).join(', ')}${roles}`);
    }

    let objectsHandedOver = 0;
    for (const previous of spec.previousUsernames ?? []) {
      if (previous !== user) objectsHandedOver += await takeOverPreviousUser(client, previous, user);
    }
    // What the master user built (before the app had its own user) becomes the app's, so migrations can alter it.
    const master = (await client.query('SELECT current_user AS name')).rows[0].name as string;
    objectsHandedOver += await handOver(client, [master], user);
    const iamMember = await isMember(client, user, RDS_IAM_ROLE);
    if (current) {
      if (iamMember) await client.query(`REVOKE ${RDS_IAM_ROLE} FROM ${u}`);
      if (!passwordWorks) {
        await client.query(
          `ALTER ROLE ${quoteIdent(current.username)} WITH PASSWORD ${quoteLiteral(scramVerifier(current.password))}`,
        );
      }
    } else {
      if (iamMember === undefined) {
        throw new Error(
          `the role ${RDS_IAM_ROLE} does not exist: IAM database authentication (database.proxy) needs RDS for PostgreSQL`,
        );
      }
      if (!iamMember) await client.query(`GRANT ${RDS_IAM_ROLE} TO ${u}`);
      await client.query(`ALTER ROLE ${u} WITH PASSWORD NULL`);
    }
    await client.query('COMMIT');
    return { ...report.powers, passwordSet: current !== undefined && !passwordWorks, objectsHandedOver };
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

/** RDS's role for IAM database authentication: its members log in with IAM tokens only. */
export const RDS_IAM_ROLE = 'rds_iam';

/** Whether `user` is a direct member of `role`; undefined when the role does not exist. */
async function isMember(client: SqlClient, user: string, role: string): Promise<boolean | undefined> {
  const { rows } = await client.query(
    `SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
                     WHERE r.rolname = $2 AND u.rolname = $1) AS member,
            EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $2) AS role_exists`,
    [user, role],
  );
  return rows[0].role_exists ? rows[0].member : undefined;
}

async function inspect(
  client: SqlClient,
  user: string,
  clone: string,
): Promise<{ powers: Omit<AppUserReport, 'passwordSet' | 'objectsHandedOver'>; memberOf: string[] }> {
  const { rows } = await client.query(
    `SELECT bool_or(rolsuper) AS superuser, bool_or(rolcreaterole) AS create_role, bool_or(rolcreatedb) AS create_db,
            bool_or(rolreplication) AS replication, bool_or(rolbypassrls) AS bypass_rls,
            array(SELECT DISTINCT a.rolname::text FROM pg_roles a, pg_roles r
                   WHERE r.rolname = ANY($1) AND (a.rolname = current_user OR a.rolname = ANY($2))
                     AND pg_has_role(r.oid, a.oid, 'MEMBER') ORDER BY 1) AS member_of
       FROM pg_roles WHERE rolname = ANY($1)`,
    [[user, clone], POWERFUL_ROLES],
  );
  const r = rows[0];
  return {
    powers: {
      superuser: r.superuser,
      createRole: r.create_role,
      createDatabase: r.create_db,
      replication: r.replication,
      bypassRls: r.bypass_rls,
      memberOfAdmin: r.member_of.length > 0,
    },
    memberOf: r.member_of,
  };
}

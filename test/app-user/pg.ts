import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { ScramServer } from '../../tools/scram-postgres';

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
    const c = new Client({ host: server.host, port: server.port, user: 'postgres', password: server.superuser.password, database: db });
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
      const c = new Client({ ...endpoint, user: login.username, password: login.password, connectionTimeoutMillis: 5000 });
      await c.connect();
      return c;
    },
    asSuperuser: (sql, params) => asSuperuser(sql, params, database),
  };
}

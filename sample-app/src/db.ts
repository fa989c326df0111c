import { readFileSync } from 'node:fs';
import { ConnectionOptions } from 'node:tls';
import { DatabaseError, Options, Sequelize } from 'sequelize';
import { DatabaseConfig } from './config';

/** TLS options for pg: verify the server against the CA bundle the image carries (the RDS bundle in AWS). */
export function tlsOptions(config: DatabaseConfig): ConnectionOptions | false {
  if (config.ssl === 'disable') return false;
  return {
    rejectUnauthorized: true,
    ...(config.caFile ? { ca: readFileSync(config.caFile, 'utf8') } : {}),
  };
}

/**
 * A Sequelize instance whose every wait is bounded: acquiring a pooled connection, opening one, and each query.
 * With Sequelize's defaults a hung database makes requests wait a minute or more; here they fail in about
 * `timeoutMs` and the error handler answers 503.
 */
export function createSequelize(config: DatabaseConfig): Sequelize {
  const options: Options = {
    dialect: 'postgres',
    host: config.host,
    port: config.port,
    database: config.name,
    username: config.user,
    password: config.password,
    logging: false,
    benchmark: false,
    pool: {
      max: config.poolMax,
      min: 0,
      acquire: config.timeoutMs,
      idle: 10000,
      evict: 5000,
    },
    dialectOptions: {
      ssl: tlsOptions(config),
      connectionTimeoutMillis: config.timeoutMs,
      // Client-side bound (covers a database that stopped answering) and server-side bound (frees the backend).
      query_timeout: config.timeoutMs,
      statement_timeout: config.timeoutMs,
      keepAlive: true,
      application_name: 'sample-users-api',
    },
    // No retry: a retried INSERT that had reached the database would be applied twice.
    retry: { max: 0 },
  };
  return new Sequelize(options);
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** What `queryRows` needs of a pooled pg client. */
interface PooledClient {
  query<R>(text: string, values: unknown[]): Promise<{ rows: R[] }>;
}

/**
 * Runs one parameterised statement on a connection from Sequelize's pool and returns pg's rows as they are.
 *
 * For hot read paths. It keeps what matters of Sequelize (the pool, its bounded acquire, the connection's query
 * and statement timeouts, Sequelize's error classes) and skips its per-query work: option merging, rewriting the
 * bind parameters, hooks, the retry wrapper and a captured stack trace per query, which together cost this app
 * more CPU than the query itself (README, Performance).
 *
 * A failure without an SQLSTATE code (timeout, reset, terminated) leaves the connection in an unknown state, so it
 * is taken out of the pool instead of going back to it.
 */
export async function queryRows<R>(sequelize: Sequelize, text: string, values: unknown[]): Promise<R[]> {
  const manager = sequelize.connectionManager;
  const client = (await manager.getConnection({ type: 'read' })) as PooledClient;
  let healthy = true;
  try {
    return (await client.query<R>(text, values)).rows;
  } catch (err) {
    const original = err instanceof Error ? err : new Error(String(err));
    const code = (original as Error & { code?: unknown }).code;
    healthy = typeof code === 'string' && SQLSTATE.test(code);
    throw new DatabaseError(Object.assign(original, { sql: text, parameters: values }));
  } finally {
    if (healthy) {
      manager.releaseConnection(client);
    } else {
      // Not awaited: ending a connection to a hung server waits for an answer that may never come.
      manager.destroyConnection(client).catch(() => undefined);
    }
  }
}

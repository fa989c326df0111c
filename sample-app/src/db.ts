import { readFileSync } from 'node:fs';
import { ConnectionOptions } from 'node:tls';
import { Options, Sequelize } from 'sequelize';
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

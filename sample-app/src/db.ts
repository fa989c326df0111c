import { readFileSync } from 'node:fs';
import { ConnectionOptions } from 'node:tls';
import { Signer } from '@aws-sdk/rds-signer';
import { Pool } from 'pg';
import { Options, Sequelize } from 'sequelize';
import { DatabaseConfig } from './config';

/**
 * TLS options for pg: verify the server against the CA files the image carries (`DB_CA_FILE`, several separated by
 * `:`): in AWS the RDS bundle, which signs the instances' and clusters' certificates, and Amazon Root CA 1, under
 * which RDS Proxy presents its ACM certificate.
 */
export function tlsOptions(config: DatabaseConfig): ConnectionOptions | false {
  if (config.ssl === 'disable') return false;
  const files = (config.caFile ?? '').split(':').filter((f) => f !== '');
  return {
    rejectUnauthorized: true,
    ...(files.length > 0 ? { ca: files.map((file) => readFileSync(file, 'utf8')) } : {}),
  };
}

/**
 * The password of each new connection: the configured one, or with IAM authentication a token the task role signs
 * (valid 15 minutes, only needed while connecting; signing is local, the credentials are cached by the SDK).
 */
export function passwordSource(config: DatabaseConfig): string | (() => Promise<string>) {
  const iam = config.iamAuthentication;
  if (!iam) return config.password;
  const signer = new Signer({ hostname: config.host, port: config.port, username: config.user, region: iam.region });
  return () => signer.getAuthToken();
}

/** Where and as whom a pg client connects, with the same TLS as every other connection of the app. */
export function pgConnection(config: DatabaseConfig) {
  return {
    host: config.host,
    port: config.port,
    database: config.name,
    user: config.user,
    password: passwordSource(config),
    ssl: tlsOptions(config),
  };
}

/**
 * A Sequelize instance whose every wait is bounded: acquiring a pooled connection, opening one, and each query.
 * With Sequelize's defaults a hung database makes requests wait a minute or more; here they fail in about
 * `timeoutMs` and the error handler answers 503.
 */
export function createSequelize(config: DatabaseConfig, poolMax = config.poolMax): Sequelize {
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
      max: poolMax,
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
  const password = passwordSource(config);
  if (typeof password === 'function') {
    // Sequelize's connection hook, its documented place for per-connection credentials: a fresh IAM token for each
    // new connection of the pool.
    options.hooks = {
      beforeConnect: async (connection) => {
        connection.password = await password();
      },
    };
  }
  return new Sequelize(options);
}

/**
 * A plain pg pool with the same bounds as Sequelize's (acquire, connect, client-side and server-side query time) and
 * the same TLS, for the hot read path (`UserReads`).
 */
export function createReadPool(config: DatabaseConfig, max: number): Pool {
  const pool = new Pool({
    ...pgConnection(config),
    max,
    idleTimeoutMillis: 10000,
    connectionTimeoutMillis: config.timeoutMs,
    query_timeout: config.timeoutMs,
    statement_timeout: config.timeoutMs,
    keepAlive: true,
    application_name: 'sample-users-api-reads',
  });
  // A client whose server goes away emits 'error' (while idle in the pool, or after being discarded with a hung
  // connection); without a listener that event would end the process. Queries in flight still fail their promise.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** The app's two handles on the database. `DB_POOL_MAX` bounds both together: the connections one task may hold. */
export interface Database {
  /** Models, writes, lists, readiness and migrations. */
  readonly sequelize: Sequelize;
  /** The hot read path's own pool. */
  readonly readPool: Pool;
  close(): Promise<void>;
}

/**
 * Splits `config.poolMax` between Sequelize (the larger half) and the read pool; each gets at least one. With Aurora
 * readers (`readHost`), the read pool connects to them (an IAM token is then signed for that host).
 */
export function openDatabase(config: DatabaseConfig): Database {
  const readMax = Math.max(1, Math.floor(config.poolMax / 2));
  const sequelize = createSequelize(config, Math.max(1, config.poolMax - readMax));
  const readPool = createReadPool(config.readHost ? { ...config, host: config.readHost } : config, readMax);
  return {
    sequelize,
    readPool,
    async close() {
      await Promise.allSettled([sequelize.close(), readPool.end()]);
    },
  };
}

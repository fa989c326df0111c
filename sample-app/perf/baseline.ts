/**
 * The benchmark's baseline: the same two endpoints on node:http and pg alone, with the same queries the app sends
 * (no framework, no ORM, no logging, minimal validation). Reads DB_* and PORT like the app, and verifies the server
 * over TLS the same way (DB_SSL=require, DB_CA_FILE).
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Pool } from 'pg';

const pool = new Pool({
  host: process.env.DB_HOST,
  port: Number(process.env.DB_PORT ?? 5432),
  database: process.env.DB_NAME,
  user: process.env.DB_USER,
  password: process.env.DB_PASSWORD,
  ssl:
    process.env.DB_SSL === 'require'
      ? {
          rejectUnauthorized: true,
          ...(process.env.DB_CA_FILE ? { ca: readFileSync(process.env.DB_CA_FILE, 'utf8') } : {}),
        }
      : false,
  max: 10,
});
const COLUMNS = 'id, email, name, created_at AS "createdAt", updated_at AS "updatedAt"';

const server = createServer((req, res) => {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const byId = /^\/users\/(\d{1,10})$/.exec(req.url ?? '');
  if (req.method === 'GET' && byId) {
    pool.query(`SELECT ${COLUMNS} FROM users WHERE id = $1`, [Number(byId[1])]).then(
      (r) => (r.rows[0] ? send(200, r.rows[0]) : send(404, { error: 'not_found' })),
      () => send(503, { error: 'database_unavailable' }),
    );
    return;
  }
  if (req.method === 'POST' && req.url === '/users') {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      let body: { email?: string; name?: string };
      try {
        body = JSON.parse(raw);
      } catch {
        send(400, { error: 'invalid_json' });
        return;
      }
      pool
        .query(
          `INSERT INTO users (email, name, created_at, updated_at) VALUES ($1, $2, now(), now()) RETURNING ${COLUMNS}`,
          [String(body.email).toLowerCase(), String(body.name)],
        )
        .then(
          (r) => send(201, r.rows[0]),
          (err: { code?: string }) => send(err.code === '23505' ? 409 : 503, { error: 'failed' }),
        );
    });
    return;
  }
  send(404, { error: 'not_found' });
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', port: typeof address === 'object' && address ? address.port : 0 })}\n`,
  );
});
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));

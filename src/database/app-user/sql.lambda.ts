import { runSql, SqlRequest } from './sql';

/** Invoked only by the bootstrap handler, with the credentials in the payload; logs none of them. */
export async function handler(request: SqlRequest) {
  return runSql(request, { ssl: process.env.DB_SSL !== 'disable' });
}

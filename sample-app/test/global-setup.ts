/**
 * One private PostgreSQL for every test file, as the construct deploys it: the default major (17), scram passwords,
 * TLS required on every TCP connection, and a server certificate the app verifies against a CA file handed to it the
 * way the image hands it the RDS bundle (DB_CA_FILE). The binaries come from npm (the library's devDependencies), so
 * no system PostgreSQL is needed. The workers read the server from TEST_PG_URL and TEST_PG_CA_FILE.
 *
 * TEST_PG_URL set by the caller means "use this server instead" (for example a team's own PostgreSQL); TLS is then
 * used only when TEST_PG_CA_FILE names the CA to verify it against.
 */
import { startScramServer } from '../../tools/scram-postgres';

export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_PG_URL) return;
  const server = await startScramServer();
  const { user, password } = server.superuser;
  process.env.TEST_PG_URL = `postgres://${user}:${encodeURIComponent(password)}@${server.host}:${server.port}/postgres`;
  process.env.TEST_PG_CA_FILE = server.caFile;
  (globalThis as { __testPostgres?: { stop(): void } }).__testPostgres = server;
}

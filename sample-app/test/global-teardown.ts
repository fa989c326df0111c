/** Stops the private PostgreSQL that global-setup.ts started (none when TEST_PG_URL named another server). */
export default async function globalTeardown(): Promise<void> {
  (globalThis as { __testPostgres?: { stop(): void } }).__testPostgres?.stop();
}

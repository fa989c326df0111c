import pino, { Logger } from 'pino';

/**
 * Structured JSON logs on stdout, one object per line.
 *
 * Writes are asynchronous (lines written while a write is in flight go out together): synchronous writes of one line per request cost the app a
 * seventh of its CPU under load (measured with --cpu-prof, see docs/performance.md). `flushLogs()`
 * writes what is buffered; the entry calls it before the process exits.
 */
const destination = pino.destination({ dest: 1, sync: false });

export function createLogger(level: string): Logger {
  // Epoch-millisecond timestamps (pino's default): ISO strings cost a Date formatting per line.
  return pino({ level, base: { service: 'sample-users-api' } }, destination);
}

export function flushLogs(): void {
  try {
    destination.flushSync();
  } catch {
    // Nothing buffered yet, or stdout is gone: there is nothing left to save.
  }
}

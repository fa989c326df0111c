import pino, { Logger } from 'pino';

/** Structured JSON logs on stdout, one object per line. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'sample-users-api' }, timestamp: pino.stdTimeFunctions.isoTime });
}

import { ErrorRequestHandler, RequestHandler } from 'express';
import { Logger } from 'pino';
import { ConnectionError, DatabaseError, TimeoutError, UniqueConstraintError, ValidationError } from 'sequelize';

/** An error with the HTTP status, stable code and (when there is one) the offending field to answer with. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export const validationError = (field: string, message: string) =>
  new HttpError(400, 'validation_error', `${field} ${message}`, field);

interface ErrorBody {
  error: { code: string; message: string; field?: string; requestId?: string };
}

const DATABASE_UNAVAILABLE = /timeout|terminated|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection|connect/i;

/** Errors that mean the database cannot answer now (down, hung, or failing over): the client should retry. */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof ConnectionError || err instanceof TimeoutError) return true;
  if (err instanceof DatabaseError) {
    const code = (err.original as { code?: string } | undefined)?.code;
    // 57014 query_canceled (statement_timeout), 57P01..57P03 admin shutdown / cannot connect now, 08xxx connection.
    if (code && (code === '57014' || code.startsWith('57P') || code.startsWith('08'))) return true;
    return !code && DATABASE_UNAVAILABLE.test(err.message);
  }
  return false;
}

function classify(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof UniqueConstraintError) {
    const field = err.errors[0]?.path ?? Object.keys(err.fields ?? {})[0] ?? 'id';
    return new HttpError(409, 'conflict', `a user with this ${field} already exists`, field);
  }
  if (err instanceof ValidationError) {
    const first = err.errors[0];
    return validationError(first?.path ?? 'body', first?.message ?? 'is invalid');
  }
  if (isDatabaseUnavailable(err)) {
    return new HttpError(503, 'database_unavailable', 'the database is not reachable; retry shortly');
  }
  const bodyParser = err as { type?: string; status?: number; expose?: boolean };
  switch (bodyParser.type) {
    case 'entity.parse.failed':
      return new HttpError(400, 'invalid_json', 'the request body is not valid JSON', 'body');
    case 'entity.too.large':
      return new HttpError(413, 'payload_too_large', 'the request body is too large', 'body');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpError(415, 'unsupported_media_type', 'the request body encoding is not supported', 'body');
    default:
      break;
  }
  if (bodyParser.expose && bodyParser.status && bodyParser.status >= 400 && bodyParser.status < 500) {
    return new HttpError(bodyParser.status, 'bad_request', 'the request could not be read');
  }
  return new HttpError(500, 'internal_error', 'an unexpected error occurred');
}

/** The one error handler, registered last: JSON with a stable code, never a stack trace or internals. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const httpError = classify(err);
    const requestId = res.getHeader('x-request-id') as string | undefined;
    if (httpError.status >= 500) {
      logger.error({ err, requestId, method: req.method, url: req.originalUrl }, 'request failed');
    }
    if (httpError.status === 503) res.setHeader('Retry-After', '2');
    const body: ErrorBody = { error: { code: httpError.code, message: httpError.message, requestId } };
    if (httpError.field) body.error.field = httpError.field;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(httpError.status).json(body);
  };
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

export function methodNotAllowed(allowed: string[]): RequestHandler {
  return (req, res, next) => {
    res.setHeader('Allow', allowed.join(', '));
    next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed here; use ${allowed.join(', ')}`));
  };
}

import { Response } from 'express';

/**
 * Answers `status` with `body` as JSON: the same status, headers and bytes as Express's `res.status(status).json(body)`
 * (Content-Type `application/json; charset=utf-8`, Content-Length, no body for HEAD), for the hot paths.
 *
 * `res.json` parses and re-formats the Content-Type header and looks up four settings on every call; on this app's
 * most frequent request that was a measurable share of its CPU (README, Performance).
 */
export function sendJson(res: Response, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}

import { randomUUID } from 'node:crypto';
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from 'pino';
import { type ErrorCode, LcmError } from '../../core/index.ts';
import type { AppEnv } from './app-env.ts';

/** Sends the product's JSON error body with the request id. */
export function sendError(c: Context<AppEnv>, error: LcmError): Response {
  // A request that failed before the id middleware ran still gets an id to report.
  const requestId = c.get('requestId') ?? randomUUID();
  c.header('X-Request-Id', requestId);
  // The unread rest of an oversized body makes the connection useless: tell the client so.
  if (error.code === 'too_large') c.header('Connection', 'close');
  return c.json(error.toJSON(requestId), error.status as never);
}

const HTTP_STATUS_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'too_large',
  415: 'unsupported_media_type',
};

/**
 * Turns every failure into `{"error":{"code","message","requestId"}}`. An LcmError keeps its
 * code; anything else is a bug, logged with its stack and answered as `internal` without
 * details.
 */
export function errorHandler(logger: Logger): ErrorHandler<AppEnv> {
  const log = logger.child({ component: 'http' });
  return (error, c) => {
    if (error instanceof LcmError) return sendError(c, error);
    if (error instanceof HTTPException) {
      const code = HTTP_STATUS_CODES[error.status] ?? 'bad_request';
      return sendError(c, new LcmError(code, error.message || code));
    }
    log.error({ err: error, requestId: c.get('requestId') }, 'request crashed');
    return sendError(c, new LcmError('internal', 'internal error; see the origin log'));
  };
}

/** 404 `not_found` for every path the app does not know. */
export const notFoundHandler: NotFoundHandler<AppEnv> = (c) =>
  sendError(c, new LcmError('not_found', `no route for ${c.req.method} ${c.req.path}`));

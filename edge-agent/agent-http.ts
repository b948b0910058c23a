import type { Context, MiddlewareHandler } from 'hono';
import { hasDotSegment, LcmError } from '../core/index.ts';

let requestCounter = 0;
const requestPrefix = Math.random().toString(36).slice(2, 8);

/**
 * Sends the product's JSON error body from the agent's HTTP API, with the caller's
 * `X-Request-Id` or a new one, so that every error answer names a request to look for.
 */
export function sendAgentError(c: Context, error: LcmError): Response {
  const requestId = c.req.header('x-request-id') ?? `${requestPrefix}-${++requestCounter}`;
  return c.json(error.toJSON(requestId), error.status as 400);
}

/**
 * Refuses a request whose path has a `.` or `..` segment (also as `%2e`) with 400 `bad_key`.
 * The URL parser would resolve `entries/x/../t/a` to `entries/t/a` and answer a key the caller
 * did not name, so the check reads the request target as it came off the wire.
 */
export function rejectDotSegments(): MiddlewareHandler {
  return async (c, next) => {
    const incoming = (c.env as { incoming?: { url?: string } } | undefined)?.incoming;
    if (hasDotSegment(incoming?.url ?? c.req.url)) {
      return sendAgentError(c, new LcmError('bad_key', 'a path must not have a . or .. segment'));
    }
    await next();
  };
}

import { randomUUID } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { hasDotSegment, LcmError } from '../../core/index.ts';
import type { AppEnv, OriginServices } from './app-env.ts';

const INCOMING_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const NANOSECONDS_PER_SECOND = 1e9;

/**
 * Gives every request an id (the caller's `X-Request-Id` when it is sane), echoes it in the
 * response, counts and times the request by route pattern, and writes one log line for it.
 */
export function observe(services: OriginServices): MiddlewareHandler<AppEnv> {
  const log = services.logger.child({ component: 'http' });

  return async (c, next) => {
    const started = process.hrtime.bigint();
    const incoming = c.req.header('x-request-id');
    const requestId =
      incoming !== undefined && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    c.set('requestId', requestId);

    await next();

    c.header('X-Request-Id', requestId);
    const route = c.req.routePath || 'unmatched';
    const status = c.res.status;
    const seconds = Number(process.hrtime.bigint() - started) / NANOSECONDS_PER_SECOND;
    services.metrics.httpRequests.inc({ method: c.req.method, route, status: String(status) });
    services.metrics.httpDuration.observe({ method: c.req.method, route }, seconds);

    const fields = { requestId, method: c.req.method, route, status, ms: seconds * 1000 };
    if (status >= 500) log.error(fields, 'request failed');
    else log.debug(fields, 'request done');
  };
}

/**
 * Resolves the bearer token of a `/v1` request. Deny by default: a missing, malformed, unknown
 * or revoked token gets 401 `unauthorized`.
 */
export function authenticate(services: OriginServices): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const header = c.req.header('authorization');
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) {
      throw new LcmError('unauthorized', 'send Authorization: Bearer <token>');
    }
    const grant = await services.tokens.authenticate(match[1]!);
    if (grant === null) throw new LcmError('unauthorized', 'the token is unknown or revoked');
    c.set('grant', grant);
    await next();
    // Revisions only compare within one store: every answer names the store they belong to.
    c.header('X-Store-Epoch', services.store.epoch);
  };
}

/**
 * Refuses a request whose path has a `.` or `..` segment (also as `%2e`) with 400 `bad_key`.
 * The URL parser would resolve `entries/a/../b` to `entries/b` and write a key the caller did
 * not name, so the check reads the request target as it came off the wire.
 */
export function rejectDotSegments(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const incoming = (c.env as { incoming?: { url?: string } } | undefined)?.incoming;
    if (hasDotSegment(incoming?.url ?? c.req.url)) {
      throw new LcmError('bad_key', 'a path must not have a . or .. segment');
    }
    await next();
  };
}

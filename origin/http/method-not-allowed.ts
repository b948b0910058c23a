import type { Hono, NotFoundHandler } from 'hono';
import { TrieRouter } from 'hono/router/trie-router';
import { LcmError } from '../../core/index.ts';
import type { AppEnv } from './app-env.ts';
import { notFoundHandler, sendError } from './error-handler.ts';

/** The methods the origin's routes are registered with; HEAD rides along with GET. */
const ROUTE_METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'] as const;

/**
 * Answers a request no route took: 405 `method_not_allowed` with an `Allow` header when the
 * path exists with other methods (POST on an entry), else 404 `not_found`. The route table is
 * read at the first miss, once every group is mounted.
 */
export function methodNotAllowedHandler(app: Hono<AppEnv>): NotFoundHandler<AppEnv> {
  let router: TrieRouter<string> | undefined;

  return (c) => {
    router ??= routerOf(app);
    const path = c.req.path;
    const allowed: string[] = ROUTE_METHODS.filter(
      (method) => router!.match(method, path)[0].length > 0,
    );
    if (allowed.length === 0) return notFoundHandler(c);

    if (allowed.includes('GET')) allowed.splice(1, 0, 'HEAD');
    c.header('Allow', allowed.join(', '));
    const message = `${c.req.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`;
    return sendError(c, new LcmError('method_not_allowed', message));
  };
}

/** A router that knows only which method and path pattern each handler route has. */
function routerOf(app: Hono<AppEnv>): TrieRouter<string> {
  const router = new TrieRouter<string>();
  // Middleware is registered for every method ('ALL') and proves nothing about a path.
  for (const route of app.routes) {
    if (route.method !== 'ALL') router.add(route.method, route.path, route.method);
  }
  return router;
}

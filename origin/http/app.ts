import { Hono } from 'hono';
import type { AppEnv, OriginServices } from './app-env.ts';
import { errorHandler } from './error-handler.ts';
import { methodNotAllowedHandler } from './method-not-allowed.ts';
import { authenticate, observe, rejectDotSegments } from './middleware.ts';
import { agentRoutes } from './routes/agents.ts';
import { changeRoutes } from './routes/changes.ts';
import { commitRoutes } from './routes/commits.ts';
import { entryRoutes } from './routes/entries.ts';
import { historyRoutes } from './routes/history.ts';
import { snapshotRoutes } from './routes/snapshots.ts';
import { systemRoutes } from './routes/system.ts';
import { tenantRoutes } from './routes/tenants.ts';
import { tokenRoutes } from './routes/tokens.ts';

/** A group of `/v1` routes: one file under `routes/` per resource. */
export type RouteGroup = (services: OriginServices) => Hono<AppEnv>;

/**
 * The `/v1` route groups, mounted in this order. To add a resource (secrets, keys), write a
 * `routes/<resource>.ts` exporting a {@link RouteGroup} and list it here; every group runs
 * behind the token check.
 */
export const V1_ROUTE_GROUPS: RouteGroup[] = [
  tenantRoutes,
  entryRoutes,
  commitRoutes,
  historyRoutes,
  snapshotRoutes,
  changeRoutes,
  tokenRoutes,
  agentRoutes,
];

/** Builds the origin's Hono app; `extraGroups` are mounted under `/v1` after the built-in ones. */
export function buildOriginApp(
  services: OriginServices,
  extraGroups: RouteGroup[] = [],
): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', observe(services));
  app.use('*', rejectDotSegments());
  app.onError(errorHandler(services.logger));
  app.notFound(methodNotAllowedHandler(app));

  app.route('/', systemRoutes(services));

  const v1 = new Hono<AppEnv>();
  v1.use('*', authenticate(services));
  for (const group of [...V1_ROUTE_GROUPS, ...extraGroups]) v1.route('/', group(services));
  app.route('/v1', v1);
  return app;
}

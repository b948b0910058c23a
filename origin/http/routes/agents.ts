import { Hono } from 'hono';
import { requireAdmin } from '../access.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';

/** Connected edge agents and their replication progress, from the replication hub. */
export function agentRoutes(services: OriginServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/agents', (c) => {
    requireAdmin(c);
    return c.json(services.hub()?.agents() ?? []);
  });

  return app;
}

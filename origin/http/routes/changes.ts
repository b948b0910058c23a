import { Hono } from 'hono';
import { grantsKey } from '../../auth/token-grant.ts';
import { requireAdmin, tenantAccess } from '../access.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';
import { limitParam, revisionParam } from '../query.ts';

/** The change log of a tenant, and its compaction. */
export function changeRoutes(services: OriginServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { store } = services;

  app.get('/tenants/:tenant/changes', async (c) => {
    const tenant = tenantAccess(c, 'read');
    const grant = c.get('grant');
    const after = revisionParam(c.req.query('after'), 'after') ?? 0;
    const limit = limitParam(c.req.query('limit'));

    const changes = await store.changesAfter(tenant, after, limit);
    const next = changes.at(-1)?.record.revision ?? after;
    const visible = changes
      .filter((change) => grantsKey(grant, change.record.key))
      .map((change) =>
        change.value === undefined ? change.record : { ...change.record, value: change.value },
      );
    return c.json({ epoch: store.epoch, changes: visible, next });
  });

  app.post('/tenants/:tenant/compact', async (c) => {
    requireAdmin(c);
    const tenant = tenantAccess(c, 'write');
    const horizons = await store.compact(tenant);
    return c.json({ horizon: horizons[tenant] });
  });

  return app;
}

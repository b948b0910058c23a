import { Hono } from 'hono';
import { grantsTenant } from '../../auth/token-grant.ts';
import { tenantAccess } from '../access.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';

/** Tenants: create and list. */
export function tenantRoutes(services: OriginServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { store } = services;

  app.get('/tenants', async (c) => {
    const grant = c.get('grant');
    const tenants = await store.listTenants();
    return c.json(tenants.filter((tenant) => grantsTenant(grant, tenant.id)));
  });

  app.put('/tenants/:tenant', async (c) => {
    const tenant = tenantAccess(c, 'write');
    const { created, tenant: info } = await store.createTenant(tenant);
    if (created) services.metrics.headRevision.set({ tenant }, 0);
    return c.json(info, created ? 201 : 200);
  });

  app.get('/tenants/:tenant', async (c) => {
    const tenant = tenantAccess(c, 'read');
    return c.json(await store.tenant(tenant));
  });

  return app;
}

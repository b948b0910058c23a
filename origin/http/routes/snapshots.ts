import { Hono } from 'hono';
import { z } from 'zod';
import { tenantAccess } from '../access.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';
import { readJsonBody } from '../request-body.ts';
import { parseBody } from '../validation.ts';

const snapshotSchema = z
  .object({ name: z.string(), revision: z.number().int().min(0).optional() })
  .strict();
const SMALL_BODY_LIMITS = { maxBytes: 64 * 1024, maxDepth: 8 };

/** Named snapshots of a tenant revision. */
export function snapshotRoutes(services: OriginServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.post('/tenants/:tenant/snapshots', async (c) => {
    const tenant = tenantAccess(c, 'write');
    const { value } = await readJsonBody(c, SMALL_BODY_LIMITS);
    const body = parseBody(snapshotSchema, value);

    const snapshot = await services.store.createSnapshot(
      tenant,
      body.name,
      body.revision,
      c.get('grant').tokenId,
    );
    return c.json(snapshot, 201);
  });

  app.get('/tenants/:tenant/snapshots', async (c) => {
    const tenant = tenantAccess(c, 'read');
    return c.json(await services.store.listSnapshots(tenant));
  });

  return app;
}

import { Hono } from 'hono';
import { z } from 'zod';
import { pathKey, tenantAccess } from '../access.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';
import { writeConditions } from '../preconditions.ts';
import { limitParam, requiredRevision, revisionParam } from '../query.ts';
import { readJsonBody } from '../request-body.ts';
import { parseBody } from '../validation.ts';

const rollbackSchema = z.object({ revision: z.number().int().min(0) }).strict();
const SMALL_BODY_LIMITS = { maxBytes: 64 * 1024, maxDepth: 8 };

/** History, diff and rollback of one key. */
export function historyRoutes(services: OriginServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { store } = services;

  app.get('/tenants/:tenant/history/:key{.+}', async (c) => {
    const tenant = tenantAccess(c, 'read');
    const key = pathKey(c);
    const before = revisionParam(c.req.query('before'), 'before');
    const limit = limitParam(c.req.query('limit'));

    const items = await store.history(tenant, key, {
      limit,
      ...(before !== undefined && { before }),
    });
    return c.json(items);
  });

  app.get('/tenants/:tenant/diff/:key{.+}', async (c) => {
    const tenant = tenantAccess(c, 'read');
    const key = pathKey(c);
    const from = requiredRevision(c.req.query('from'), 'from');
    const to = requiredRevision(c.req.query('to'), 'to');

    const patch = await store.diff(tenant, key, from, to);
    return c.body(JSON.stringify(patch), 200, { 'Content-Type': 'application/json-patch+json' });
  });

  app.post('/tenants/:tenant/rollback/:key{.+}', async (c) => {
    const tenant = tenantAccess(c, 'write');
    const key = pathKey(c);
    const conditions = writeConditions(c, key);
    const { value } = await readJsonBody(c, SMALL_BODY_LIMITS);
    const { revision } = parseBody(rollbackSchema, value);

    const result = await store.rollback(tenant, key, revision, {
      actor: c.get('grant').tokenId,
      ...conditions,
    });
    const change = result.changes[0]!;
    return c.json({ key, revision: result.revision, hash: change.hash, op: change.op });
  });

  return app;
}

import { Hono } from 'hono';
import { z } from 'zod';
import { LcmError } from '../../../core/index.ts';
import { secretServiceOf } from '../../secrets/index.ts';
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

    // A secret is restored by the secrets layer: opened and sealed again as its next version.
    const target = await store.readEntry(tenant, key, { revision }).catch((error: unknown) => {
      if (error instanceof LcmError && error.code === 'not_found') return undefined;
      throw error;
    });
    if (target?.kind === 'secret') {
      const restored = await secretServiceOf(store).rollback(
        tenant,
        key,
        revision,
        c.get('grant').tokenId,
        conditions.expect?.[key],
      );
      return c.json({ key, revision: restored.revision, version: restored.version, op: 'put' });
    }

    const result = await store.rollback(tenant, key, revision, {
      actor: c.get('grant').tokenId,
      ...conditions,
    });
    const change = result.changes[0]!;
    return c.json({ key, revision: result.revision, hash: change.hash, op: change.op });
  });

  return app;
}

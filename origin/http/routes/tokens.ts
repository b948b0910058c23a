import { Hono } from 'hono';
import { z } from 'zod';
import { LcmError } from '../../../core/index.ts';
import { ROLES } from '../../auth/token-grant.ts';
import { requireAdmin } from '../access.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';
import { readJsonBody } from '../request-body.ts';
import { parseBody } from '../validation.ts';

const tokenSchema = z
  .object({
    role: z.enum(ROLES),
    tenants: z.array(z.string()).min(1),
    prefixes: z.array(z.string()).min(1).optional(),
    reveal: z.boolean().optional(),
  })
  .strict();
const SMALL_BODY_LIMITS = { maxBytes: 64 * 1024, maxDepth: 8 };

/** Token administration; every route needs an admin token. */
export function tokenRoutes(services: OriginServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { tokens } = services;

  app.post('/tokens', async (c) => {
    requireAdmin(c);
    const { value } = await readJsonBody(c, SMALL_BODY_LIMITS);
    const scope = parseBody(tokenSchema, value);
    return c.json(await tokens.create(scope), 201);
  });

  app.get('/tokens', async (c) => {
    requireAdmin(c);
    return c.json(await tokens.list());
  });

  app.delete('/tokens/:id', async (c) => {
    requireAdmin(c);
    const id = c.req.param('id');
    if (!(await tokens.revoke(id))) throw new LcmError('not_found', 'no such token');
    return c.json({ id, revoked: true });
  });

  return app;
}

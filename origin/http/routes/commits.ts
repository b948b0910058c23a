import { Hono } from 'hono';
import { z } from 'zod';
import { type JsonValue, LcmError } from '../../../core/index.ts';
import type { ChangeInput } from '../../store/commit-types.ts';
import { keyAccess, tenantAccess } from '../access.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';
import { readJsonBody } from '../request-body.ts';
import { parseBody } from '../validation.ts';

// A commit body nests each value three levels down: {changes: [{value: ...}]}.
const COMMIT_BODY_EXTRA_DEPTH = 3;

const changeSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('put'), key: z.string(), value: z.unknown() }).strict(),
  z
    .object({
      op: z.literal('patch'),
      key: z.string(),
      patch: z.unknown(),
      format: z.enum(['json-patch', 'merge-patch']).optional(),
    })
    .strict(),
  z.object({ op: z.literal('delete'), key: z.string() }).strict(),
]);

const commitSchema = z
  .object({
    changes: z.array(changeSchema).min(1),
    expect: z.record(z.string(), z.number().int().min(0)).optional(),
  })
  .strict();

/** Multi-key commits: every change at one revision, or nothing. */
export function commitRoutes(services: OriginServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const limits = {
    maxBytes: services.config.maxRequestBytes,
    maxDepth: services.config.maxDepth + COMMIT_BODY_EXTRA_DEPTH,
  };

  app.post('/tenants/:tenant/commits', async (c) => {
    const tenant = tenantAccess(c, 'write');
    const grant = c.get('grant');
    const { value } = await readJsonBody(c, limits);
    const body = parseBody(commitSchema, value);

    const changes = body.changes.map((change): ChangeInput => {
      keyAccess(grant, change.key);
      if (change.op === 'put') {
        if (change.value === undefined) throw new LcmError('bad_value', 'a put needs a value');
        return { op: 'put', key: change.key, value: change.value as JsonValue };
      }
      if (change.op === 'patch') {
        return { op: 'patch', key: change.key, patch: change.patch, format: change.format };
      }
      return { op: 'delete', key: change.key };
    });
    for (const key of Object.keys(body.expect ?? {})) keyAccess(grant, key);

    const result = await services.store.commit(tenant, changes, {
      actor: grant.tokenId,
      ...(body.expect && { expect: body.expect }),
    });
    return c.json({
      revision: result.revision,
      changes: result.changes.map(({ key, op, hash }) => ({ key, op, hash })),
    });
  });

  return app;
}

import { Hono } from 'hono';
import { z } from 'zod';
import { type JsonValue, LcmError } from '../../../core/index.ts';
import { secretServiceOf } from '../../secrets/index.ts';
import type { ChangeInput } from '../../store/commit-types.ts';
import { keyAccess, tenantAccess } from '../access.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';
import { readJsonBody } from '../request-body.ts';
import { parseBody } from '../validation.ts';

// A commit body nests each value three levels down: {changes: [{value: ...}]}.
const COMMIT_BODY_EXTRA_DEPTH = 3;

const changeSchema = z.discriminatedUnion('op', [
  z
    .object({
      op: z.literal('put'),
      key: z.string(),
      value: z.unknown(),
      /** `secret` seals the value under the tenant's data key, as PUT .../secrets/{key} does. */
      kind: z.enum(['config', 'secret']).optional(),
    })
    .strict(),
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
    const { maxCommitChanges } = services.config;
    if (body.changes.length > maxCommitChanges) {
      throw new LcmError(
        'too_large',
        `a commit has at most ${maxCommitChanges} changes (LCM_MAX_COMMIT_CHANGES), ` +
          `not ${body.changes.length}; split it into several commits`,
      );
    }

    const expect: Record<string, number> = { ...body.expect };
    const changes: ChangeInput[] = [];
    for (const change of body.changes) {
      keyAccess(grant, change.key);
      if (change.op === 'patch') {
        changes.push({ op: 'patch', key: change.key, patch: change.patch, format: change.format });
        continue;
      }
      if (change.op === 'delete') {
        changes.push({ op: 'delete', key: change.key });
        continue;
      }
      if (change.value === undefined) throw new LcmError('bad_value', 'a put needs a value');
      if (change.kind !== 'secret') {
        changes.push({ op: 'put', key: change.key, value: change.value as JsonValue });
        continue;
      }

      // A secret is sealed as its key's next version, on the state the commit then expects.
      const sealed = await secretServiceOf(services.store).sealChange(
        tenant,
        change.key,
        change.value as JsonValue,
      );
      const asked = expect[change.key];
      if (asked !== undefined && asked !== sealed.expectRevision) {
        throw new LcmError('revision_mismatch', `the secret at ${change.key} has changed`);
      }
      expect[change.key] = sealed.expectRevision;
      changes.push(sealed.change);
    }
    for (const key of Object.keys(body.expect ?? {})) keyAccess(grant, key);

    const result = await services.store.commit(tenant, changes, {
      actor: grant.tokenId,
      ...(Object.keys(expect).length > 0 && { expect }),
    });
    return c.json({
      revision: result.revision,
      changes: result.changes.map(({ key, op, hash }) => ({ key, op, hash })),
    });
  });

  return app;
}

import { Hono } from 'hono';
import { isKeyPrefix, LcmError } from '../../../core/index.ts';
import { grantsKey } from '../../auth/token-grant.ts';
import type { CommitResult } from '../../store/commit-types.ts';
import { pathKey, tenantAccess } from '../access.ts';
import type { AppEnv, OriginServices } from '../app-env.ts';
import { entityTag, notModified, writeConditions } from '../preconditions.ts';
import { decodeCursor, encodeCursor, limitParam, revisionParam } from '../query.ts';
import { readJsonBody } from '../request-body.ts';

const JSON_PATCH_TYPE = 'application/json-patch+json';
const MERGE_PATCH_TYPE = 'application/merge-patch+json';
const KEY_PATH = '/tenants/:tenant/entries/:key{.+}';

/** Config entries: read, write, patch, delete and list. */
export function entryRoutes(services: OriginServices): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { store } = services;
  const limits = { maxBytes: services.config.maxValueBytes, maxDepth: services.config.maxDepth };

  const answerWrite = (result: CommitResult) => {
    const change = result.changes[0]!;
    return { key: change.key, revision: result.revision, hash: change.hash };
  };

  app.get('/tenants/:tenant/entries', async (c) => {
    const tenant = tenantAccess(c, 'read');
    const grant = c.get('grant');
    const prefix = c.req.query('prefix') ?? '';
    if (!isKeyPrefix(prefix)) throw new LcmError('bad_key', 'prefix is not the start of a key');
    const limit = limitParam(c.req.query('limit'));
    const after = decodeCursor(c.req.query('cursor'));

    const page = await store.listEntries(tenant, { prefix, limit, ...(after && { after }) });
    const items = page
      .filter((entry) => grantsKey(grant, entry.key))
      .map(({ key, kind, revision, hash }) => ({ key, kind, revision, hash }));
    const last = page.at(-1);
    const next = page.length === limit && last !== undefined ? encodeCursor(last.key) : null;
    return c.json({ items, next });
  });

  app.get(KEY_PATH, async (c) => {
    const tenant = tenantAccess(c, 'read');
    const key = pathKey(c);
    const revision = revisionParam(c.req.query('revision'), 'revision');
    const snapshot = c.req.query('snapshot');
    if (revision !== undefined && snapshot !== undefined) {
      throw new LcmError('bad_request', 'give revision or snapshot, not both');
    }

    const entry = await store.readEntry(tenant, key, {
      ...(revision !== undefined && { revision }),
      ...(snapshot !== undefined && { snapshot }),
    });
    if (entry.kind !== 'config') {
      throw new LcmError('conflict', `the entry at ${key} is a ${entry.kind}; use its own API`);
    }
    c.header('ETag', entityTag(entry.revision));
    c.header('X-Config-Revision', String(entry.headRevision));
    if (notModified(c, entry.revision)) return c.body(null, 304);
    return c.body(entry.text, 200, { 'Content-Type': 'application/json' });
  });

  app.put(KEY_PATH, async (c) => {
    const tenant = tenantAccess(c, 'write');
    const key = pathKey(c);
    const conditions = writeConditions(c, key);
    const { value } = await readJsonBody(c, limits);

    const result = await store.commit(tenant, [{ op: 'put', key, value }], {
      actor: c.get('grant').tokenId,
      ...conditions,
    });
    c.header('ETag', entityTag(result.revision));
    return c.json(answerWrite(result));
  });

  app.patch(KEY_PATH, async (c) => {
    const tenant = tenantAccess(c, 'write');
    const key = pathKey(c);
    const conditions = writeConditions(c, key);
    const { value: patch, type } = await readJsonBody(c, limits, [
      JSON_PATCH_TYPE,
      MERGE_PATCH_TYPE,
    ]);
    const format = type === MERGE_PATCH_TYPE ? 'merge-patch' : 'json-patch';

    const result = await store.commit(tenant, [{ op: 'patch', key, patch, format }], {
      actor: c.get('grant').tokenId,
      ...conditions,
    });
    c.header('ETag', entityTag(result.revision));
    return c.json(answerWrite(result));
  });

  app.delete(KEY_PATH, async (c) => {
    const tenant = tenantAccess(c, 'write');
    const key = pathKey(c);
    const conditions = writeConditions(c, key);

    const result = await store.commit(tenant, [{ op: 'delete', key }], {
      actor: c.get('grant').tokenId,
      ...conditions,
    });
    return c.json({ key, revision: result.revision });
  });

  return app;
}

import { Hono } from 'hono';
import { LcmError, revealFlag } from '../../core/index.ts';
import { pathKey, requireAdmin, tenantAccess } from '../http/access.ts';
import type { RouteGroup } from '../http/app.ts';
import type { AppEnv } from '../http/app-env.ts';
import { entityTag, notModified, writeConditions } from '../http/preconditions.ts';
import { revisionParam } from '../http/query.ts';
import { readJsonBody } from '../http/request-body.ts';
import { parseBody } from '../http/validation.ts';
import type { DataKeyManager } from '../keys/data-key-manager.ts';
import type { DataKeyRotation } from '../keys/data-key-rotation.ts';
import { type SecretService, secretWriteSchema } from './secret-service.ts';

const KEY_PATH = '/tenants/:tenant/secrets/:key{.+}';

/** What the secret and key routes use. */
export interface SecretRouteDeps {
  secrets: SecretService;
  keys: DataKeyManager;
  rotation: DataKeyRotation;
}

/**
 * `PUT/GET /v1/tenants/{t}/secrets/{key}`: write a secret, read its metadata, and with
 * `?reveal=true` (or `1`) and a token allowed to reveal, its plaintext (`?version=previous`
 * during an overlap). Any other `reveal` value is 400. Plaintext appears in no other answer.
 */
export function secretRoutes(deps: SecretRouteDeps): RouteGroup {
  return (services) => {
    const app = new Hono<AppEnv>();
    const limits = {
      maxBytes: services.config.maxRequestBytes,
      maxDepth: services.config.maxDepth + 1,
    };

    app.put(KEY_PATH, async (c) => {
      const tenant = tenantAccess(c, 'write');
      const key = pathKey(c);
      const conditions = writeConditions(c, key);
      const { value } = await readJsonBody(c, limits);
      const body = parseBody(secretWriteSchema, value);
      if (conditions.absent !== undefined || conditions.present !== undefined) {
        throw new LcmError('bad_request', 'secrets take If-Match with a revision only');
      }

      const result = await deps.secrets.write(
        tenant,
        key,
        body,
        c.get('grant').tokenId,
        conditions.expect?.[key],
      );
      c.header('ETag', entityTag(result.revision));
      return c.json(result);
    });

    app.get(KEY_PATH, async (c) => {
      const tenant = tenantAccess(c, 'read');
      const key = pathKey(c);
      const grant = c.get('grant');
      const reveal = revealFlag(c.req.query('reveal'));
      const which = c.req.query('version') ?? 'current';
      if (which !== 'current' && which !== 'previous') {
        throw new LcmError('bad_request', 'version is current or previous');
      }
      if (reveal && !(grant.reveal || grant.role === 'admin')) {
        throw new LcmError('forbidden', 'this token may not reveal secrets');
      }
      const revision = revisionParam(c.req.query('revision'), 'revision');
      const snapshot = c.req.query('snapshot');
      if (revision !== undefined && snapshot !== undefined) {
        throw new LcmError('bad_request', 'give revision or snapshot, not both');
      }

      const secret = await deps.secrets.read(tenant, key, {
        ...(revision !== undefined && { revision }),
        ...(snapshot !== undefined && { snapshot }),
      });
      c.header('ETag', entityTag(secret.revision));
      c.header('X-Config-Revision', String(secret.headRevision));
      c.header('Cache-Control', 'no-store');
      if (!reveal && notModified(c, secret.revision)) return c.body(null, 304);

      const metadata = deps.secrets.metadata(tenant, secret);
      if (!reveal) return c.json(metadata);
      const opened = await deps.secrets.reveal(tenant, secret, which);
      return c.json({ ...metadata, revealedVersion: opened.version, value: opened.value });
    });

    app.get('/tenants/:tenant/keys', async (c) => {
      const tenant = tenantAccess(c, 'read');
      const [versions, rotation] = await Promise.all([
        deps.keys.versions(tenant),
        deps.rotation.status(tenant),
      ]);
      return c.json({ tenant, provider: deps.keys.provider.kind, versions, rotation });
    });

    app.post('/tenants/:tenant/keys/rotate', async (c) => {
      const tenant = tenantAccess(c, 'write');
      requireAdmin(c);
      const status = await deps.rotation.rotate(tenant);
      return c.json(status, 202);
    });

    app.post('/keys/rewrap', async (c) => {
      requireAdmin(c);
      const result = await deps.keys.rewrapAll();
      return c.json({ ...result, kekId: deps.keys.provider.currentKekId });
    });

    return app;
  };
}

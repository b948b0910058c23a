import { timingSafeEqual } from 'node:crypto';
import { type Context, Hono } from 'hono';
import {
  isEntryKey,
  isSecretRecord,
  LcmError,
  openSecretRecord,
  revealFlag,
} from '../core/index.ts';
import { sendAgentError as fail, rejectDotSegments } from './agent-http.ts';
import type { AgentKeyring } from './agent-keyring.ts';
import type { EntryIndex } from './entry-index.ts';

/** What the agent's secret reads need. */
export interface SecretReadDeps {
  index: EntryIndex;
  keyring: AgentKeyring;
  /** Tenants this agent replicates. */
  tenants: readonly string[];
  /** The local secret token; without one, no secret is ever revealed. */
  secretToken: string | undefined;
  /** Milliseconds since the agent last heard from the origin about `tenant`. */
  stalenessMs: (tenant: string) => number;
}

/**
 * `GET /v1/tenants/{tenant}/secrets/{key}` at the agent: metadata from the replica's ciphertext
 * record; with `?reveal=true` (or `1`) and `Authorization: Bearer <local secret token>`, the
 * plaintext, opened now with the tenant's data key; any other `reveal` value is 400. `?version=previous` reads the value before the last
 * rotation while its overlap lasts. The plaintext is never stored or logged.
 */
export function createSecretReadApi(deps: SecretReadDeps): Hono {
  const app = new Hono();
  const configured = new Set(deps.tenants);
  app.use('*', rejectDotSegments());
  const expected =
    deps.secretToken === undefined ? undefined : Buffer.from(`Bearer ${deps.secretToken}`);

  const mayReveal = (c: Context) => {
    const given = Buffer.from(c.req.header('authorization') ?? '');
    return (
      expected !== undefined && given.length === expected.length && timingSafeEqual(given, expected)
    );
  };

  app.get('/v1/tenants/:tenant/secrets/:key{.+}', async (c) => {
    const tenant = c.req.param('tenant');
    const key = c.req.param('key');
    if (!configured.has(tenant)) {
      return fail(c, new LcmError('not_found', `this agent does not replicate tenant ${tenant}`));
    }
    const held = deps.index.tenant(tenant);
    if (held === undefined) {
      return fail(
        c,
        new LcmError('not_synced', `this agent holds no data of tenant ${tenant} yet`),
      );
    }
    const entry = held.entries.get(key);
    if (entry === undefined) {
      if (!isEntryKey(key)) return fail(c, new LcmError('bad_key', 'not a valid entry key'));
      return fail(c, new LcmError('not_found', `no secret at ${key}`));
    }
    if (entry.kind !== 'secret' || !isSecretRecord(entry.value)) {
      return fail(c, new LcmError('conflict', `the entry at ${key} is not a secret`));
    }
    const which = c.req.query('version') ?? 'current';
    if (which !== 'current' && which !== 'previous') {
      return fail(c, new LcmError('bad_request', 'version is current or previous'));
    }
    const reveal = revealFlag(c.req.query('reveal'));

    const record = entry.value;
    c.header('ETag', entry.etag);
    c.header('X-Config-Revision', String(held.revision));
    c.header('X-Config-Staleness-Ms', String(deps.stalenessMs(tenant)));
    c.header('Cache-Control', 'no-store');
    const metadata = {
      key,
      revision: entry.revision,
      version: record.version,
      dekVersion: record.dekVersion,
      createdAt: record.createdAt,
      rotatesAt: record.rotatesAt,
      previous:
        record.previous === null
          ? null
          : { version: record.previous.version, validUntil: record.previous.validUntil },
    };
    if (!reveal) return c.json(metadata);
    if (!mayReveal(c)) {
      return fail(
        c,
        new LcmError('unauthorized', 'revealing a secret needs the local secret token'),
      );
    }

    try {
      const opened = await openSecretRecord(record, which, {
        tenant,
        key,
        lookup: deps.keyring.lookup,
      });
      return c.json({ ...metadata, revealedVersion: opened.version, value: opened.value });
    } catch (error) {
      if (error instanceof LcmError) return fail(c, error);
      return fail(c, new LcmError('internal', 'the secret could not be opened'));
    }
  });

  app.notFound((c) => fail(c, new LcmError('not_found', 'no such resource on the agent')));
  app.onError((error, c) =>
    fail(c, error instanceof LcmError ? error : new LcmError('internal', 'internal error')),
  );
  return app;
}

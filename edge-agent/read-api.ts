import type { Context } from 'hono';
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { isEntryKey, isKeyPrefix, LcmError } from '../core/index.ts';
import { sendAgentError as fail, rejectDotSegments } from './agent-http.ts';
import type { AgentMetrics } from './agent-metrics.ts';
import type { EntryIndex, IndexChange, IndexedEntry, IndexedTenant } from './entry-index.ts';

/** Default wait of a long-poll watch when `timeout_ms` is not given. */
export const DEFAULT_WATCH_TIMEOUT_MS = 30_000;

/** Longest wait a long-poll watch may ask for. */
export const MAX_WATCH_TIMEOUT_MS = 300_000;

/** Interval of keep-alive comments on an event stream. */
const SSE_KEEPALIVE_MS = 15_000;

/** What the read API needs from the running agent. */
export interface ReadApiDeps {
  index: EntryIndex;
  metrics: AgentMetrics;
  /** Tenants this agent replicates. */
  tenants: readonly string[];
  /** The origin's HTTP base URL, named in answers to writes. */
  originHttpUrl: string;
  /** True while the agent holds a live connection to the origin. */
  connected: () => boolean;
  /** Milliseconds since the agent last heard from the origin about `tenant`; 0 when live. */
  stalenessMs: (tenant: string) => number;
}

/**
 * The agent's local read API, with the same resource paths as the origin's read side, so that a
 * consumer can point at either. Every answer comes from the in-memory index.
 */
export function createReadApi(deps: ReadApiDeps): Hono {
  const app = new Hono();
  const { index, metrics } = deps;
  const configured = new Set(deps.tenants);
  app.use('*', rejectDotSegments());

  /** The tenant's state, or the error answer when this agent cannot serve it. */
  const heldTenant = (tenant: string): IndexedTenant | LcmError => {
    if (!configured.has(tenant)) {
      return new LcmError('not_found', `this agent does not replicate tenant ${tenant}`);
    }
    return (
      index.tenant(tenant) ??
      new LcmError('not_synced', `this agent holds no data of tenant ${tenant} yet`)
    );
  };

  /**
   * The answer for one entry, built as a Response with a plain header object. Hono's `c.body()`
   * turns more than one header into a `Headers` object, and @hono/node-server then copies it into
   * a record on every answer; a plain record goes straight to `writeHead`. The header names are
   * lowercase, as the `Headers` path wrote them.
   */
  const entryResponse = (
    tenant: string,
    held: IndexedTenant,
    entry: IndexedEntry,
    notModified: boolean,
  ): Response => {
    const revision = String(held.revision);
    const staleness = String(deps.stalenessMs(tenant));
    if (notModified) {
      return new Response(null, {
        status: 304,
        headers: {
          etag: entry.etag,
          'x-config-revision': revision,
          'x-config-staleness-ms': staleness,
        },
      });
    }
    return new Response(entry.body, {
      status: 200,
      headers: {
        'content-type': 'application/json',
        etag: entry.etag,
        'x-config-revision': revision,
        'x-config-staleness-ms': staleness,
      },
    });
  };

  app.get('/v1/tenants/:tenant/entries/:key{.+}', (c) => {
    const started = performance.now();
    const tenant = c.req.param('tenant');
    const key = c.req.param('key');
    const held = heldTenant(tenant);
    if (held instanceof LcmError) return fail(c, held);

    const maxStaleness = c.req.query('max_staleness_ms');
    if (maxStaleness !== undefined) {
      const staleness = deps.stalenessMs(tenant);
      const limit = Number(maxStaleness);
      if (!Number.isInteger(limit) || limit < 0) {
        return fail(c, new LcmError('bad_request', 'max_staleness_ms is a whole number of ms'));
      }
      if (staleness > limit) {
        c.header('X-Config-Staleness-Ms', String(staleness));
        return fail(
          c,
          new LcmError('stale', `the agent last heard from the origin ${staleness} ms ago`),
        );
      }
    }

    const entry = held.entries.get(key);
    if (entry === undefined) {
      if (!isEntryKey(key)) return fail(c, new LcmError('bad_key', 'not a valid entry key'));
      return fail(c, new LcmError('not_found', `no entry at ${key}`));
    }
    if (entry.kind !== 'config') {
      return fail(c, new LcmError('conflict', `the entry at ${key} is a ${entry.kind}`));
    }

    const notModified = c.req.header('if-none-match') === entry.etag;
    const response = entryResponse(tenant, held, entry, notModified);
    metrics.readDuration.observe((performance.now() - started) / 1000);
    return response;
  });

  app.get('/v1/tenants/:tenant/entries', (c) => {
    const tenant = c.req.param('tenant');
    const held = heldTenant(tenant);
    if (held instanceof LcmError) return fail(c, held);
    const prefix = c.req.query('prefix') ?? '';
    if (!isKeyPrefix(prefix)) return fail(c, new LcmError('bad_key', 'not the start of a key'));

    const items = [...held.entries.values()]
      .filter((entry) => entry.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : 1))
      .map(({ key, kind, revision, hash }) => ({ key, kind, revision, hash }));
    c.header('X-Config-Revision', String(held.revision));
    c.header('X-Config-Staleness-Ms', String(deps.stalenessMs(tenant)));
    return c.json({ items, next: null });
  });

  app.get('/v1/tenants/:tenant/watch/:key{.+}', async (c) => {
    const tenant = c.req.param('tenant');
    const key = c.req.param('key');
    if (!isEntryKey(key)) return fail(c, new LcmError('bad_key', 'not a valid entry key'));
    if (!configured.has(tenant)) return fail(c, heldTenant(tenant) as LcmError);
    const after = Number(c.req.query('after') ?? '0');
    const timeoutMs = Number(c.req.query('timeout_ms') ?? DEFAULT_WATCH_TIMEOUT_MS);
    if (!Number.isInteger(after) || after < 0 || !Number.isInteger(timeoutMs) || timeoutMs < 0) {
      return fail(c, new LcmError('bad_request', 'after and timeout_ms are whole numbers'));
    }

    const current = index.tenant(tenant)?.entries.get(key);
    const change =
      current !== undefined && current.revision > after
        ? current
        : await waitForChange(c, tenant, key, after, Math.min(timeoutMs, MAX_WATCH_TIMEOUT_MS));

    const held = index.tenant(tenant);
    if (change === undefined || held === undefined) return c.body(null, 304);
    if (change === null) {
      c.header('X-Config-Revision', String(held.revision));
      return fail(c, new LcmError('not_found', `the entry at ${key} was deleted`));
    }
    return entryResponse(tenant, held, change, false);
  });

  /** Resolves with the key's new entry (null: deleted), or undefined at the timeout. */
  const waitForChange = (
    c: Context,
    tenant: string,
    key: string,
    after: number,
    timeoutMs: number,
  ): Promise<IndexedEntry | null | undefined> =>
    new Promise((resolve) => {
      const finish = (entry: IndexedEntry | null | undefined) => {
        clearTimeout(timer);
        unsubscribe();
        c.req.raw.signal.removeEventListener('abort', onAbort);
        resolve(entry);
      };
      const onAbort = () => finish(undefined);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const unsubscribe = index.onChange((change: IndexChange) => {
        if (change.tenant === tenant && change.key === key && change.revision > after) {
          finish(change.entry);
        }
      });
      c.req.raw.signal.addEventListener('abort', onAbort);
    });

  app.get('/v1/tenants/:tenant/events', (c) => {
    const tenant = c.req.param('tenant');
    if (!configured.has(tenant)) return fail(c, heldTenant(tenant) as LcmError);
    const prefix = c.req.query('prefix') ?? '';
    if (!isKeyPrefix(prefix)) return fail(c, new LcmError('bad_key', 'not the start of a key'));

    return streamSSE(c, async (stream) => {
      const pending: IndexChange[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = index.onChange((change) => {
        if (change.tenant !== tenant || !change.key.startsWith(prefix)) return;
        pending.push(change);
        wake?.();
      });
      stream.onAbort(() => {
        unsubscribe();
        wake?.();
      });

      while (!stream.aborted) {
        for (const change of pending.splice(0)) {
          await stream.writeSSE({
            event: change.entry === null ? 'delete' : 'put',
            id: String(change.revision),
            data: JSON.stringify({
              key: change.key,
              revision: change.revision,
              hash: change.entry?.hash ?? null,
            }),
          });
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, SSE_KEEPALIVE_MS).unref();
        });
        wake = undefined;
        if (pending.length === 0 && !stream.aborted) await stream.write(': keep-alive\n\n');
      }
      unsubscribe();
    });
  });

  app.get('/v1/status', (c) => {
    const tenants: Record<string, unknown> = {};
    for (const tenant of deps.tenants) {
      const held = index.tenant(tenant);
      tenants[tenant] = {
        revision: held?.revision ?? 0,
        epoch: held?.epoch ?? null,
        lastSyncAt: held === undefined ? null : new Date(held.lastSyncAt).toISOString(),
        stalenessMs: held === undefined ? null : deps.stalenessMs(tenant),
      };
    }
    return c.json({ connected: deps.connected(), origin: deps.originHttpUrl, tenants });
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/metrics', async (c) => {
    const text = await metrics.registry.metrics();
    return c.body(text, 200, { 'Content-Type': metrics.registry.contentType });
  });

  app.on(['PUT', 'POST', 'PATCH', 'DELETE'], '/v1/*', (c) => {
    c.header('Allow', 'GET, HEAD');
    c.header('X-Config-Origin', deps.originHttpUrl);
    return fail(
      c,
      new LcmError(
        'method_not_allowed',
        `the agent is read-only; write to the origin at ${deps.originHttpUrl}`,
      ),
    );
  });

  app.notFound((c) => fail(c, new LcmError('not_found', 'no such resource on the agent')));
  app.onError((error, c) =>
    fail(c, error instanceof LcmError ? error : new LcmError('internal', 'internal error')),
  );
  return app;
}

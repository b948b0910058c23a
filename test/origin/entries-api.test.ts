import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../core/index.ts';
import { errorCode, originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

let origin: OriginProcess;
let api: ReturnType<typeof originApi>;

beforeAll(async () => {
  origin = await startOriginProcess();
  api = originApi(origin);
});
afterAll(() => origin?.dispose());

describe('tenants', () => {
  it('creates a tenant with 201, answers 200 when it exists, and lists it', async () => {
    expect((await api('PUT', '/v1/tenants/acme')).status).toBe(201);
    expect((await api('PUT', '/v1/tenants/acme')).status).toBe(200);

    const list = await api('GET', '/v1/tenants');
    expect(list.status).toBe(200);
    expect((list.body as Array<{ id: string }>).map((tenant) => tenant.id)).toContain('acme');
  });

  it('refuses writes to a tenant that does not exist with 404', async () => {
    const response = await api('PUT', '/v1/tenants/ghost/entries/a', { body: 1 });
    expect(response.status).toBe(404);
    expect(errorCode(response)).toBe('not_found');
  });
});

describe('entries', () => {
  beforeAll(async () => {
    await api('PUT', '/v1/tenants/entries');
  });

  it('puts a value and reads it back with its ETag and the tenant revision', async () => {
    const value = { model: 'llama-3', temperature: 0.2, stop: ['</s>'] };
    const put = await api('PUT', '/v1/tenants/entries/entries/routers/prod/default', {
      body: value,
    });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({
      key: 'routers/prod/default',
      revision: 1,
      hash: await contentHash(value),
    });

    const get = await api('GET', '/v1/tenants/entries/entries/routers/prod/default');
    expect(get.status).toBe(200);
    expect(get.body).toEqual(value);
    expect(get.headers.get('etag')).toBe('"1"');
    expect(get.headers.get('x-config-revision')).toBe('1');
    expect(get.headers.get('x-store-epoch')).toMatch(/^[0-9a-f-]{36}$/);
    expect(put.headers.get('x-store-epoch')).toBe(get.headers.get('x-store-epoch'));
  });

  it('gives the ETag of the last change of the key while the tenant head moves on', async () => {
    await api('PUT', '/v1/tenants/entries/entries/other', { body: 'x' });
    const get = await api('GET', '/v1/tenants/entries/entries/routers/prod/default');
    expect(get.headers.get('etag')).toBe('"1"');
    expect(get.headers.get('x-config-revision')).toBe('2');
  });

  it('answers 304 to a GET whose If-None-Match names the current ETag', async () => {
    const get = await api('GET', '/v1/tenants/entries/entries/routers/prod/default', {
      headers: { 'if-none-match': '"1"' },
    });
    expect(get.status).toBe(304);
  });

  it('honours If-Match: the matching revision writes, another gets 412 revision_mismatch', async () => {
    const path = '/v1/tenants/entries/entries/guarded';
    const first = await api('PUT', path, { body: { v: 1 } });
    const revision = (first.body as { revision: number }).revision;

    const stale = await api('PUT', path, { body: { v: 2 }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    expect(errorCode(stale)).toBe('revision_mismatch');

    const fresh = await api('PUT', path, {
      body: { v: 2 },
      headers: { 'if-match': `"${revision}"` },
    });
    expect(fresh.status).toBe(200);
    expect((await api('GET', path)).body).toEqual({ v: 2 });
  });

  it('honours If-None-Match: * with 412 when the key exists', async () => {
    const path = '/v1/tenants/entries/entries/create-once';
    const headers = { 'if-none-match': '*' };
    expect((await api('PUT', path, { body: 1, headers })).status).toBe(200);

    const again = await api('PUT', path, { body: 2, headers });
    expect(again.status).toBe(412);
    expect(errorCode(again)).toBe('precondition_failed');
    expect((await api('GET', path)).body).toBe(1);
  });

  it('applies an RFC 6902 JSON Patch', async () => {
    const path = '/v1/tenants/entries/entries/patched';
    await api('PUT', path, { body: { a: 1, list: [1, 2] } });
    const patch = [
      { op: 'replace', path: '/a', value: 2 },
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'test', path: '/list/0', value: 1 },
    ];
    const response = await api('PATCH', path, {
      body: patch,
      type: 'application/json-patch+json',
    });
    expect(response.status).toBe(200);
    const expected = { a: 2, list: [1, 2, 3] };
    expect((response.body as { hash: string }).hash).toBe(await contentHash(expected));
    expect((await api('GET', path)).body).toEqual(expected);
  });

  it('applies an RFC 7396 merge patch', async () => {
    const path = '/v1/tenants/entries/entries/merged';
    await api('PUT', path, { body: { a: 1, b: { c: 2, d: 3 } } });
    const response = await api('PATCH', path, {
      body: { a: null, b: { d: 4 }, e: true },
      type: 'application/merge-patch+json',
    });
    expect(response.status).toBe(200);
    expect((await api('GET', path)).body).toEqual({ b: { c: 2, d: 4 }, e: true });
  });

  it('honours If-Match on PATCH', async () => {
    const path = '/v1/tenants/entries/entries/patch-guarded';
    await api('PUT', path, { body: { a: 1 } });
    const response = await api('PATCH', path, {
      body: [{ op: 'replace', path: '/a', value: 5 }],
      type: 'application/json-patch+json',
      headers: { 'if-match': '"1"' },
    });
    expect(response.status).toBe(412);
    expect(errorCode(response)).toBe('revision_mismatch');
  });

  it('deletes a key; then GET answers 404 not_found', async () => {
    const path = '/v1/tenants/entries/entries/doomed';
    await api('PUT', path, { body: 'bye' });
    const response = await api('DELETE', path);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ key: 'doomed', revision: expect.any(Number) });

    const get = await api('GET', path);
    expect(get.status).toBe(404);
    expect(errorCode(get)).toBe('not_found');
    expect((await api('DELETE', path)).status).toBe(404);
  });

  it('reads a value as of an earlier tenant revision and as of a named snapshot', async () => {
    await api('PUT', '/v1/tenants/timeline');
    const path = '/v1/tenants/timeline/entries/k';
    await api('PUT', path, { body: 'one' });
    await api('POST', '/v1/tenants/timeline/snapshots', { body: { name: 'first' } });
    await api('PUT', path, { body: 'two' });
    await api('DELETE', path);
    await api('PUT', '/v1/tenants/timeline/entries/other', { body: 0 });

    expect((await api('GET', `${path}?revision=1`)).body).toBe('one');
    expect((await api('GET', `${path}?revision=2`)).body).toBe('two');
    expect((await api('GET', `${path}?revision=3`)).status).toBe(404);
    expect((await api('GET', `${path}?revision=0`)).status).toBe(404);
    expect(errorCode(await api('GET', `${path}?revision=99`))).toBe('bad_revision');
    expect(errorCode(await api('GET', `${path}?revision=x`))).toBe('bad_revision');

    const atSnapshot = await api('GET', `${path}?snapshot=first`);
    expect(atSnapshot.body).toBe('one');
    expect(atSnapshot.headers.get('etag')).toBe('"1"');
    expect(errorCode(await api('GET', `${path}?snapshot=nope`))).toBe('not_found');
  });

  it('takes a value of exactly 8 MiB by default and refuses one byte more with 413', async () => {
    const path = '/v1/tenants/entries/entries/huge';
    const limit = 8 * 1024 * 1024;
    const largest = JSON.stringify('x'.repeat(limit - 2));
    const put = await api('PUT', path, { raw: largest });
    expect(put.status).toBe(200);
    const get = await api('GET', path);
    expect(get.text.length).toBe(limit);

    const tooLarge = await api('PUT', path, { raw: JSON.stringify('x'.repeat(limit - 1)) });
    expect(tooLarge.status).toBe(413);
    expect(errorCode(tooLarge)).toBe('too_large');
  });

  it('lists keys in key order by prefix, page by page with a cursor', async () => {
    await api('PUT', '/v1/tenants/listing');
    const keys = ['b/2', 'a/1', 'b/1', 'b/3', 'c', 'b/10'];
    for (const key of keys) await api('PUT', `/v1/tenants/listing/entries/${key}`, { body: key });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `prefix=b/&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api('GET', `/v1/tenants/listing/entries?${query}`);
      expect(page.status).toBe(200);
      const body = page.body as { items: Array<{ key: string; revision: number }>; next: string };
      expect(body.items.length).toBeLessThanOrEqual(2);
      for (const item of body.items) expect(item).toMatchObject({ hash: expect.any(String) });
      seen.push(...body.items.map((item) => item.key));
      cursor = body.next;
    } while (cursor !== null);
    expect(seen).toEqual(['b/1', 'b/10', 'b/2', 'b/3']);

    const all = await api('GET', '/v1/tenants/listing/entries');
    const items = (all.body as { items: Array<{ key: string }> }).items;
    expect(items.map((item) => item.key)).toEqual([...keys].sort());
    expect(errorCode(await api('GET', '/v1/tenants/listing/entries?cursor=%25%25'))).toBe(
      'bad_cursor',
    );
  });
});

describe('methods a resource does not support', () => {
  it.each(['POST', 'OPTIONS'])(
    'answers %s on an entry with 405 and an Allow header',
    async (method) => {
      const response = await api(method, '/v1/tenants/entries/entries/some/key');
      expect(response.status).toBe(405);
      expect(response.body).toEqual({
        error: {
          code: 'method_not_allowed',
          message: expect.stringContaining(method),
          requestId: expect.any(String),
        },
      });
      expect(response.headers.get('allow')).toBe('GET, HEAD, PUT, PATCH, DELETE');
    },
  );

  it('answers DELETE on the commits of a tenant with 405 allowing only POST', async () => {
    const response = await api('DELETE', '/v1/tenants/entries/commits');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('POST');
  });

  it('answers POST on /healthz with 405 allowing GET and HEAD', async () => {
    const response = await api('POST', '/healthz', { token: null });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('still answers a path no route has with 404 not_found', async () => {
    const response = await api('POST', '/v1/tenants/entries/nothing-here');
    expect(response.status).toBe(404);
    expect(errorCode(response)).toBe('not_found');
    expect(response.headers.get('allow')).toBeNull();
  });
});

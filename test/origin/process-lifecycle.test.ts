import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash } from '../../core/index.ts';
import { errorCode, originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

let origin: OriginProcess;
let api: ReturnType<typeof originApi>;

beforeAll(async () => {
  origin = await startOriginProcess();
  api = originApi(origin);
  await api('PUT', '/v1/tenants/life');
});
afterAll(() => origin?.dispose());

describe('service endpoints', () => {
  it('answers /healthz and /readyz without a token', async () => {
    expect((await api('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    const ready = await api('GET', '/readyz', { token: null });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ status: 'ready' });
  });

  it('serves an OpenAPI document naming every route and the closed list of error codes', async () => {
    const response = await api('GET', '/openapi.json', { token: null });
    const document = response.body as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
      components: {
        schemas: { Error: { properties: { error: { properties: { code: { enum: string[] } } } } } };
      };
    };
    expect(document.openapi).toMatch(/^3\./);
    for (const path of [
      '/v1/tenants/{tenant}/entries/{key}',
      '/v1/tenants/{tenant}/commits',
      '/v1/tenants/{tenant}/changes',
      '/v1/tokens',
    ]) {
      expect(Object.keys(document.paths)).toContain(path);
    }
    expect(Object.keys(document.paths['/v1/tenants/{tenant}/entries/{key}']!)).toEqual(
      expect.arrayContaining(['get', 'put', 'patch', 'delete']),
    );
    const codes = document.components.schemas.Error.properties.error.properties.code.enum;
    expect(codes).toEqual(expect.arrayContaining(['revision_mismatch', 'compacted', 'too_large']));
  });

  it('exposes Prometheus metrics: requests by route and status, latency, commits, head revision', async () => {
    await api('PUT', '/v1/tenants/life/entries/metered', { body: 1 });
    await api('GET', '/v1/tenants/life/entries/metered');
    await api('GET', '/v1/tenants/life/entries/absent');

    const response = await api('GET', '/metrics', { token: null });
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = response.text;
    expect(text).toMatch(
      /lcm_origin_http_requests_total\{method="GET",route="\/v1\/tenants\/:tenant\/entries\/:key\{\.\+\}",status="404"\} 1/,
    );
    expect(text).toMatch(
      /lcm_origin_http_request_duration_seconds_bucket\{le="0.001",method="PUT"/,
    );
    expect(text).toMatch(/lcm_origin_commits_total\{tenant="life"\} 1/);
    expect(text).toMatch(/lcm_origin_head_revision\{tenant="life"\} 1/);
  });

  it('gives every answer a request id, also in error bodies, and keeps a sane incoming one', async () => {
    const ok = await api('GET', '/healthz', { token: null });
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const failed = await api('GET', '/v1/tenants', {
      token: null,
      headers: { 'x-request-id': 'trace-123' },
    });
    expect(failed.headers.get('x-request-id')).toBe('trace-123');
    expect(failed.body).toEqual({
      error: { code: 'unauthorized', message: expect.any(String), requestId: 'trace-123' },
    });
  });

  it('answers unknown routes with 404 not_found in the error shape', async () => {
    const response = await api('GET', '/v2/nothing', { token: null });
    expect(response.status).toBe(404);
    expect(errorCode(response)).toBe('not_found');
  });
});

describe('stopping and crashing', () => {
  it('keeps a write acknowledged right before SIGKILL, with its revision and history', async () => {
    const value = { crash: 'test', at: Date.now() };
    const put = await api('PUT', '/v1/tenants/life/entries/durable', { body: value });
    expect(put.status).toBe(200);
    await origin.kill();

    await origin.restart();
    const { revision, hash } = put.body as { revision: number; hash: string };
    const get = await api('GET', '/v1/tenants/life/entries/durable');
    expect(get.body).toEqual(value);
    expect(get.headers.get('etag')).toBe(`"${revision}"`);
    expect(hash).toBe(await contentHash(value));
    const history = (await api('GET', '/v1/tenants/life/history/durable')).body;
    expect(history).toEqual([expect.objectContaining({ revision, op: 'put', hash })]);
  });

  it('loses none of many writes acknowledged while it is killed mid-stream', async () => {
    const acknowledged: Array<{ key: string; revision: number }> = [];
    const writers = Array.from({ length: 4 }, async (_, writer) => {
      for (let n = 0; ; n++) {
        const key = `burst/${writer}/${n}`;
        try {
          const put = await api('PUT', `/v1/tenants/life/entries/${key}`, { body: { n } });
          if (put.status !== 200) return;
          acknowledged.push({ key, revision: (put.body as { revision: number }).revision });
        } catch {
          return;
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 400));
    await origin.kill();
    await Promise.all(writers);
    expect(acknowledged.length).toBeGreaterThan(0);

    await origin.restart();
    for (const { key, revision } of acknowledged) {
      const get = await api('GET', `/v1/tenants/life/entries/${key}`);
      expect(get.status, key).toBe(200);
      expect(get.headers.get('etag')).toBe(`"${revision}"`);
    }
    const revisions = acknowledged.map((write) => write.revision).sort((a, b) => a - b);
    expect(new Set(revisions).size).toBe(revisions.length);
  });

  it('stops cleanly on SIGTERM with exit code 0 and the data intact', async () => {
    await api('PUT', '/v1/tenants/life/entries/before-stop', { body: true });
    const exit = await origin.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(origin.logRecords().some((record) => record.msg === 'origin stopped')).toBe(true);

    await origin.restart();
    expect((await api('GET', '/v1/tenants/life/entries/before-stop')).body).toBe(true);
  });

  it('stops cleanly on SIGINT too', async () => {
    expect(await origin.stop('SIGINT')).toEqual({ code: 0, signal: null });
    await origin.restart();
    expect((await api('GET', '/readyz', { token: null })).status).toBe(200);
  });

  it('keeps the store epoch across restarts', async () => {
    const epochs = origin
      .logRecords()
      .filter((record) => record.msg === 'origin listening')
      .map((record) => record.epoch);
    expect(epochs.length).toBeGreaterThan(2);
    expect(new Set(epochs).size).toBe(1);
  });
});

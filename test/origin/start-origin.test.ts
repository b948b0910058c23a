import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningOrigin, resolveOriginConfig, startOrigin } from '../../origin/index.ts';
import { errorCode, originApi } from '../support/origin-api.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const data = makeTempDir('lcm-inproc');
const ADMIN_TOKEN = 'in-process-admin-token-0123456789';
const env = {
  LCM_ADMIN_TOKEN: ADMIN_TOKEN,
  LCM_RETAIN_REVISIONS: '2',
  LCM_COMPACT_INTERVAL_MS: '50',
  LCM_LOG_LEVEL: 'silent',
};

let origin: RunningOrigin;
let api: ReturnType<typeof originApi>;

beforeAll(async () => {
  origin = await startOrigin(resolveOriginConfig({ port: 0, data: data.path }, env));
  api = originApi({ url: origin.url, adminToken: ADMIN_TOKEN });
});
afterAll(async () => {
  await origin?.close();
  data.remove();
});

describe('startOrigin in process', () => {
  it('listens on an ephemeral loopback port and exposes its store and hub', async () => {
    expect(origin.host).toBe('127.0.0.1');
    expect(origin.port).toBeGreaterThan(0);
    expect(origin.url).toBe(`http://127.0.0.1:${origin.port}`);
    expect(origin.hub.agents()).toEqual([]);
    await origin.store.createTenant('inproc');
    expect((await api('GET', '/v1/tenants')).body).toEqual([
      expect.objectContaining({ id: 'inproc', headRevision: 0 }),
    ]);
  });

  it('compacts the change log in the background past the retention setting', async () => {
    for (let n = 0; n < 5; n++) {
      await api('PUT', '/v1/tenants/inproc/entries/k', { body: n });
    }
    // Compaction may also run between the writes; wait for the run after the last one.
    const horizon = async () =>
      ((await api('GET', '/v1/tenants/inproc')).body as { horizon: number }).horizon;
    let seen = await horizon();
    for (let attempt = 0; attempt < 100 && seen !== 3; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen = await horizon();
    }
    expect(seen).toBe(3);
    expect((await api('GET', '/v1/tenants/inproc/changes?after=0')).status).toBe(410);
    expect((await api('GET', '/v1/tenants/inproc/changes?after=3')).status).toBe(200);
    expect((await api('GET', '/v1/tenants/inproc/entries/k?revision=1')).body).toBe(0);
  });

  it('fails to start on a taken port and leaves the running origin alone', async () => {
    const other = makeTempDir('lcm-inproc-other');
    try {
      const config = resolveOriginConfig({ port: origin.port, data: other.path }, env);
      await expect(startOrigin(config)).rejects.toThrow(/EADDRINUSE/);
    } finally {
      other.remove();
    }
    expect(errorCode(await api('GET', '/v1/tenants/inproc/entries/none'))).toBe('not_found');
  });

  it('closes once, however often close is called', async () => {
    const extra = makeTempDir('lcm-inproc-close');
    const second = await startOrigin(resolveOriginConfig({ port: 0, data: extra.path }, env));
    await Promise.all([second.close(), second.close()]);
    await second.close();
    await expect(fetch(`${second.url}/healthz`)).rejects.toThrow();
    extra.remove();
  });
});

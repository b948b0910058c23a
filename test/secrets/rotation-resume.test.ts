import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

// The background re-encryption of a data key rotation survives a crash: the origin is killed
// with SIGKILL in the middle of it, and the restarted origin resumes where it stopped.

const SECRETS = 400;
const PER_COMMIT = 50;

let origin: OriginProcess;
let api: ReturnType<typeof originApi>;

interface KeysAnswer {
  versions: Array<{ version: number; state: string }>;
  rotation: { state: string; done: number; total: number; targetVersion: number } | null;
}

beforeAll(async () => {
  origin = await startOriginProcess({ env: { LCM_REENCRYPT_BATCH: '1' } });
  api = originApi(origin);
  for (let start = 0; start < SECRETS; start += PER_COMMIT) {
    const changes = [];
    for (let i = start; i < start + PER_COMMIT; i++) {
      changes.push({
        op: 'put',
        key: `svc/${String(i).padStart(4, '0')}`,
        kind: 'secret',
        value: `v-${i}`,
      });
    }
    const commit = await api('POST', '/v1/tenants/resume/commits', { body: { changes } });
    expect(commit.status).toBe(200);
  }
});

afterAll(async () => {
  await origin?.dispose();
});

describe('data key rotation after a crash', () => {
  it('resumes the re-encryption and finishes it', async () => {
    expect((await api('POST', '/v1/tenants/resume/keys/rotate')).status).toBe(202);
    await expect
      .poll(
        async () =>
          ((await api('GET', '/v1/tenants/resume/keys')).body as KeysAnswer).rotation?.done,
        {
          timeout: 10_000,
          interval: 20,
        },
      )
      .toBeGreaterThan(0);
    const before = (await api('GET', '/v1/tenants/resume/keys')).body as KeysAnswer;
    await origin.kill();
    expect(before.rotation?.state).toBe('running');
    expect(before.rotation!.done).toBeLessThan(SECRETS);

    await origin.restart();
    await expect
      .poll(
        async () => ((await api('GET', '/v1/tenants/resume/keys')).body as KeysAnswer).rotation,
        {
          timeout: 30_000,
          interval: 100,
        },
      )
      .toMatchObject({ state: 'done', done: SECRETS, targetVersion: 2 });
    expect(origin.logs.join('\n')).toContain('secret re-encryption resumed');

    for (const i of [0, 123, SECRETS - 1]) {
      const key = `svc/${String(i).padStart(4, '0')}`;
      const secret = await api('GET', `/v1/tenants/resume/secrets/${key}?reveal=true`);
      expect(secret.body).toMatchObject({ value: `v-${i}`, dekVersion: 2, version: 1 });
    }
    const keys = (await api('GET', '/v1/tenants/resume/keys')).body as KeysAnswer;
    expect(keys.versions.map((v) => v.state)).toEqual(['active', 'retired']);
  });
});

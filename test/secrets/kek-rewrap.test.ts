import { afterEach, describe, expect, it } from 'vitest';
import { bytesToBase64, randomBytes } from '../../core/index.ts';
import { startKmsServer } from '../support/kms-server.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

// Re-wrapping every data key under a new key-encryption key, with real origin processes: a new
// local master key, and a new AWS KMS key (against the local KMS server, not AWS).

const ADMIN_TOKEN = 'kek-rewrap-admin-token-000001';
let origin: OriginProcess | undefined;

afterEach(async () => {
  await origin?.dispose();
  origin = undefined;
});

async function restartWith(dataDir: string, env: Record<string, string>) {
  await origin?.stop();
  origin = await startOriginProcess({ dataDir, env: { LCM_ADMIN_TOKEN: ADMIN_TOKEN, ...env } });
  return originApi(origin);
}

interface KeysAnswer {
  provider: string;
  versions: Array<{ kekId: string }>;
}

describe('rewrap under a new key-encryption key', () => {
  it('moves data keys to a new local master key', async () => {
    const oldKey = bytesToBase64(randomBytes(32));
    const newKey = bytesToBase64(randomBytes(32));
    origin = await startOriginProcess({
      env: { LCM_ADMIN_TOKEN: ADMIN_TOKEN, LCM_MASTER_KEY: oldKey },
    });
    const dataDir = origin.dataDir;
    let api = originApi(origin);
    await api('PUT', '/v1/tenants/kek/secrets/a', { body: { value: 'local-secret' } });
    const before = (await api('GET', '/v1/tenants/kek/keys')).body as KeysAnswer;

    api = await restartWith(dataDir, { LCM_MASTER_KEY: newKey, LCM_PREVIOUS_MASTER_KEYS: oldKey });
    const rewrap = await api('POST', '/v1/keys/rewrap');
    expect(rewrap.body).toMatchObject({ rewrapped: 1, total: 1 });

    api = await restartWith(dataDir, { LCM_MASTER_KEY: newKey });
    const after = (await api('GET', '/v1/tenants/kek/keys')).body as KeysAnswer;
    expect(after.versions[0]!.kekId).not.toBe(before.versions[0]!.kekId);
    const secret = await api('GET', '/v1/tenants/kek/secrets/a?reveal=true');
    expect((secret.body as { value: string }).value).toBe('local-secret');
  });

  it('runs on AWS KMS and moves data keys to a new KMS key through ReEncrypt', async () => {
    const kms = await startKmsServer();
    try {
      const firstKey = kms.createKey();
      const secondKey = kms.createKey();
      const kmsEnv = (keyId: string) => ({
        LCM_KEK: 'aws-kms',
        LCM_KMS_KEY_ID: keyId,
        LCM_KMS_REGION: kms.region,
        LCM_KMS_ENDPOINT: kms.url,
        AWS_ACCESS_KEY_ID: kms.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: kms.credentials.secretAccessKey,
      });
      origin = await startOriginProcess({
        env: { LCM_ADMIN_TOKEN: ADMIN_TOKEN, ...kmsEnv(firstKey) },
      });
      const dataDir = origin.dataDir;
      let api = originApi(origin);
      await api('PUT', '/v1/tenants/kek/secrets/a', { body: { value: 'kms-secret' } });
      const before = (await api('GET', '/v1/tenants/kek/keys')).body as KeysAnswer;
      expect(before.provider).toBe('aws-kms');
      expect(before.versions[0]!.kekId).toBe(firstKey);
      expect(kms.requests.map((r) => r.target)).toContain('TrentService.GenerateDataKey');

      api = await restartWith(dataDir, kmsEnv(secondKey));
      const rewrap = await api('POST', '/v1/keys/rewrap');
      expect(rewrap.body).toMatchObject({ rewrapped: 1, kekId: secondKey });
      expect(kms.requests.at(-1)!.target).toBe('TrentService.ReEncrypt');

      api = await restartWith(dataDir, kmsEnv(secondKey));
      const after = (await api('GET', '/v1/tenants/kek/keys')).body as KeysAnswer;
      expect(after.versions[0]!.kekId).toBe(secondKey);
      const secret = await api('GET', '/v1/tenants/kek/secrets/a?reveal=true');
      expect((secret.body as { value: string }).value).toBe('kms-secret');
      expect(kms.requests.at(-1)!.body?.KeyId).toBe(secondKey);
    } finally {
      await kms.close();
    }
  });

  it('refuses to start with contradictory key settings, naming them', async () => {
    await expect(
      startOriginProcess({
        env: { LCM_KEK: 'vault', LCM_MASTER_KEY: bytesToBase64(randomBytes(32)) },
      }),
    ).rejects.toThrow(/VAULT_ADDR|LCM_MASTER_KEY/);
  });
});

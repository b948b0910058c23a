import { copyFileSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { makeTempDir } from '../support/temp-dir.ts';

const DATABASE_FILES = ['origin.db', 'origin.db-wal', 'origin.db-shm'];

let origin: OriginProcess;
let api: ReturnType<typeof originApi>;
const backup = makeTempDir('lcm-backup');

beforeAll(async () => {
  origin = await startOriginProcess();
  api = originApi(origin);
  await api('PUT', '/v1/tenants/epochs');
  await api('PUT', '/v1/tenants/epochs/entries/k', { body: 1 });
});
afterAll(async () => {
  await origin?.dispose();
  backup.remove();
});

async function epoch(): Promise<string> {
  const ready = await api('GET', '/readyz', { token: null });
  return (ready.body as { epoch: string }).epoch;
}

function copyDatabase(from: string, to: string): void {
  for (const name of DATABASE_FILES) {
    rmSync(join(to, name), { force: true });
    if (existsSync(join(from, name))) copyFileSync(join(from, name), join(to, name));
  }
}

describe('the store epoch', () => {
  it('is renewed when the database is restored from an older backup', async () => {
    const original = await epoch();
    await origin.stop();
    copyDatabase(origin.dataDir, backup.path);

    await origin.restart();
    expect(await epoch()).toBe(original);
    await api('PUT', '/v1/tenants/epochs/entries/k', { body: 2 });
    await api('PUT', '/v1/tenants/epochs/entries/k', { body: 3 });
    await origin.stop();

    copyDatabase(backup.path, origin.dataDir);
    await origin.restart();
    const renewed = await epoch();
    expect(renewed).not.toBe(original);
    expect((await api('GET', '/v1/tenants/epochs/entries/k')).body).toBe(1);
    const warning = origin.logRecords().find((line) => line.msg === 'store went back in time');
    expect(warning).toMatchObject({ tenant: 'epochs', noted: 3, found: 1, epoch: renewed });

    await origin.restart();
    expect(await epoch()).toBe(renewed);
  });

  it('is renewed on request with LCM_NEW_EPOCH=1', async () => {
    const before = await epoch();
    await origin.stop();
    const renewing = await startOriginProcess({
      dataDir: origin.dataDir,
      env: { LCM_NEW_EPOCH: '1' },
    });
    try {
      const ready = await originApi(renewing)('GET', '/readyz', { token: null });
      expect((ready.body as { epoch: string }).epoch).not.toBe(before);
    } finally {
      await renewing.dispose();
    }
    expect(existsSync(join(origin.dataDir, 'origin.db'))).toBe(true);
  });
});

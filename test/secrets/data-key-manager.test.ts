import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../core/index.ts';
import { DataKeyCache } from '../../origin/keys/data-key-cache.ts';
import { DataKeyManager } from '../../origin/keys/data-key-manager.ts';
import { DataKeyRotation, type RotationStatus } from '../../origin/keys/data-key-rotation.ts';
import { kekUnavailable } from '../../origin/keys/kek-errors.ts';
import type { KeyProvider, WrappedDataKey } from '../../origin/keys/key-provider.ts';
import { LocalKeyProvider } from '../../origin/keys/local-key-provider.ts';
import { SecretService } from '../../origin/secrets/secret-service.ts';
import { StoreSecretSource } from '../../origin/secrets/store-secret-source.ts';
import { OriginStore } from '../../origin/store/origin-store.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

// The data key manager over a real origin store file, with the local provider behind a switch
// that can make it unavailable and a counter of its unwraps.

class SwitchableProvider implements KeyProvider {
  readonly kind = 'local' as const;
  unwraps = 0;
  down = false;
  constructor(private readonly inner: LocalKeyProvider) {}
  get currentKekId() {
    return this.inner.currentKekId;
  }
  generateDataKey(tenant: string) {
    if (this.down) return Promise.reject(kekUnavailable('local', 'switched off'));
    return this.inner.generateDataKey(tenant);
  }
  wrap(tenant: string, plaintext: Uint8Array) {
    return this.inner.wrap(tenant, plaintext);
  }
  async unwrap(tenant: string, wrapped: WrappedDataKey) {
    this.unwraps++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    if (this.down) throw kekUnavailable('local', 'switched off');
    return this.inner.unwrap(tenant, wrapped);
  }
  rewrap(tenant: string, wrapped: WrappedDataKey) {
    return this.inner.rewrap(tenant, wrapped);
  }
  async close() {}
}

let dir: TempDir | undefined;
let store: OriginStore | undefined;

afterEach(async () => {
  await store?.close();
  dir?.remove();
  store = undefined;
});

async function setup(cacheTtlMs: number, staleIfErrorMs: number, clock = { now: 0 }) {
  dir = makeTempDir('lcm-dek');
  store = await OriginStore.open({
    url: `file:${dir.path}/origin.db`,
    limits: { maxBytes: 1 << 20, maxDepth: 32 },
    busyTimeoutMs: 2000,
    maxCommitsPerTransaction: 16,
    retention: { revisions: 0, ageMs: 0 },
  });
  const provider = new SwitchableProvider(await LocalKeyProvider.create(randomBytes(32)));
  const cache = new DataKeyCache({ ttlMs: cacheTtlMs, staleIfErrorMs, now: () => clock.now });
  const manager = await DataKeyManager.open({
    reader: store.database,
    writer: store.writes,
    provider,
    cache,
    retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 2 },
  });
  return { provider, cache, manager, clock };
}

describe('data key manager', () => {
  it('makes a tenant data key once and serves it from the cache', async () => {
    const { provider, manager } = await setup(60_000, 0);
    const first = await manager.currentDataKey('acme');
    const again = await manager.currentDataKey('acme');

    expect(first.version).toBe(1);
    expect(again.version).toBe(1);
    expect(provider.unwraps).toBe(0);
    expect((await manager.versions('acme')).map((v) => v.state)).toEqual(['active']);
  });

  it('unwraps once for many concurrent readers after the cache expired', async () => {
    const { provider, manager, clock } = await setup(1000, 0);
    await manager.currentDataKey('acme');
    clock.now += 2000;

    await Promise.all(Array.from({ length: 50 }, () => manager.dataKey('acme', 1)));
    expect(provider.unwraps).toBe(1);
  });

  it('keeps reads working from a stale key while the provider is down, within the window', async () => {
    const { provider, manager, clock } = await setup(1000, 10_000);
    await manager.currentDataKey('acme');
    provider.down = true;

    clock.now += 5000;
    await expect(manager.dataKey('acme', 1)).resolves.toBeDefined();
    clock.now += 10_000;
    await expect(manager.dataKey('acme', 1)).rejects.toMatchObject({ code: 'kek_unavailable' });
  });

  it('fails a first write at once when the provider is down, and writes no key', async () => {
    const { provider, manager } = await setup(1000, 0);
    provider.down = true;
    await expect(manager.currentDataKey('acme')).rejects.toMatchObject({
      code: 'kek_unavailable',
    });
    expect(await manager.versions('acme')).toEqual([]);
  });

  it('publishes a new version before it becomes the one writes use', async () => {
    const { manager } = await setup(60_000, 0);
    await manager.currentDataKey('acme');
    const seen: Array<{ version: number; activeDuringPublish: number }> = [];
    manager.setPublisher(async (_tenant, version) => {
      const active = await manager.currentDataKey('acme');
      seen.push({ version, activeDuringPublish: active.version });
    });

    expect(await manager.createVersion('acme')).toBe(2);
    expect(seen).toEqual([{ version: 2, activeDuringPublish: 1 }]);
    expect((await manager.currentDataKey('acme')).version).toBe(2);
    expect((await manager.versions('acme')).map((v) => [v.version, v.state])).toEqual([
      [2, 'active'],
      [1, 'decrypt-only'],
    ]);
  });
});

describe('data key rotation', () => {
  it('stops while the provider is down and finishes by itself once it is back', async () => {
    const { provider, manager, clock } = await setup(1, 0);
    const secrets = new SecretService({ store: store!, keys: manager, hub: () => undefined });
    for (const key of ['a', 'b', 'c']) {
      await secrets.write('acme', key, { value: `value-${key}` }, 'test');
    }
    const reports: RotationStatus[] = [];
    const rotation = new DataKeyRotation({
      reader: store!.database,
      writer: store!.writes,
      keys: manager,
      secrets: new StoreSecretSource(store!),
      batchSize: 1,
      retryMs: 50,
      onProgress: (status) => reports.push(status),
    });

    clock.now += 10;
    const generated = await manager.createVersion('acme');
    provider.down = true;
    await store!.writes.run(async (tx) => {
      await tx.execute({
        sql: `INSERT INTO data_key_rotations
                (tenant, target_version, cursor_key, done, total, state, started_at)
              VALUES ('acme', ?, '', 0, 3, 'running', 0)`,
        args: [generated],
      });
      return { result: undefined };
    });
    await rotation.resumeAll();
    await rotation.idle('acme');
    expect((await rotation.status('acme'))?.state).toBe('failed');

    provider.down = false;
    await expect.poll(async () => (await rotation.status('acme'))?.state).toBe('done');
    const read = await secrets.read('acme', 'b');
    expect(read.record.dekVersion).toBe(2);
    expect((await secrets.reveal('acme', read, 'current')).value).toBe('value-b');
    expect(reports.some((report) => report.state === 'failed')).toBe(true);
    await rotation.close();
  });
});

describe('data key cache', () => {
  it('wipes the raw bytes of a key once it is past its stale window', async () => {
    const clock = { now: 0 };
    const cache = new DataKeyCache({ ttlMs: 100, staleIfErrorMs: 100, now: () => clock.now });
    const cached = await cache.put('acme', 1, randomBytes(32));

    expect(cache.fresh('acme', 1)).toBe(cached);
    clock.now = 150;
    expect(cache.fresh('acme', 1)).toBeUndefined();
    expect(cache.stale('acme', 1)).toBe(cached);
    clock.now = 250;
    expect(cache.stale('acme', 1)).toBeUndefined();
    expect(cached.raw.every((byte) => byte === 0)).toBe(true);
    expect(cache.size).toBe(0);
  });
});

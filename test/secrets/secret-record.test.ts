import { describe, expect, it } from 'vitest';
import {
  type CryptoKey,
  dekVersionsOf,
  generateDataKeyBytes,
  importDataKey,
  isSecretEnvelope,
  openSecretRecord,
  resealSecretRecord,
  sealSecretRecord,
} from '../../core/index.ts';

async function keyRing(versions: number): Promise<Map<number, CryptoKey>> {
  const ring = new Map<number, CryptoKey>();
  for (let v = 1; v <= versions; v++) ring.set(v, await importDataKey(generateDataKeyBytes()));
  return ring;
}

const tenant = 'acme';
const key = 'db/postgres/password';
const NOW = 1_800_000_000_000;

describe('secret records', () => {
  it('are themselves envelopes and open to their current value', async () => {
    const ring = await keyRing(1);
    const lookup = async (_t: string, v: number) => ring.get(v)!;
    const record = await sealSecretRecord('hunter2', {
      tenant,
      key,
      dataKey: ring.get(1)!,
      dekVersion: 1,
      before: null,
      rotation: null,
      now: NOW,
    });

    expect(isSecretEnvelope(record)).toBe(true);
    expect(record).toMatchObject({ version: 1, dekVersion: 1, previous: null, rotatesAt: null });
    expect(JSON.stringify(record)).not.toContain('hunter2');
    const opened = await openSecretRecord(record, 'current', { tenant, key, lookup });
    expect(opened).toEqual({ value: 'hunter2', version: 1 });
  });

  it('keeps the previous value readable while the record holds it', async () => {
    const ring = await keyRing(1);
    const lookup = async (_t: string, v: number) => ring.get(v)!;
    const common = { tenant, key, dataKey: ring.get(1)!, dekVersion: 1, rotation: null };
    const first = await sealSecretRecord('old', { ...common, before: null, now: NOW });
    const second = await sealSecretRecord('new', {
      ...common,
      before: first,
      overlapSeconds: 60,
      now: NOW + 1000,
    });

    expect(second.version).toBe(2);
    expect(second.previous?.validUntil).toBe(NOW + 61_000);
    const during = { tenant, key, lookup };
    expect(await openSecretRecord(second, 'previous', during)).toEqual({
      value: 'old',
      version: 1,
    });
    expect(await openSecretRecord(second, 'current', during)).toEqual({ value: 'new', version: 2 });
    await expect(openSecretRecord(first, 'previous', during)).rejects.toMatchObject({
      code: 'not_found',
    });
  });

  it('re-seals both values under a new data key version without changing them', async () => {
    const ring = await keyRing(2);
    const lookup = async (_t: string, v: number) => ring.get(v)!;
    const common = { tenant, key, dataKey: ring.get(1)!, dekVersion: 1, rotation: null };
    const first = await sealSecretRecord({ user: 'app' }, { ...common, before: null, now: NOW });
    const second = await sealSecretRecord(
      { user: 'app2' },
      { ...common, before: first, overlapSeconds: 3600, now: NOW },
    );

    const resealed = await resealSecretRecord(second, { tenant, key, lookup, dekVersion: 2 });
    expect(dekVersionsOf(resealed)).toEqual([2, 2]);
    expect(resealed.version).toBe(2);
    const at = { tenant, key, lookup };
    expect((await openSecretRecord(resealed, 'current', at)).value).toEqual({ user: 'app2' });
    expect((await openSecretRecord(resealed, 'previous', at)).value).toEqual({ user: 'app' });
  });

  it('schedules the next rotation', async () => {
    const ring = await keyRing(1);
    const record = await sealSecretRecord('t0', {
      tenant,
      key,
      dataKey: ring.get(1)!,
      dekVersion: 1,
      before: null,
      rotation: { everySeconds: 600, generator: 'random-token', overlapSeconds: 60 },
      now: NOW,
    });
    expect(record.rotatesAt).toBe(NOW + 600_000);
  });
});

import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Replica, type ReplicaEntry } from '../../edge-agent/index.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

const entry = (key: string, valueJson: string, revision: number): ReplicaEntry => ({
  key,
  kind: 'config',
  valueJson,
  revision,
  hash: 'f'.repeat(64),
});

describe('Replica snapshot staging, one statement per chunk', () => {
  let dir: TempDir;
  let replica: Replica;

  beforeEach(async () => {
    dir = makeTempDir('lcm-replica-staging');
    replica = await Replica.open(dir.path);
  });

  afterEach(async () => {
    await replica.close();
    dir.remove();
  });

  it('keeps the JSON text, kind and revision of every staged entry byte for byte', async () => {
    const staged: ReplicaEntry[] = [
      entry('unicode', JSON.stringify({ s: '\u00f6 \u20ac \ud83d\ude00 \u2028 \ud800' }), 3),
      entry('escapes', JSON.stringify({ q: '"\\\n\t\u0000', nested: [[{ a: null }]] }), 4),
      entry('number', '-1.5e-7', 5),
      { ...entry('secret', '{"sealed":"abc"}', 6), kind: 'secret' },
    ];
    await replica.beginSnapshot('acme');
    await replica.stageEntries('acme', staged);
    await replica.finishSnapshot({ tenant: 'acme', epoch: 'e1', revision: 6, lastSyncAt: 1 });

    const held = (await replica.load()).entries.get('acme') ?? [];
    expect([...held].sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual(
      [...staged].sort((a, b) => (a.key < b.key ? -1 : 1)),
    );
  });

  it('keeps arbitrary JSON values exactly', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue(), { minLength: 1, maxLength: 20 }),
        async (values) => {
          const staged = values.map((value, i) => entry(`k${i}`, JSON.stringify(value), i + 1));
          await replica.beginSnapshot('acme');
          await replica.stageEntries('acme', staged);
          await replica.finishSnapshot({
            tenant: 'acme',
            epoch: 'e1',
            revision: 99,
            lastSyncAt: 1,
          });
          const held = (await replica.load()).entries.get('acme') ?? [];
          expect(new Map(held.map((e) => [e.key, e]))).toEqual(
            new Map(staged.map((e) => [e.key, e])),
          );
        },
      ),
      { numRuns: 30 },
    );
  });
});

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Replica, type ReplicaEntry } from '../../edge-agent/index.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';

const entry = (key: string, valueJson: string, revision: number): ReplicaEntry => ({
  key,
  kind: 'config',
  valueJson,
  revision,
  hash: 'h'.repeat(64),
});

describe('Replica', () => {
  let dir: TempDir;
  let replica: Replica;

  beforeEach(async () => {
    dir = makeTempDir('lcm-replica');
    replica = await Replica.open(dir.path);
    await replica.applyCommit({ tenant: 'acme', epoch: 'e1', revision: 1, lastSyncAt: 1 }, [
      { key: 'a', entry: entry('a', '"old"', 1) },
    ]);
  });

  afterEach(async () => {
    await replica.close();
    dir.remove();
  });

  it('keeps its agent id and its data across reopening', async () => {
    const id = await replica.agentId();
    await replica.close();
    replica = await Replica.open(dir.path);
    expect(await replica.agentId()).toBe(id);
    const held = await replica.load();
    expect(held.tenants).toEqual([{ tenant: 'acme', epoch: 'e1', revision: 1, lastSyncAt: 1 }]);
    expect(held.entries.get('acme')).toEqual([entry('a', '"old"', 1)]);
  });

  it('leaves entries and cursor untouched by a snapshot that was staged but never finished', async () => {
    await replica.beginSnapshot('acme');
    await replica.stageEntries('acme', [entry('a', '"new"', 7), entry('b', '1', 7)]);
    await replica.close();

    replica = await Replica.open(dir.path);
    const held = await replica.load();
    expect(held.tenants[0]!.revision).toBe(1);
    expect(held.entries.get('acme')).toEqual([entry('a', '"old"', 1)]);
  });

  it('swaps a finished snapshot in whole, replacing every entry of the tenant', async () => {
    await replica.applyCommit({ tenant: 'other', epoch: 'e1', revision: 3, lastSyncAt: 1 }, [
      { key: 'z', entry: entry('z', 'true', 3) },
    ]);
    await replica.beginSnapshot('acme');
    await replica.stageEntries('acme', [entry('b', '1', 7)]);
    await replica.stageEntries('acme', [entry('c', '2', 6)]);
    await replica.finishSnapshot({ tenant: 'acme', epoch: 'e2', revision: 7, lastSyncAt: 2 });

    const held = await replica.load();
    expect(
      held.entries
        .get('acme')
        ?.map((e) => e.key)
        .sort(),
    ).toEqual(['b', 'c']);
    expect(held.entries.get('other')).toHaveLength(1);
    expect(held.tenants.find((t) => t.tenant === 'acme')).toMatchObject({
      epoch: 'e2',
      revision: 7,
    });
  });

  it('serializes concurrent writes instead of failing with SQLITE_BUSY', async () => {
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        replica.applyCommit({ tenant: `t${i}`, epoch: 'e1', revision: 1, lastSyncAt: 1 }, [
          { key: 'k', entry: entry('k', String(i), 1) },
        ]),
      ),
    );
    expect((await replica.load()).tenants).toHaveLength(31);
  });
});

import { describe, expect, it } from 'vitest';
import {
  ABSENT_REVISION,
  commitOfPlan,
  isEmptyPlan,
  type LocalEntry,
  planApply,
} from '../../cli/apply-plan.ts';
import type { EntrySummary } from '../../cli/origin-client.ts';
import { contentHash, type JsonValue } from '../../core/index.ts';

async function local(key: string, value: JsonValue): Promise<LocalEntry> {
  return { key, file: `${key}.json`, value, hash: await contentHash(value) };
}

async function remote(key: string, value: JsonValue, revision: number): Promise<EntrySummary> {
  return { key, revision, hash: await contentHash(value), kind: 'config' };
}

describe('planApply', () => {
  it('sorts keys into adds, changes, unchanged and, with prune, deletes', async () => {
    const stored: Record<string, JsonValue> = { same: { a: 1 }, changed: { a: 1 }, gone: 1 };
    const readKeys: string[] = [];
    const plan = await planApply(
      [await local('same', { a: 1 }), await local('changed', { a: 2 }), await local('new', [])],
      [
        await remote('same', stored.same!, 3),
        await remote('changed', stored.changed!, 4),
        await remote('gone', stored.gone!, 5),
        { key: 'api-key', revision: 6, hash: 'x', kind: 'secret' },
      ],
      {
        prune: true,
        readRemote: async (key) => {
          readKeys.push(key);
          return stored[key]!;
        },
      },
    );

    expect(plan.adds.map((entry) => entry.key)).toEqual(['new']);
    expect(plan.changes).toEqual([
      expect.objectContaining({ key: 'changed', revision: 4, previous: { a: 1 }, value: { a: 2 } }),
    ]);
    expect(plan.unchanged).toEqual(['same']);
    expect(plan.deletes.map((entry) => entry.key)).toEqual(['gone']);
    expect(plan.keptSecrets).toEqual(['api-key']);
    expect(readKeys).toEqual(['changed']);
  });

  it('deletes nothing without prune', async () => {
    const plan = await planApply([], [await remote('gone', 1, 1)], {
      prune: false,
      readRemote: async () => 1,
    });
    expect(plan.deletes).toEqual([]);
    expect(isEmptyPlan(plan)).toBe(true);
  });

  it('counts a key as unchanged when the origin hashes differently but the values are equal', async () => {
    const plan = await planApply(
      [await local('k', { b: 1, a: 2 })],
      [{ key: 'k', revision: 1, hash: 'another-hash-scheme' }],
      { prune: false, readRemote: async () => ({ a: 2, b: 1 }) },
    );
    expect(plan.unchanged).toEqual(['k']);
    expect(isEmptyPlan(plan)).toBe(true);
  });
});

describe('planApply with addOnly', () => {
  it('adds missing keys and leaves existing ones as they are, even when they differ', async () => {
    const plan = await planApply(
      [await local('new', 1), await local('edited', { a: 1 })],
      [await remote('edited', { a: 2 }, 3)],
      { prune: false, addOnly: true, readRemote: async () => ({ a: 2 }) },
    );
    expect(plan.adds.map((entry) => entry.key)).toEqual(['new']);
    expect(plan.changes).toEqual([]);
    expect(plan.keptChanged).toEqual(['edited']);
  });
});

describe('commitOfPlan', () => {
  it('expects every touched key at the revision the plan saw, and adds to be absent', async () => {
    const plan = await planApply(
      [await local('new', 1), await local('changed', 2)],
      [await remote('changed', 1, 7), await remote('gone', 0, 9)],
      { prune: true, readRemote: async () => 1 },
    );
    expect(commitOfPlan(plan)).toEqual({
      changes: [
        { op: 'put', key: 'new', value: 1 },
        { op: 'put', key: 'changed', value: 2 },
        { op: 'delete', key: 'gone' },
      ],
      expect: { new: ABSENT_REVISION, changed: 7, gone: 9 },
    });
  });

  it('adds secret files as secrets when absent, and never compares or overwrites one', async () => {
    const secret = async (key: string, value: JsonValue): Promise<LocalEntry> => ({
      ...(await local(key, value)),
      kind: 'secret',
    });
    const plan = await planApply(
      [await secret('new-key', 'sk-new'), await secret('old-key', 'sk-other')],
      [{ key: 'old-key', revision: 3, hash: 'ciphertext-hash', kind: 'secret' }],
      {
        prune: true,
        readRemote: async () => {
          throw new Error('a secret is never read to compare');
        },
      },
    );
    expect(plan.keptSecrets).toEqual(['old-key']);
    expect(commitOfPlan(plan)).toEqual({
      changes: [{ op: 'put', key: 'new-key', value: 'sk-new', kind: 'secret' }],
      expect: { 'new-key': ABSENT_REVISION },
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsonValue, LcmError } from '../../core/index.ts';
import { type CommitEvent, OriginStore } from '../../origin/index.ts';
import { openTempStore } from '../support/origin-store.ts';

let temp: Awaited<ReturnType<typeof openTempStore>>;
let store: OriginStore;
const actor = 'tester';

beforeAll(async () => {
  temp = await openTempStore();
  store = temp.store;
});
afterAll(() => temp?.dispose());

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    if (error instanceof LcmError) return error.code;
    throw error;
  }
}

describe('values that are not JSON', () => {
  beforeAll(() => store.createTenant('values'));

  it.each([
    ['undefined', { a: undefined }, 'bad_value'],
    ['a function', { a: () => 1 }, 'bad_value'],
    ['NaN', { a: Number.NaN }, 'unsafe_number'],
    ['Infinity', [Number.POSITIVE_INFINITY], 'unsafe_number'],
    ['an integer beyond 2^53', 2 ** 53 + 2, 'unsafe_number'],
    ['a Date', { at: new Date() }, 'bad_value'],
  ])('refuses a value holding %s and stores nothing', async (_what, value, code) => {
    const commit = store.commit('values', [{ op: 'put', key: 'k', value: value as JsonValue }], {
      actor,
    });
    expect(await codeOf(commit)).toBe(code);
    expect(await store.headRevision('values')).toBe(0);
  });

  it('keeps 2^53 - 1 and small fractions exact', async () => {
    const value = { big: Number.MAX_SAFE_INTEGER, small: 0.1, negative: -1e-300 };
    await store.commit('values', [{ op: 'put', key: 'exact', value }], { actor });
    expect(JSON.parse((await store.readEntry('values', 'exact')).text)).toEqual(value);
  });
});

describe('commits', () => {
  beforeAll(() => store.createTenant('commits'));

  it('group-commits concurrent writers with gap-free revisions, failing one alone', async () => {
    const writes = Array.from({ length: 40 }, (_, n) =>
      n === 17
        ? store.commit('commits', [{ op: 'delete', key: 'never-there' }], { actor })
        : store.commit('commits', [{ op: 'put', key: `k/${n}`, value: n }], { actor }),
    );
    const results = await Promise.allSettled(writes);
    const revisions = results
      .filter((result) => result.status === 'fulfilled')
      .map((result) => (result as PromiseFulfilledResult<{ revision: number }>).value.revision);
    expect(results[17]?.status).toBe('rejected');
    expect(revisions.sort((a, b) => a - b)).toEqual(Array.from({ length: 39 }, (_, i) => i + 1));
    expect(await store.headRevision('commits')).toBe(39);
  });

  it('refuses to turn a secret into a config or to patch a secret', async () => {
    const envelope = { v: 1, ciphertext: 'AAAA' };
    await store.commit(
      'commits',
      [{ op: 'put', key: 'secret/db', value: envelope, kind: 'secret' }],
      {
        actor,
      },
    );
    const overwrite = store.commit('commits', [{ op: 'put', key: 'secret/db', value: 1 }], {
      actor,
    });
    expect(await codeOf(overwrite)).toBe('conflict');
    const patch = store.commit(
      'commits',
      [{ op: 'patch', key: 'secret/db', patch: [{ op: 'add', path: '/x', value: 1 }] }],
      { actor },
    );
    expect(await codeOf(patch)).toBe('conflict');
    const deleteAsConfig = store.commit('commits', [{ op: 'delete', key: 'secret/db' }], { actor });
    expect(await codeOf(deleteAsConfig)).toBe('conflict');
    const head = await store.headRevision('commits');
    expect(await codeOf(store.rollback('commits', 'secret/db', head, { actor }))).toBe('conflict');
    expect(await codeOf(store.diff('commits', 'secret/db', head, head))).toBe('conflict');
    expect(await codeOf(store.rollback('commits', 'secret/db', 1, { actor }))).toBe('conflict');
  });
});

describe('as a replication source', () => {
  beforeAll(() => store.createTenant('repl'));

  it('announces each durable commit in order, secrets whole with a null patch', async () => {
    const events: CommitEvent[] = [];
    const unsubscribe = store.onCommit((event) => {
      if (event.tenant === 'repl') events.push(event);
    });
    await Promise.all([
      store.commit('repl', [{ op: 'put', key: 'a', value: { n: 1 } }], { actor }),
      store.commit('repl', [{ op: 'put', key: 's', value: { sealed: 'x' }, kind: 'secret' }], {
        actor,
      }),
      store.commit('repl', [{ op: 'patch', key: 'a', patch: { n: 2 }, format: 'merge-patch' }], {
        actor,
      }),
    ]);
    unsubscribe();

    expect(events.map((event) => event.revision)).toEqual([1, 2, 3]);
    expect(events.every((event) => event.epoch === store.epoch)).toBe(true);
    const secret = events[1]!.changes[0]!;
    expect(secret.record).toMatchObject({ key: 's', kind: 'secret', patch: null });
    expect(secret.value).toEqual({ sealed: 'x' });
    expect(events[2]!.changes[0]!.record.patch).toEqual([{ op: 'replace', path: '/n', value: 2 }]);
    expect(events[2]!.changes[0]!.value).toBeUndefined();
  });

  it('reads the change log after a revision, secrets with their value', async () => {
    const changes = await store.changesAfter('repl', 1, 100);
    expect(changes.map((change) => change.record.revision)).toEqual([2, 3]);
    expect(changes[0]!.value).toEqual({ sealed: 'x' });
    expect(await codeOf(store.changesAfter('repl', 9, 100))).toBe('bad_revision');
    expect(await store.changesAfter('repl', 3, 100)).toEqual([]);
  });

  it('gives a snapshot of every live entry at the head revision', async () => {
    const snapshot = await store.snapshot('repl');
    expect(snapshot.revision).toBe(3);
    expect(snapshot.entries.map((entry) => [entry.key, entry.kind, entry.revision])).toEqual([
      ['a', 'config', 3],
      ['s', 'secret', 2],
    ]);
    expect(snapshot.entries[0]!.value).toEqual({ n: 2 });
  });

  it('throws compacted once the log no longer holds the next commit', async () => {
    const compacting = await openTempStore({ retention: { revisions: 2, ageMs: 0 } });
    try {
      const s = compacting.store;
      await s.createTenant('t');
      for (let n = 0; n < 5; n++)
        await s.commit('t', [{ op: 'put', key: 'k', value: n }], { actor });
      expect(await s.compact('t')).toEqual({ t: 3 });
      expect(await codeOf(s.changesAfter('t', 2, 10))).toBe('compacted');
      expect((await s.changesAfter('t', 3, 10)).map((c) => c.record.revision)).toEqual([4, 5]);
      expect(await s.history('t', 'k', { limit: 10 })).toHaveLength(5);
    } finally {
      await compacting.dispose();
    }
  });

  it('compacts by age, keeping younger records', async () => {
    const aging = await openTempStore({ retention: { revisions: 0, ageMs: 60_000 } });
    try {
      const s = aging.store;
      await s.createTenant('t');
      for (let n = 0; n < 3; n++)
        await s.commit('t', [{ op: 'put', key: 'k', value: n }], { actor });
      expect(await s.compact('t')).toEqual({ t: 0 });
      expect(await s.compact('t', Date.now() + 120_000)).toEqual({ t: 3 });
      expect(await codeOf(s.changesAfter('t', 0, 10))).toBe('compacted');
    } finally {
      await aging.dispose();
    }
  });
});

describe('the store epoch and other processes', () => {
  it('keeps its epoch across reopening, and a new store gets a new one', async () => {
    const other = await openTempStore();
    try {
      expect(other.store.epoch).not.toBe(store.epoch);
      const epoch = other.store.epoch;
      await other.store.close();
      const reopened = await OriginStore.open({
        url: other.url,
        limits: store.limits,
        busyTimeoutMs: 1000,
        maxCommitsPerTransaction: 1,
        retention: { revisions: 0, ageMs: 0 },
      });
      expect(reopened.epoch).toBe(epoch);
      await reopened.close();
    } finally {
      other.dispose().catch(() => {});
    }
  });

  it('waits for a second connection holding the write lock instead of failing', async () => {
    const second = await OriginStore.open({
      url: temp.url,
      limits: store.limits,
      busyTimeoutMs: 5_000,
      maxCommitsPerTransaction: 8,
      retention: { revisions: 0, ageMs: 0 },
    });
    try {
      await store.createTenant('shared');
      const writes = Array.from({ length: 30 }, (_, n) =>
        (n % 2 === 0 ? store : second).commit('shared', [{ op: 'put', key: `k${n}`, value: n }], {
          actor,
        }),
      );
      const revisions = (await Promise.all(writes)).map((result) => result.revision);
      expect(revisions.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    } finally {
      await second.close();
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyJsonPatch, contentHash, type JsonValue } from '../../core/index.ts';
import { errorCode, originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

let origin: OriginProcess;
let api: ReturnType<typeof originApi>;

beforeAll(async () => {
  origin = await startOriginProcess({ env: { LCM_RETAIN_REVISIONS: '3' } });
  api = originApi(origin);
});
afterAll(() => origin?.dispose());

interface ChangeItem {
  revision: number;
  key: string;
  op: string;
  patch: JsonValue[] | null;
  hash: string | null;
  actor: string;
}

describe('multi-key commits', () => {
  beforeAll(async () => {
    await api('PUT', '/v1/tenants/commits');
    await api('PUT', '/v1/tenants/commits/entries/old', { body: 'gone soon' });
    await api('PUT', '/v1/tenants/commits/entries/doc', { body: { a: 1 } });
  });

  it('gives every change of a commit one revision', async () => {
    const response = await api('POST', '/v1/tenants/commits/commits', {
      body: {
        changes: [
          { op: 'put', key: 'x', value: { x: 1 } },
          { op: 'patch', key: 'doc', patch: [{ op: 'add', path: '/b', value: 2 }] },
          { op: 'delete', key: 'old' },
        ],
        expect: { doc: 2 },
      },
    });
    expect(response.status).toBe(200);
    const body = response.body as { revision: number; changes: Array<{ key: string }> };
    expect(body.revision).toBe(3);
    expect(body.changes.map((change) => change.key)).toEqual(['x', 'doc', 'old']);

    for (const key of ['x', 'doc']) {
      const get = await api('GET', `/v1/tenants/commits/entries/${key}`);
      expect(get.headers.get('etag')).toBe('"3"');
    }
    expect((await api('GET', '/v1/tenants/commits/entries/old')).status).toBe(404);
  });

  it('commits nothing when one change fails', async () => {
    const before = await api('GET', '/v1/tenants/commits');
    const response = await api('POST', '/v1/tenants/commits/commits', {
      body: {
        changes: [
          { op: 'put', key: 'y', value: 1 },
          { op: 'patch', key: 'doc', patch: [{ op: 'test', path: '/a', value: 999 }] },
        ],
      },
    });
    expect(response.status).toBe(409);
    expect(errorCode(response)).toBe('patch_conflict');
    expect((await api('GET', '/v1/tenants/commits/entries/y')).status).toBe(404);
    expect((await api('GET', '/v1/tenants/commits')).body).toEqual(before.body);
  });

  it('commits nothing when an expected revision differs', async () => {
    const response = await api('POST', '/v1/tenants/commits/commits', {
      body: { changes: [{ op: 'put', key: 'z', value: 1 }], expect: { doc: 1 } },
    });
    expect(response.status).toBe(412);
    expect(errorCode(response)).toBe('revision_mismatch');
    expect((await api('GET', '/v1/tenants/commits/entries/z')).status).toBe(404);
  });

  it('expects revision 0 of a key that must not exist yet', async () => {
    const body = { changes: [{ op: 'put', key: 'fresh', value: 1 }], expect: { fresh: 0 } };
    expect((await api('POST', '/v1/tenants/commits/commits', { body })).status).toBe(200);
    const again = await api('POST', '/v1/tenants/commits/commits', { body });
    expect(errorCode(again)).toBe('revision_mismatch');
  });

  it('refuses a commit of more than 1000 changes (the default cap) with 413 too_large', async () => {
    const changesOf = (count: number, prefix: string) =>
      Array.from({ length: count }, (_, i) => ({ op: 'put', key: `${prefix}/${i}`, value: i }));
    const head = async () =>
      ((await api('GET', '/v1/tenants/commits')).body as { headRevision: number }).headRevision;
    const before = await head();

    const refused = await api('POST', '/v1/tenants/commits/commits', {
      body: { changes: changesOf(1001, 'over') },
    });
    expect(refused.status).toBe(413);
    expect(errorCode(refused)).toBe('too_large');
    expect(await head()).toBe(before);

    const taken = await api('POST', '/v1/tenants/commits/commits', {
      body: { changes: changesOf(1000, 'at') },
    });
    expect(taken.status).toBe(200);
    expect((await api('GET', '/v1/tenants/commits/entries/at/999')).body).toBe(999);
  });

  it('refuses a commit naming one key twice, or with no changes', async () => {
    const twice = await api('POST', '/v1/tenants/commits/commits', {
      body: {
        changes: [
          { op: 'put', key: 'k', value: 1 },
          { op: 'delete', key: 'k' },
        ],
      },
    });
    expect(errorCode(twice)).toBe('bad_request');
    const empty = await api('POST', '/v1/tenants/commits/commits', { body: { changes: [] } });
    expect(errorCode(empty)).toBe('bad_request');
  });
});

describe('history, diff and rollback', () => {
  const key = 'models/default';
  const path = (route: string) => `/v1/tenants/hist/${route}/${key}`;

  beforeAll(async () => {
    await api('PUT', '/v1/tenants/hist');
    await api('PUT', path('entries'), { body: { model: 'a', max: 1 } });
    await api('PUT', path('entries'), { body: { model: 'b', max: 1 } });
    await api('DELETE', path('entries'));
    await api('PUT', path('entries'), { body: { model: 'c', max: 2, extra: [1] } });
  });

  it('lists versions newest first with op, time, actor, hash and size', async () => {
    const response = await api('GET', path('history'));
    expect(response.status).toBe(200);
    const items = response.body as Array<Record<string, unknown>>;
    expect(items.map((item) => [item.revision, item.op])).toEqual([
      [4, 'put'],
      [3, 'delete'],
      [2, 'put'],
      [1, 'put'],
    ]);
    expect(items[0]).toEqual({
      revision: 4,
      op: 'put',
      kind: 'config',
      at: expect.any(Number),
      actor: origin.adminToken.split('_')[1],
      hash: await contentHash({ model: 'c', max: 2, extra: [1] }),
      size: JSON.stringify({ model: 'c', max: 2, extra: [1] }).length,
    });
    expect(items[1]).toMatchObject({ hash: null, size: 0 });
    expect((await api('GET', '/v1/tenants/hist/history/nothing')).status).toBe(404);
  });

  it('answers the RFC 6902 patch from one revision to another', async () => {
    const response = await api('GET', `${path('diff')}?from=1&to=4`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json-patch+json');
    const patched = applyJsonPatch({ model: 'a', max: 1 }, response.body);
    expect(patched).toEqual({ model: 'c', max: 2, extra: [1] });
    expect(errorCode(await api('GET', `${path('diff')}?from=1&to=3`))).toBe('not_found');
    expect(errorCode(await api('GET', `${path('diff')}?from=1`))).toBe('bad_revision');
  });

  it('rolls a key back to an earlier value as a new revision', async () => {
    const response = await api('POST', path('rollback'), { body: { revision: 1 } });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      revision: 5,
      hash: await contentHash({ model: 'a', max: 1 }),
    });
    expect((await api('GET', path('entries'))).body).toEqual({ model: 'a', max: 1 });
    const history = (await api('GET', path('history'))).body as Array<{ revision: number }>;
    expect(history.map((item) => item.revision)).toEqual([5, 4, 3, 2, 1]);
  });

  it('rolls back to a revision where the key did not exist by deleting it', async () => {
    const response = await api('POST', path('rollback'), { body: { revision: 3 } });
    expect(response.body).toMatchObject({ revision: 6, op: 'delete' });
    expect((await api('GET', path('entries'))).status).toBe(404);
  });
});

describe('snapshots', () => {
  it('creates named snapshots (201) and lists them; a name is never reused', async () => {
    await api('PUT', '/v1/tenants/snaps');
    await api('PUT', '/v1/tenants/snaps/entries/a', { body: 1 });
    await api('PUT', '/v1/tenants/snaps/entries/a', { body: 2 });

    const atHead = await api('POST', '/v1/tenants/snaps/snapshots', { body: { name: 'head' } });
    expect(atHead.status).toBe(201);
    expect(atHead.body).toMatchObject({ name: 'head', revision: 2 });
    const pinned = await api('POST', '/v1/tenants/snaps/snapshots', {
      body: { name: 'exp-1', revision: 1 },
    });
    expect(pinned.status).toBe(201);

    const reused = await api('POST', '/v1/tenants/snaps/snapshots', { body: { name: 'head' } });
    expect(reused.status).toBe(409);
    const future = await api('POST', '/v1/tenants/snaps/snapshots', {
      body: { name: 'later', revision: 9 },
    });
    expect(errorCode(future)).toBe('bad_revision');

    const list = await api('GET', '/v1/tenants/snaps/snapshots');
    expect(
      (list.body as Array<{ name: string; revision: number }>).map((s) => [s.name, s.revision]),
    ).toEqual([
      ['exp-1', 1],
      ['head', 2],
    ]);
    expect((await api('GET', '/v1/tenants/snaps/entries/a?snapshot=exp-1')).body).toBe(1);
  });
});

describe('the change log', () => {
  it('answers change records in revision order, replayable from empty to the head', async () => {
    await api('PUT', '/v1/tenants/log');
    await api('PUT', '/v1/tenants/log/entries/a', { body: { n: 1 } });
    await api('POST', '/v1/tenants/log/commits', {
      body: {
        changes: [
          { op: 'patch', key: 'a', patch: [{ op: 'replace', path: '/n', value: 2 }] },
          { op: 'put', key: 'b', value: [true] },
        ],
      },
    });
    await api('DELETE', '/v1/tenants/log/entries/b');

    const response = await api('GET', '/v1/tenants/log/changes?after=0');
    expect(response.status).toBe(200);
    const body = response.body as { epoch: string; changes: ChangeItem[]; next: number };
    expect(body.epoch).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.next).toBe(3);
    expect(body.changes.map((c) => [c.revision, c.key, c.op])).toEqual([
      [1, 'a', 'put'],
      [2, 'a', 'patch'],
      [2, 'b', 'put'],
      [3, 'b', 'delete'],
    ]);

    let a: JsonValue | undefined;
    for (const change of body.changes.filter((c) => c.key === 'a')) {
      a = applyJsonPatch(a, change.patch);
      expect(await contentHash(a)).toBe(change.hash);
    }
    expect(a).toEqual({ n: 2 });

    const later = await api('GET', '/v1/tenants/log/changes?after=2&limit=1');
    expect((later.body as { changes: ChangeItem[] }).changes.map((c) => c.revision)).toEqual([3]);
  });

  it('keeps whole commits together past the limit', async () => {
    const response = await api('GET', '/v1/tenants/log/changes?after=1&limit=1');
    const changes = (response.body as { changes: ChangeItem[] }).changes;
    expect(changes.map((c) => [c.revision, c.key])).toEqual([
      [2, 'a'],
      [2, 'b'],
    ]);
  });

  it('answers 410 compacted behind the horizon while history stays readable', async () => {
    await api('PUT', '/v1/tenants/compact');
    for (let n = 1; n <= 6; n++) {
      await api('PUT', '/v1/tenants/compact/entries/k', { body: { n } });
    }
    const compacted = await api('POST', '/v1/tenants/compact/compact');
    expect(compacted.status).toBe(200);
    expect(compacted.body).toEqual({ horizon: 3 });

    const behind = await api('GET', '/v1/tenants/compact/changes?after=2');
    expect(behind.status).toBe(410);
    expect(errorCode(behind)).toBe('compacted');

    const atHorizon = await api('GET', '/v1/tenants/compact/changes?after=3');
    const revisions = (atHorizon.body as { changes: ChangeItem[] }).changes.map((c) => c.revision);
    expect(revisions).toEqual([4, 5, 6]);

    expect((await api('GET', '/v1/tenants/compact/entries/k?revision=1')).body).toEqual({ n: 1 });
    const history = (await api('GET', '/v1/tenants/compact/history/k')).body as unknown[];
    expect(history).toHaveLength(6);
    const diff = await api('GET', '/v1/tenants/compact/diff/k?from=1&to=2');
    expect(diff.body).toEqual([{ op: 'replace', path: '/n', value: 2 }]);
  });
});

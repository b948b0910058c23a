import { request } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { requestPathAsIs } from '../support/raw-http.ts';

const MAX_VALUE_BYTES = 64 * 1024;
const TENANT = '/v1/tenants/bad';

let origin: OriginProcess;
let api: ReturnType<typeof originApi>;
let headBefore: number;

beforeAll(async () => {
  origin = await startOriginProcess({
    env: {
      LCM_MAX_VALUE_BYTES: String(MAX_VALUE_BYTES),
      LCM_MAX_REQUEST_BYTES: String(2 * MAX_VALUE_BYTES),
    },
  });
  api = originApi(origin);
  await api('PUT', TENANT);
  await api('PUT', `${TENANT}/entries/doc`, { body: { a: 1, list: [1, 2], 'a/b': 3, '~1': 4 } });
});
afterAll(() => origin?.dispose());

async function headRevision(): Promise<number> {
  return ((await api('GET', TENANT)).body as { headRevision: number }).headRevision;
}

/** Sends a request with the path exactly as given, which fetch would normalize. */
function rawRequest(method: string, path: string, body?: string) {
  return new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
    const req = request(`${origin.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${origin.adminToken}`, 'content-type': 'application/json' },
    });
    req.on('response', (response) => {
      let text = '';
      response.on('data', (chunk) => {
        text += chunk;
      });
      response.on('end', () => {
        const parsed = JSON.parse(text) as { error?: { code: string } };
        resolve({ status: response.statusCode ?? 0, code: parsed.error?.code });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('bad input leaves the store unchanged and the server serving', () => {
  beforeAll(async () => {
    headBefore = await headRevision();
  });
  afterEach(async () => {
    expect(await headRevision()).toBe(headBefore);
    expect((await api('GET', '/healthz', { token: null })).status).toBe(200);
    expect((await api('GET', `${TENANT}/entries/doc`)).body).toEqual({
      a: 1,
      list: [1, 2],
      'a/b': 3,
      '~1': 4,
    });
  });

  describe('keys and tenants', () => {
    it.each([
      ['a .. segment', 'a%2F..%2Fb'],
      ['a . segment', 'a/./b'.replace('/./', '%2F.%2F')],
      ['an empty segment', 'a//b'],
      ['a leading slash', '/a'],
      ['a trailing slash', 'a/'],
      ['a control character', 'a%01b'],
      ['a space', 'a%20b'],
      ['a tilde', 'a~1'],
      ['more than 512 bytes', 'k'.repeat(513)],
    ])('refuses a key with %s (400 bad_key)', async (_what, key) => {
      const response = await rawRequest('PUT', `${TENANT}/entries/${key}`, '1');
      expect(response).toEqual({ status: 400, code: 'bad_key' });
    });

    it.each([
      ['PUT', 'a/../b'],
      ['PUT', 'a/./b'],
      ['PUT', 'a/%2e%2e/b'],
      ['PUT', 'a/%2E./b'],
      ['PUT', 'a/.%2e'],
      ['GET', '../entries/doc'],
      ['DELETE', 'a/%2e/doc'],
    ])(
      'refuses %s of a path with a dot segment (%s) instead of resolving it',
      async (method, key) => {
        const response = await requestPathAsIs(origin.url, method, `${TENANT}/entries/${key}`, {
          headers: {
            authorization: `Bearer ${origin.adminToken}`,
            'content-type': 'application/json',
          },
          ...(method === 'PUT' && { body: '1' }),
        });
        expect(response.status).toBe(400);
        expect(response.body).toMatchObject({
          error: { code: 'bad_key', requestId: expect.any(String) },
        });
        for (const resolved of ['b', 'a/b']) {
          expect((await api('GET', `${TENANT}/entries/${resolved}`)).status).toBe(404);
        }
      },
    );

    it('refuses bad keys inside a commit body, including ..', async () => {
      for (const key of ['a/../b', '../a', '', '/a', 'a\u0000b', 'x'.repeat(513)]) {
        const response = await api('POST', `${TENANT}/commits`, {
          body: { changes: [{ op: 'put', key, value: 1 }] },
        });
        expect(errorCode(response), key).toBe('bad_key');
      }
    });

    it('accepts a key of exactly 512 bytes in a failing commit without writing it', async () => {
      const response = await api('POST', `${TENANT}/commits`, {
        body: { changes: [{ op: 'delete', key: 'k'.repeat(512) }] },
      });
      expect(errorCode(response)).toBe('not_found');
    });

    it.each([
      ['upper case', 'Bad'],
      ['an underscore', 'a_b'],
      ['a leading dash', '-ab'],
      ['64 characters', `a${'b'.repeat(63)}`],
    ])('refuses a tenant id with %s (400 bad_tenant)', async (_what, tenant) => {
      const response = await api('PUT', `/v1/tenants/${tenant}`);
      expect(response.status).toBe(400);
      expect(errorCode(response)).toBe('bad_tenant');
    });
  });

  describe('bodies', () => {
    it('refuses a body that is not JSON (400 bad_json)', async () => {
      for (const raw of ['{', "{'a':1}", '{"a": NaN}', '', '1 2']) {
        const response = await api('PUT', `${TENANT}/entries/doc`, { raw });
        expect(errorCode(response), raw).toBe('bad_json');
      }
    });

    it('refuses invalid UTF-8 (400 bad_json)', async () => {
      const raw = new Uint8Array([0x22, 0xff, 0xfe, 0x22]);
      expect(errorCode(await api('PUT', `${TENANT}/entries/doc`, { raw }))).toBe('bad_json');
    });

    it('refuses JSON nested deeper than 64 levels (400 too_deep), and takes 64', async () => {
      const deep = `${'['.repeat(65)}${']'.repeat(65)}`;
      expect(errorCode(await api('PUT', `${TENANT}/entries/doc`, { raw: deep }))).toBe('too_deep');
      const hostile = '['.repeat(1_000_000);
      expect(errorCode(await api('PUT', `${TENANT}/entries/doc`, { raw: hostile }))).toBe(
        'too_large',
      );
      const deepCommit = {
        changes: [{ op: 'put', key: 'doc', value: JSON.parse(deep) }],
      };
      expect(errorCode(await api('POST', `${TENANT}/commits`, { body: deepCommit }))).toBe(
        'too_deep',
      );
    });

    it('refuses a value over the size limit with 413 before reading it', async () => {
      const big = JSON.stringify('x'.repeat(MAX_VALUE_BYTES));
      const response = await api('PUT', `${TENANT}/entries/doc`, { raw: big });
      expect(response.status).toBe(413);
      expect(errorCode(response)).toBe('too_large');
    });

    it('refuses an oversized body sent without a Content-Length (chunked) with 413', async () => {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(`${origin.url}${TENANT}/entries/doc`, {
          method: 'PUT',
          headers: { ...origin.auth(), 'content-type': 'application/json' },
        });
        let answered = false;
        req.on('response', (response) => {
          answered = true;
          response.resume();
          resolve(response.statusCode ?? 0);
        });
        // The server cuts the upload off once it passed the limit, so writes may fail after.
        req.on('error', (error) => {
          if (!answered) reject(error);
        });
        const chunk = '"'.padEnd(16 * 1024, 'y');
        const send = (left: number) => {
          if (answered || left === 0) return void req.end();
          req.write(chunk, () => setImmediate(() => send(left - 1)));
        };
        send(16);
      });
      expect(status).toBe(413);
    });

    it('refuses a commit whose value is over the size limit, and a patch that grows past it', async () => {
      const value = 'x'.repeat(MAX_VALUE_BYTES);
      const commit = await api('POST', `${TENANT}/commits`, {
        body: { changes: [{ op: 'put', key: 'doc', value }] },
      });
      expect(errorCode(commit)).toBe('too_large');
      const half = 'x'.repeat(MAX_VALUE_BYTES / 2 + 10);
      const patch = await api('POST', `${TENANT}/commits`, {
        body: {
          changes: [
            {
              op: 'patch',
              key: 'doc',
              patch: [
                { op: 'add', path: '/big1', value: half },
                { op: 'add', path: '/big2', value: half },
              ],
            },
          ],
        },
      });
      expect(errorCode(patch)).toBe('too_large');
    });

    it('refuses a wrong content type with 415', async () => {
      const put = await api('PUT', `${TENANT}/entries/doc`, { raw: '1', type: 'text/plain' });
      expect(put.status).toBe(415);
      expect(errorCode(put)).toBe('unsupported_media_type');
      const patch = await api('PATCH', `${TENANT}/entries/doc`, { raw: '[]' });
      expect(patch.status).toBe(415);
    });

    it('refuses numbers that JSON cannot keep exact (400 unsafe_number)', async () => {
      for (const raw of ['1e400', '-1e400', '9007199254740993', '{"n": 18446744073709551616}']) {
        const response = await api('PUT', `${TENANT}/entries/doc`, { raw });
        expect(errorCode(response), raw).toBe('unsafe_number');
      }
    });

    it('refuses a value with a __proto__ member (400 bad_value)', async () => {
      const raw = '{"__proto__": {"polluted": true}}';
      expect(errorCode(await api('PUT', `${TENANT}/entries/doc`, { raw }))).toBe('bad_value');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
  });

  describe('patches', () => {
    const jsonPatch = (patch: unknown) =>
      api('PATCH', `${TENANT}/entries/doc`, {
        raw: JSON.stringify(patch),
        type: 'application/json-patch+json',
      });

    it.each([
      ['__proto__', [{ op: 'add', path: '/__proto__/polluted', value: true }]],
      ['constructor', [{ op: 'add', path: '/constructor/prototype/x', value: 1 }]],
      ['prototype', [{ op: 'replace', path: '/a/prototype', value: 1 }]],
      ['__proto__ in from', [{ op: 'copy', from: '/__proto__', path: '/x' }]],
    ])('refuses a JSON Patch touching %s (422 invalid_patch)', async (_what, patch) => {
      const response = await jsonPatch(patch);
      expect(response.status).toBe(422);
      expect(errorCode(response)).toBe('invalid_patch');
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });

    it('refuses a merge patch touching constructor (422) or __proto__ (400)', async () => {
      const merge = (raw: string) =>
        api('PATCH', `${TENANT}/entries/doc`, { raw, type: 'application/merge-patch+json' });
      expect(errorCode(await merge('{"constructor": {"x": 1}}'))).toBe('invalid_patch');
      expect(errorCode(await merge('{"a": {"prototype": 1}}'))).toBe('invalid_patch');
      expect(errorCode(await merge('{"__proto__": {"x": 1}}'))).toBe('bad_value');
    });

    it.each([
      ['an unknown op', [{ op: 'frobnicate', path: '/a' }]],
      ['a missing value', [{ op: 'add', path: '/a' }]],
      ['a path that is not a pointer', [{ op: 'remove', path: 'a' }]],
      ['a bad ~ escape', [{ op: 'remove', path: '/~2' }]],
      ['a patch that is not an array', { op: 'remove', path: '/a' }],
    ])('refuses a JSON Patch with %s (422 invalid_patch)', async (_what, patch) => {
      expect(errorCode(await jsonPatch(patch))).toBe('invalid_patch');
    });

    it.each([
      ['replace of a missing path', [{ op: 'replace', path: '/missing', value: 1 }]],
      ['remove of a missing path', [{ op: 'remove', path: '/missing/deeper' }]],
      ['a failing test', [{ op: 'test', path: '/a', value: 2 }]],
      ['an array index out of bounds', [{ op: 'add', path: '/list/9', value: 1 }]],
    ])('refuses a JSON Patch with %s (409 patch_conflict)', async (_what, patch) => {
      const response = await jsonPatch(patch);
      expect(response.status).toBe(409);
      expect(errorCode(response)).toBe('patch_conflict');
    });
  });
});

describe('members named with / and ~', () => {
  it('patches members "a/b" and "~1" through ~1 and ~0 escapes and keeps them exact', async () => {
    const path = `${TENANT}/entries/escapes`;
    await api('PUT', path, { body: { 'a/b': 1, '~1': 2, '~': 3 } });
    const response = await api('PATCH', path, {
      raw: JSON.stringify([
        { op: 'replace', path: '/a~1b', value: 10 },
        { op: 'replace', path: '/~01', value: 20 },
        { op: 'move', from: '/~0', path: '/~0~1' },
      ]),
      type: 'application/json-patch+json',
    });
    expect(response.status).toBe(200);
    expect((await api('GET', path)).body).toEqual({ 'a/b': 10, '~1': 20, '~/': 3 });

    const changes = await api('GET', `${TENANT}/changes?after=0&limit=1000`);
    const records = (changes.body as { changes: Array<{ key: string; patch: unknown }> }).changes;
    const patch = records.filter((record) => record.key === 'escapes').at(-1)?.patch;
    expect(patch).toEqual(expect.arrayContaining([{ op: 'replace', path: '/a~1b', value: 10 }]));
  });
});

describe('racing writers', () => {
  it('lets exactly one of N writers with the same If-Match win', async () => {
    const path = `${TENANT}/entries/raced`;
    const first = await api('PUT', path, { body: { writer: -1 } });
    const revision = (first.body as { revision: number }).revision;

    const writers = Array.from({ length: 12 }, (_, writer) =>
      api('PUT', path, { body: { writer }, headers: { 'if-match': `"${revision}"` } }),
    );
    const responses = await Promise.all(writers);
    const winners = responses.filter((response) => response.status === 200);
    const losers = responses.filter((response) => response.status === 412);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(11);
    for (const loser of losers) expect(errorCode(loser)).toBe('revision_mismatch');

    const stored = (await api('GET', path)).body as { writer: number };
    const winnerIndex = responses.indexOf(winners[0]!);
    expect(stored.writer).toBe(winnerIndex);
  });
});

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  applyJsonPatch,
  canonicalJson,
  contentHash,
  type JsonValue,
  LcmError,
} from '../../core/index.ts';
import type { ChangeInput, OriginStore } from '../../origin/index.ts';
import { openTempStore } from '../support/origin-store.ts';

/** Keys used by the generated commits; few, so that changes pile up on the same keys. */
const KEYS = ['a', 'b/c', 'b/d'];
/** Member names that need ~0 / ~1 escapes in pointers, or that patches may not touch. */
const MEMBERS = ['x', 'y', 'a/b', '~1', '~', 'constructor', 'prototype', 'list'];

const jsonLeaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -1e9, max: 1e9 }),
  fc
    .double({ noNaN: true, noDefaultInfinity: true })
    .filter((n) => !Object.is(n, -0) && (!Number.isInteger(n) || Number.isSafeInteger(n))),
  fc.string({ maxLength: 8 }),
);
const jsonValue: fc.Arbitrary<JsonValue> = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    jsonLeaf,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.constantFrom(...MEMBERS), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const change: fc.Arbitrary<ChangeInput> = fc.oneof(
  fc.record({ op: fc.constant('put' as const), key: fc.constantFrom(...KEYS), value: jsonValue }),
  fc.record({
    op: fc.constant('patch' as const),
    key: fc.constantFrom(...KEYS),
    format: fc.constant('merge-patch' as const),
    patch: fc.dictionary(fc.constantFrom('x', 'y', 'a/b', '~1'), jsonValue, { maxKeys: 3 }),
  }),
  fc.record({
    op: fc.constant('patch' as const),
    key: fc.constantFrom(...KEYS),
    format: fc.constant('json-patch' as const),
    patch: fc
      .tuple(fc.constantFrom('/x', '/a~1b', '/~01', '/~0'), jsonValue)
      .map(([path, value]) => [{ op: 'add', path, value }]),
  }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
);
const commit = fc.uniqueArray(change, { minLength: 1, maxLength: 3, selector: (c) => c.key });

let temp: Awaited<ReturnType<typeof openTempStore>>;
let store: OriginStore;
let run = 0;
let committed = 0;
let replacedWhole = 0;

beforeAll(async () => {
  temp = await openTempStore();
  store = temp.store;
});
afterAll(() => temp?.dispose());

type State = Map<string, JsonValue>;

describe('the change log', () => {
  it('replays from empty to every revision, matching each hash and every ?revision= read', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commit, { minLength: 4, maxLength: 16 }), async (commits) => {
        const tenant = `prop-${run++}`;
        await store.createTenant(tenant);

        // The state the store should hold after each of its revisions.
        const expected: State[] = [new Map()];
        for (const changes of commits) {
          try {
            await store.commit(tenant, changes, { actor: 'property' });
          } catch (error) {
            // A patch that does not apply, or a delete of a missing key, commits nothing.
            if (!(error instanceof LcmError)) throw error;
            expect(['patch_conflict', 'not_found', 'invalid_patch']).toContain(error.code);
            continue;
          }
          committed++;
          const state = new Map(expected.at(-1));
          for (const c of changes) {
            const read = await store.readEntry(tenant, c.key).catch(() => undefined);
            if (read === undefined) state.delete(c.key);
            else state.set(c.key, JSON.parse(read.text) as JsonValue);
          }
          expected.push(state);
        }

        const head = expected.length - 1;
        expect(await store.headRevision(tenant)).toBe(head);

        const replayed: State = new Map();
        const log = await store.changesAfter(tenant, 0, 10_000);
        for (const { record } of log) {
          if (record.op === 'delete') {
            replayed.delete(record.key);
            expect(record.hash).toBeNull();
            continue;
          }
          if (record.patch?.length === 1 && record.patch[0]!.path === '') replacedWhole++;
          const value = applyJsonPatch(replayed.get(record.key), record.patch);
          replayed.set(record.key, value);
          expect(await contentHash(value)).toBe(record.hash);
          expect(canonicalJson(value)).toBe(
            canonicalJson(expected[record.revision]!.get(record.key)!),
          );
        }
        expect(new Set(log.map((c) => c.record.revision)).size).toBe(head);

        for (let revision = 0; revision <= head; revision++) {
          for (const key of KEYS) {
            const want = expected[revision]!.get(key);
            const read = await store
              .readEntry(tenant, key, { revision })
              .catch((error: LcmError) => error.code);
            if (want === undefined) expect(read).toBe('not_found');
            else
              expect(canonicalJson(JSON.parse((read as { text: string }).text))).toBe(
                canonicalJson(want),
              );
          }
        }
      }),
      { numRuns: 50 },
    );
    // The runs must have committed a good share of their changes, not only failed.
    expect(committed).toBeGreaterThan(100);
    expect(replacedWhole).toBeGreaterThan(0);
  });
});

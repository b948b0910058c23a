import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyJsonPatch,
  applyMergePatch,
  assertJsonPatch,
  diffValues,
  type JsonValue,
  type LcmError,
} from '../../core/index.ts';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return (error as LcmError).code;
  }
}

describe('applyJsonPatch', () => {
  it('applies the RFC 6902 operations and leaves its inputs untouched', () => {
    const value = { a: { b: [1, 2] }, c: 'x' };
    const patch = [
      { op: 'add', path: '/a/b/1', value: 9 },
      { op: 'remove', path: '/c' },
      { op: 'copy', from: '/a/b', path: '/d' },
      { op: 'move', from: '/d', path: '/e' },
      { op: 'test', path: '/e', value: [1, 9, 2] },
      { op: 'replace', path: '/a/b/0', value: { deep: true } },
    ];
    const before = structuredClone({ value, patch });
    const result = applyJsonPatch(value, patch);
    expect(result).toEqual({ a: { b: [{ deep: true }, 9, 2] }, e: [1, 9, 2] });
    expect({ value, patch }).toEqual(before);

    (result as { a: { b: Array<{ deep?: boolean }> } }).a.b[0]!.deep = false;
    expect(patch[5]).toEqual({ op: 'replace', path: '/a/b/0', value: { deep: true } });
  });

  it('replaces the whole value through the root path, also when there was none', () => {
    expect(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: [1] }])).toEqual([1]);
    expect(applyJsonPatch(undefined, [{ op: 'add', path: '', value: 'x' }])).toBe('x');
  });

  it('escapes / as ~1 and ~ as ~0, so a member literally named ~1 survives a round trip', () => {
    const value = { 'a/b': 1, '~1': 2, '~': 3, '~0': 4 };
    const result = applyJsonPatch(value, [
      { op: 'replace', path: '/a~1b', value: 10 },
      { op: 'replace', path: '/~01', value: 20 },
      { op: 'replace', path: '/~0', value: 30 },
      { op: 'replace', path: '/~00', value: 40 },
    ]);
    expect(result).toEqual({ 'a/b': 10, '~1': 20, '~': 30, '~0': 40 });

    const patch = diffValues(value, result);
    expect(patch).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/a~1b', value: 10 },
        { op: 'replace', path: '/~01', value: 20 },
        { op: 'replace', path: '/~0', value: 30 },
        { op: 'replace', path: '/~00', value: 40 },
      ]),
    );
    expect(applyJsonPatch(value, patch)).toEqual(result);
  });

  it.each([
    ['__proto__', [{ op: 'add', path: '/__proto__/polluted', value: true }]],
    ['an escaped __proto__ path', [{ op: 'add', path: '/a/__proto__', value: {} }]],
    ['constructor', [{ op: 'add', path: '/constructor/prototype/polluted', value: 1 }]],
    ['prototype', [{ op: 'replace', path: '/prototype', value: 1 }]],
    ['__proto__ in from', [{ op: 'move', from: '/__proto__', path: '/x' }]],
  ])('refuses a patch touching %s with invalid_patch and pollutes nothing', (_what, patch) => {
    expect(codeOf(() => applyJsonPatch({ a: {} }, patch))).toBe('invalid_patch');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it.each([
    ['not an array', { op: 'add', path: '/a', value: 1 }],
    ['an unknown op', [{ op: 'merge', path: '/a', value: 1 }]],
    ['an op that is not a string', [{ op: 1, path: '/a' }]],
    ['a missing value', [{ op: 'replace', path: '/a' }]],
    ['a path without a leading slash', [{ op: 'remove', path: 'a' }]],
    ['a bad ~ escape', [{ op: 'remove', path: '/a~2' }]],
    ['a trailing ~', [{ op: 'remove', path: '/a~' }]],
    ['a missing from', [{ op: 'copy', path: '/a' }]],
    ['an operation that is not an object', [null]],
  ])('refuses a patch with %s as invalid_patch', (_what, patch) => {
    expect(codeOf(() => assertJsonPatch(patch))).toBe('invalid_patch');
    expect(codeOf(() => applyJsonPatch({ a: 1 }, patch))).toBe('invalid_patch');
  });

  it.each([
    ['replace of a missing member', { a: 1 }, [{ op: 'replace', path: '/b', value: 1 }]],
    ['remove of a missing member', { a: 1 }, [{ op: 'remove', path: '/b/c' }]],
    ['a failing test', { a: 1 }, [{ op: 'test', path: '/a', value: 2 }]],
    ['an index past the end', { a: [1] }, [{ op: 'add', path: '/a/5', value: 1 }]],
    ['a from that does not resolve', { a: 1 }, [{ op: 'copy', from: '/z', path: '/b' }]],
    ['a member of nothing', undefined, [{ op: 'add', path: '/a', value: 1 }]],
    ['a member of a number', 5, [{ op: 'add', path: '/a', value: 1 }]],
  ])('reports %s as patch_conflict', (_what, value, patch) => {
    expect(codeOf(() => applyJsonPatch(value as JsonValue, patch))).toBe('patch_conflict');
  });
});

describe('diffValues', () => {
  const member = fc.constantFrom('a', 'b', 'a/b', '~1', '~', '0', '');
  const leaf = fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 5 }));
  const value: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(member, tie('v'), { maxKeys: 4 }),
    ),
  })).v;

  it('gives a patch that turns the first value into the second', () => {
    fc.assert(
      fc.property(fc.option(value, { nil: undefined }), value, (from, to) => {
        expect(applyJsonPatch(from, diffValues(from, to))).toEqual(to);
      }),
      { numRuns: 300 },
    );
  });

  it('shares nothing with its inputs', () => {
    const to = { list: [{ a: 1 }] };
    const patch = diffValues(undefined, to);
    to.list[0]!.a = 2;
    expect(patch).toEqual([{ op: 'replace', path: '', value: { list: [{ a: 1 }] } }]);
  });
});

describe('applyMergePatch (RFC 7396)', () => {
  it.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('merges %j with %j into %j', (target, patch, expected) => {
    const before = structuredClone(target);
    expect(applyMergePatch(target as JsonValue, patch as JsonValue)).toEqual(expected);
    expect(target).toEqual(before);
  });

  it('refuses members named constructor or prototype with invalid_patch', () => {
    expect(codeOf(() => applyMergePatch({}, { constructor: { prototype: 1 } }))).toBe(
      'invalid_patch',
    );
    expect(codeOf(() => applyMergePatch({}, { a: { prototype: 1 } }))).toBe('invalid_patch');
  });
});

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, contentHash, type JsonValue, sha256Hex } from '../../core/index.ts';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts members by UTF-16 code units, as in the RFC example', () => {
    const value = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const text = canonicalJson(value);
    const order = Object.keys(value).sort(
      (a, b) => text.indexOf(`"${a}"`) - text.indexOf(`"${b}"`),
    );
    expect(order).toEqual(['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33']);
    expect(text.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"')).toBe(true);
  });

  it('writes numbers the ECMAScript way, as the RFC requires', () => {
    expect(
      canonicalJson(JSON.parse('[1e21, 1e-7, 0.000001, -0, 333333333.33333329, 1e23, 4.5e-321]')),
    ).toBe('[1e+21,1e-7,0.000001,0,333333333.3333333,1e+23,4.5e-321]');
  });

  it('writes no white space and escapes control characters', () => {
    expect(canonicalJson({ b: [1, { d: null, c: true }], a: 'x\n\u0001"' })).toBe(
      '{"a":"x\\n\\u0001\\"","b":[1,{"c":true,"d":null}]}',
    );
  });
});

describe('contentHash', () => {
  it('is the hex SHA-256 of the canonical JSON', async () => {
    const value = { b: 2, a: [1, 'é'] };
    const expected = createHash('sha256').update(canonicalJson(value)).digest('hex');
    expect(await contentHash(value)).toBe(expected);
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });

  it('does not depend on member order, and tells different values apart', async () => {
    const value = fc
      .jsonValue({ maxDepth: 3 })
      .map((v) => JSON.parse(JSON.stringify(v)) as JsonValue);
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const reordered = JSON.parse(canonicalJson(v)) as JsonValue;
        const shuffled = reverseMembers(v);
        expect(await contentHash(shuffled)).toBe(await contentHash(reordered));
        expect(canonicalJson(JSON.parse(canonicalJson(v)) as JsonValue)).toBe(canonicalJson(v));
      }),
      { numRuns: 200 },
    );
    expect(await contentHash({ a: 1 })).not.toBe(await contentHash({ a: '1' }));
  });
});

function reverseMembers(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(reverseMembers);
  const reversed: { [key: string]: JsonValue } = {};
  for (const key of Object.keys(value).reverse()) reversed[key] = reverseMembers(value[key]!);
  return reversed;
}

import { describe, expect, it } from 'vitest';
import {
  assertJsonValue,
  DEFAULT_MAX_DEPTH,
  jsonByteLength,
  jsonTextDepth,
  type LcmError,
  parseJsonValue,
} from '../../core/index.ts';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return (error as LcmError).code;
  }
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('parseJsonValue', () => {
  it('parses JSON text and UTF-8 bytes alike', () => {
    expect(parseJsonValue('{"a":[1,"é",null]}')).toEqual({ a: [1, 'é', null] });
    expect(parseJsonValue(new TextEncoder().encode('{"a":"😀"}'))).toEqual({ a: '😀' });
  });

  it('refuses text that is not JSON with bad_json', () => {
    for (const text of ['', '{', '{"a":1,}', "{'a':1}", 'NaN', 'undefined', '[1] [2]']) {
      expect(
        codeOf(() => parseJsonValue(text)),
        text,
      ).toBe('bad_json');
    }
  });

  it('names no part of the text in its message, which may hold a secret', () => {
    try {
      parseJsonValue(`{"value":'sk-live-ABCDEFGHIJKLMNOP'}`);
      expect.unreachable();
    } catch (error) {
      expect((error as LcmError).code).toBe('bad_json');
      expect((error as Error).message).not.toMatch(/sk-live/);
      expect((error as Error).cause).toBeUndefined();
    }
  });

  it('refuses strings and member names holding a lone surrogate with bad_value', () => {
    expect(codeOf(() => parseJsonValue('{"s":"\\ud800x"}'))).toBe('bad_value');
    expect(codeOf(() => parseJsonValue('{"\\udc00":1}'))).toBe('bad_value');
    expect(codeOf(() => parseJsonValue('["\\ud83d\\ude00"]'))).toBeUndefined();
  });

  it('refuses invalid UTF-8 with bad_json', () => {
    expect(codeOf(() => parseJsonValue(new Uint8Array([0x22, 0xc3, 0x28, 0x22])))).toBe('bad_json');
    expect(codeOf(() => parseJsonValue(new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22])))).toBe(
      'bad_json',
    );
  });

  it('takes 64 levels of nesting and refuses 65 with too_deep', () => {
    expect(DEFAULT_MAX_DEPTH).toBe(64);
    expect(() => parseJsonValue(nested(64))).not.toThrow();
    expect(codeOf(() => parseJsonValue(nested(65)))).toBe('too_deep');
    expect(codeOf(() => parseJsonValue(nested(5), { maxBytes: 100, maxDepth: 4 }))).toBe(
      'too_deep',
    );
  });

  it('counts the size in UTF-8 bytes and refuses more than the limit with too_large', () => {
    const limits = { maxBytes: 10, maxDepth: 8 };
    expect(parseJsonValue('"12345678"', limits)).toBe('12345678');
    expect(codeOf(() => parseJsonValue('"123456789"', limits))).toBe('too_large');
    expect(codeOf(() => parseJsonValue('"ééééé"', limits))).toBe('too_large');
  });

  it('refuses numbers it cannot keep exact with unsafe_number', () => {
    for (const text of ['1e400', '-1e999', '9007199254740993', '[18446744073709551615]']) {
      expect(
        codeOf(() => parseJsonValue(text)),
        text,
      ).toBe('unsafe_number');
    }
    expect(parseJsonValue('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    // A huge double in exponent form stands for an integer a double cannot hold exactly.
    expect(codeOf(() => parseJsonValue('1.5e300'))).toBe('unsafe_number');
    expect(parseJsonValue('[0.1, -2.5e-300, 1.5]')).toEqual([0.1, -2.5e-300, 1.5]);
  });

  it('refuses a __proto__ member with bad_value and pollutes nothing', () => {
    expect(codeOf(() => parseJsonValue('{"a":{"__proto__":{"polluted":1}}}'))).toBe('bad_value');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('assertJsonValue', () => {
  it.each([
    ['undefined', { a: undefined }, 'bad_value'],
    ['a top-level undefined', undefined, 'bad_value'],
    ['a function', [() => 1], 'bad_value'],
    ['a symbol', { s: Symbol('x') }, 'bad_value'],
    ['a bigint', { n: 1n }, 'bad_value'],
    ['a Map', new Map(), 'bad_value'],
    ['a Date', new Date(0), 'bad_value'],
    ['NaN', Number.NaN, 'unsafe_number'],
    ['-Infinity', { x: Number.NEGATIVE_INFINITY }, 'unsafe_number'],
    ['2^53', 2 ** 53, 'unsafe_number'],
  ])('refuses %s', (_what, value, code) => {
    expect(codeOf(() => assertJsonValue(value))).toBe(code);
  });

  it('accepts plain JSON, including objects without a prototype', () => {
    const bare = Object.assign(Object.create(null) as object, { a: 1 });
    expect(() => assertJsonValue({ a: [1, 'x', null, true, { b: bare }] })).not.toThrow();
  });
});

describe('jsonTextDepth', () => {
  it('ignores brackets inside strings, also after escaped quotes and backslashes', () => {
    expect(jsonTextDepth('"[[[["')).toBe(0);
    expect(jsonTextDepth('["\\"[[[", "\\\\", [1]]')).toBe(2);
    expect(jsonTextDepth('{"a":{"b":[{}]}}')).toBe(4);
  });
});

describe('jsonByteLength', () => {
  it('counts UTF-8 bytes of the JSON text', () => {
    expect(jsonByteLength({ a: 'é' })).toBe('{"a":"é"}'.length + 1);
  });
});

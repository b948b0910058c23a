import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentHash, type JsonValue } from '../../core/index.ts';
import { contentHashSync } from '../../edge-agent/content-hash-node.ts';

const values: JsonValue[] = [
  null,
  0,
  -1.5e-7,
  'plain',
  'unicode: \u00f6 \u20ac \ud83d\ude00 \u0000 \ud800',
  [],
  {},
  { b: [1, { z: true, a: null }], a: { '\ufb33': 'dalet', '\r': 'cr', nested: [[[]]] } },
  { model: 'llama-3', limits: { max_tokens: 4096, temperature: 0.7 }, tags: ['a', 'b'] },
];

describe('contentHashSync', () => {
  it('equals core contentHash on unicode, nested and scalar values', async () => {
    for (const value of values) {
      expect(contentHashSync(value)).toBe(await contentHash(value));
    }
  });

  it('equals core contentHash on arbitrary JSON values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        expect(contentHashSync(value as JsonValue)).toBe(await contentHash(value as JsonValue));
      }),
      { numRuns: 200 },
    );
  });
});

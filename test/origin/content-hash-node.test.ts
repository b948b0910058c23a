import { describe, expect, it } from 'vitest';
import { contentHash, type JsonValue } from '../../core/index.ts';
import { contentHashSync } from '../../origin/store/content-hash-node.ts';

const values: JsonValue[] = [
  null,
  42,
  'unicode: \u00f6 \u20ac \ud83d\ude00 \ud800',
  { b: [1, { z: true, a: null }], a: { '\ufb33': 'dalet', nested: [[[]]] } },
];

describe('the origin contentHashSync', () => {
  it('equals core contentHash on unicode, nested and scalar values', async () => {
    for (const value of values) {
      expect(contentHashSync(value)).toBe(await contentHash(value));
    }
  });
});

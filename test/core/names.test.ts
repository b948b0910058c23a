import { describe, expect, it } from 'vitest';
import {
  assertEntryKey,
  assertTenantId,
  hasDotSegment,
  isEntryKey,
  isKeyPrefix,
  isTenantId,
  keyProblem,
  LcmError,
  MAX_KEY_BYTES,
} from '../../core/index.ts';

describe('tenant ids', () => {
  it.each(['a', '0', 'acme', 'team-42', `a${'b'.repeat(62)}`])('accepts %s', (tenant) => {
    expect(isTenantId(tenant)).toBe(true);
  });

  it.each(['', '-a', 'Acme', 'a_b', 'a.b', 'a b', 'é', `a${'b'.repeat(63)}`])(
    'refuses %j with bad_tenant',
    (tenant) => {
      expect(isTenantId(tenant)).toBe(false);
      expect(() => assertTenantId(tenant)).toThrow(LcmError);
      try {
        assertTenantId(tenant);
      } catch (error) {
        expect((error as LcmError).code).toBe('bad_tenant');
        expect((error as LcmError).status).toBe(400);
      }
    },
  );
});

describe('entry keys', () => {
  it.each(['a', 'routers/prod/default', 'a.b/c_d/e-f', 'v1.2.3', '...', 'a/.hidden'])(
    'accepts %s',
    (key) => {
      expect(isEntryKey(key)).toBe(true);
      expect(() => assertEntryKey(key)).not.toThrow();
    },
  );

  it.each([
    ['empty', ''],
    ['a leading slash', '/a'],
    ['a trailing slash', 'a/'],
    ['an empty segment', 'a//b'],
    ['a .. segment', 'a/../b'],
    ['a . segment', 'a/./b'],
    ['only ..', '..'],
    ['a control character', 'a\u0001b'],
    ['a NUL', 'a\u0000'],
    ['a space', 'a b'],
    ['a tilde', 'a~1'],
    ['a backslash', 'a\\b'],
    ['non-ASCII', 'ключ'],
  ])('refuses a key that is %s with bad_key', (_what, key) => {
    expect(keyProblem(key)).toBeTypeOf('string');
    expect(() => assertEntryKey(key)).toThrow(expect.objectContaining({ code: 'bad_key' }));
  });

  it('takes a key of 512 bytes and refuses one of 513', () => {
    expect(isEntryKey('k'.repeat(MAX_KEY_BYTES))).toBe(true);
    expect(keyProblem('k'.repeat(MAX_KEY_BYTES + 1))).toMatch(/512 bytes/);
  });
});

describe('key prefixes', () => {
  it.each(['', 'a', 'a/', 'routers/prod/', 'rout'])('accepts %j', (prefix) => {
    expect(isKeyPrefix(prefix)).toBe(true);
  });

  it.each(['/', '/a', 'a//', '../', 'a b/'])('refuses %j', (prefix) => {
    expect(isKeyPrefix(prefix)).toBe(false);
  });
});

describe('dot segments in a raw request target', () => {
  it.each(['/a/../b', '/a/./b', '/a/%2e%2e/b', '/a/%2E/b', '/a/.%2e/b', '/..', '/a\\..\\b'])(
    'finds one in %s',
    (target) => {
      expect(hasDotSegment(target)).toBe(true);
    },
  );

  it.each(['/a/b', '/a/.b/c', '/a/b..c', '/a/...', '/a/%2e%2e%2e', '/a/b?x=../y', '/a/b#/..'])(
    'finds none in %s',
    (target) => {
      expect(hasDotSegment(target)).toBe(false);
    },
  );
});

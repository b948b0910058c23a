import { LcmError } from './errors.ts';
import { MAX_KEY_BYTES } from './limits.ts';

const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const SEGMENT_PATTERN = /^[A-Za-z0-9._-]+$/;
const utf8 = new TextEncoder();

/** True when `tenant` is a valid tenant id: `[a-z0-9][a-z0-9-]{0,62}`. */
export function isTenantId(tenant: string): boolean {
  return TENANT_PATTERN.test(tenant);
}

/** Throws `bad_tenant` unless `tenant` is a valid tenant id. */
export function assertTenantId(tenant: string): void {
  if (!isTenantId(tenant)) {
    throw new LcmError('bad_tenant', 'tenant ids match [a-z0-9][a-z0-9-]{0,62}');
  }
}

/**
 * Why `key` is not a valid entry key, or undefined when it is. Keys are slash-separated paths of
 * segments made of `[A-Za-z0-9._-]`, with no empty, `.` or `..` segment, at most 512 bytes.
 */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'a key must not be empty';
  if (utf8.encode(key).length > MAX_KEY_BYTES) return `a key is at most ${MAX_KEY_BYTES} bytes`;
  if (key.startsWith('/')) return 'a key must not start with a slash';
  if (key.endsWith('/')) return 'a key must not end with a slash';

  for (const segment of key.split('/')) {
    if (segment === '') return 'a key must not have an empty segment';
    if (segment === '.' || segment === '..') return 'a key must not have a . or .. segment';
    if (!SEGMENT_PATTERN.test(segment)) return 'key segments are made of A-Z a-z 0-9 . _ -';
  }
  return undefined;
}

/** True when `key` is a valid entry key. */
export function isEntryKey(key: string): boolean {
  return keyProblem(key) === undefined;
}

/** Throws `bad_key` unless `key` is a valid entry key. */
export function assertEntryKey(key: string): void {
  const problem = keyProblem(key);
  if (problem !== undefined) throw new LcmError('bad_key', problem);
}

/**
 * True when `prefix` could start a key: empty, or a key, or a key followed by a slash. Used to
 * validate listing prefixes and token scopes.
 */
export function isKeyPrefix(prefix: string): boolean {
  if (prefix === '') return true;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return isEntryKey(trimmed);
}

/** A `.` or `..` path segment, also percent-encoded (`%2e`, `.%2E`, ...). */
const DOT_SEGMENT_PATTERN = /^(?:\.|%2e){1,2}$/i;

/**
 * True when the path of a raw HTTP request target (`/a/../b?x=1`) has a `.` or `..` segment,
 * plain or percent-encoded. URL parsers resolve such segments silently, so a server that wants
 * to refuse them must look at the target as it came off the wire.
 */
export function hasDotSegment(requestTarget: string): boolean {
  const path = requestTarget.split(/[?#]/, 1)[0] ?? '';
  // The WHATWG parser treats a backslash as a slash in http URLs.
  return path.split(/[/\\]/).some((segment) => DOT_SEGMENT_PATTERN.test(segment));
}

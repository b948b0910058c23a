import type { JsonValue } from './json-value.ts';

const utf8 = new TextEncoder();

/**
 * The canonical JSON text of `value` (RFC 8785, JSON Canonicalization Scheme): members sorted by
 * their UTF-16 code units, no white space, and numbers and strings written the way ECMAScript's
 * JSON.stringify writes them, which is what the RFC prescribes.
 */
export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;

  const members = Object.keys(value)
    .sort()
    .map((member) => `${JSON.stringify(member)}:${canonicalJson(value[member]!)}`);
  return `{${members.join(',')}}`;
}

/**
 * The content hash of a value: lowercase hex SHA-256 of its canonical JSON. Two values that are
 * equal as JSON have the same hash whatever their member order.
 */
export async function contentHash(value: JsonValue): Promise<string> {
  return sha256Hex(utf8.encode(canonicalJson(value)));
}

/** Lowercase hex SHA-256 of `bytes`, through Web Crypto so that it runs on every runtime. */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  let hex = '';
  for (const byte of digest) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

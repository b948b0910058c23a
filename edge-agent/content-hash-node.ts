import { createHash } from 'node:crypto';
import { canonicalJson, type JsonValue } from '../core/index.ts';

/**
 * The content hash of a value (lowercase hex SHA-256 of its canonical JSON), computed
 * synchronously with node:crypto. It equals core's `contentHash`, which goes through Web Crypto
 * so that core runs everywhere, but whose asynchronous digest costs a thread-pool round trip
 * per value on the agent's apply and snapshot paths.
 */
export function contentHashSync(value: JsonValue): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

import { createHash } from 'node:crypto';
import { canonicalJson, type JsonValue } from '../../core/index.ts';

/**
 * The content hash of a value (lowercase hex SHA-256 of its canonical JSON), computed
 * synchronously with node:crypto. It equals core's `contentHash`, whose asynchronous Web Crypto
 * digest would make every job of a group commit wait for a thread-pool round trip while the
 * write queue holds the transaction.
 */
export function contentHashSync(value: JsonValue): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

import { LcmError } from '../../core/index.ts';
import type { KekProviderKind } from './key-provider.ts';

/**
 * The error for a provider that cannot be used right now: unreachable, timed out, 5xx, or an
 * answer that makes no sense. No cause is attached: a client library's error can carry the
 * request body, which holds key material.
 */
export function kekUnavailable(provider: KekProviderKind, reason: string): LcmError {
  return new LcmError('kek_unavailable', `the ${provider} key provider is unavailable: ${reason}`);
}

/** The error for a wrapped data key the provider refuses to unwrap. */
export function kekRefused(provider: KekProviderKind, reason: string): LcmError {
  return new LcmError(
    'decrypt_failed',
    `the ${provider} key provider refused the data key: ${reason}`,
  );
}

/** True when `error` is a `kek_unavailable` error, the kind worth retrying. */
export function isKekUnavailable(error: unknown): boolean {
  return error instanceof LcmError && error.code === 'kek_unavailable';
}

/** Short, key-free words for a network failure of a client library. */
export function networkReason(error: unknown): string {
  const fields = (error ?? {}) as { code?: unknown; name?: unknown };
  const code = typeof fields.code === 'string' ? fields.code : undefined;
  const name = typeof fields.name === 'string' ? fields.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError' || code === 'ECONNABORTED') {
    return 'the request timed out';
  }
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return `network error ${code}`;
  return `request failed (${name ?? 'unknown error'})`;
}

/** Which key-encryption key provider wraps the tenants' data keys. */
export type KekProviderKind = 'local' | 'vault' | 'aws-kms';

/**
 * A data key wrapped by a key-encryption key (KEK). Only the provider that made it can unwrap it;
 * `ciphertext` is that provider's own text (base64 or Vault's `vault:vN:` form).
 */
export interface WrappedDataKey {
  /** The provider that wrapped it. */
  provider: KekProviderKind;
  /** Which KEK wrapped it: a local key fingerprint, a Vault key name, a KMS key ARN. */
  kekId: string;
  ciphertext: string;
}

/** A data key fresh from a provider: the plaintext to use and the wrapped form to store. */
export interface GeneratedDataKey {
  /** 32 bytes; the caller wipes them when done. */
  plaintext: Uint8Array;
  wrapped: WrappedDataKey;
}

/**
 * A source of key-encryption keys. Every call binds the tenant (as additional data, Vault
 * derivation context or KMS encryption context), so a wrapped key moved to another tenant does
 * not unwrap. Failures are `LcmError`s: `kek_unavailable` when the provider cannot be reached,
 * times out or answers nonsense, `decrypt_failed` when it refuses the ciphertext. Their messages
 * and causes never hold key material.
 */
export interface KeyProvider {
  readonly kind: KekProviderKind;
  /** The KEK new wraps go to, as it appears in {@link WrappedDataKey.kekId}. */
  readonly currentKekId: string;
  /** A new random data key for `tenant`, with its wrapped form. */
  generateDataKey(tenant: string): Promise<GeneratedDataKey>;
  /** Wraps an existing data key under the current KEK. */
  wrap(tenant: string, plaintext: Uint8Array): Promise<WrappedDataKey>;
  /** Unwraps a data key this provider wrapped, under whichever of its KEKs wrapped it. */
  unwrap(tenant: string, wrapped: WrappedDataKey): Promise<Uint8Array>;
  /**
   * The same data key wrapped under the current KEK (a new master key, Vault key version or KMS
   * key), without the plaintext leaving the provider where the provider allows that.
   */
  rewrap(tenant: string, wrapped: WrappedDataKey): Promise<WrappedDataKey>;
  /** Stops timers and closes connections. */
  close(): Promise<void>;
}

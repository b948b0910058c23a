import { canonicalJson } from './content-hash.ts';
import {
  base64ToBytes,
  bytesToBase64,
  type CryptoKey,
  randomBytes,
  toBufferSource,
} from './crypto-bytes.ts';
import { LcmError } from './errors.ts';
import { assertJsonValue, type JsonValue } from './json-value.ts';
import { assertEntryKey, assertTenantId } from './names.ts';

/** Format version of {@link SecretEnvelope}. */
export const ENVELOPE_FORMAT_VERSION = 1;

/** The only cipher an envelope uses: AES-256-GCM with a 128-bit tag. */
export const ENVELOPE_ALGORITHM = 'A256GCM';

/** Length of a data key (DEK), in bytes. */
export const DATA_KEY_BYTES = 32;

/** Length of a GCM initialization vector, in bytes: 96 bits, fresh for every seal. */
export const GCM_IV_BYTES = 12;

/** Length of a GCM authentication tag, in bytes. */
export const GCM_TAG_BYTES = 16;

const AAD_LABEL = 'lcm-secret/v1';
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A sealed secret value as it is stored and replicated: a plain JSON object with base64 fields.
 * `ct` is the GCM ciphertext with its 16-byte tag at the end.
 */
export interface SecretEnvelope {
  /** Envelope format version, {@link ENVELOPE_FORMAT_VERSION}. */
  v: typeof ENVELOPE_FORMAT_VERSION;
  /** Cipher, {@link ENVELOPE_ALGORITHM}. */
  alg: typeof ENVELOPE_ALGORITHM;
  /** Version of the tenant's data key that sealed the value. */
  dekVersion: number;
  /** The 96-bit IV, base64. */
  iv: string;
  /** Ciphertext followed by the tag, base64. */
  ct: string;
}

/**
 * What a sealed value is bound to. Opening with any other tenant, key, secret version or data key
 * version fails, so a ciphertext copied elsewhere is useless.
 */
export interface SecretBinding {
  tenant: string;
  key: string;
  /** The secret's own version: 1 for its first value, one more for each new value. */
  secretVersion: number;
  /** Version of the tenant's data key. */
  dekVersion: number;
}

/**
 * The GCM additional data of a secret: the canonical JSON of a labelled array, which cannot be
 * ambiguous the way joined strings can. The one place this binding is built.
 */
export function secretAdditionalData(binding: SecretBinding): Uint8Array<ArrayBuffer> {
  assertTenantId(binding.tenant);
  assertEntryKey(binding.key);
  assertPositiveInteger(binding.secretVersion, 'secret version');
  assertPositiveInteger(binding.dekVersion, 'data key version');
  const fields = [
    AAD_LABEL,
    binding.tenant,
    binding.key,
    binding.secretVersion,
    binding.dekVersion,
  ];
  return toBufferSource(utf8.encode(canonicalJson(fields)));
}

/** A new random 32-byte data key. */
export function generateDataKeyBytes(): Uint8Array {
  return randomBytes(DATA_KEY_BYTES);
}

/** Imports 32 raw bytes as a non-extractable AES-256-GCM key for sealing and opening. */
export async function importDataKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.byteLength !== DATA_KEY_BYTES) {
    throw new LcmError('bad_value', `a data key is ${DATA_KEY_BYTES} bytes`);
  }
  return crypto.subtle.importKey('raw', toBufferSource(raw), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
}

/**
 * Seals `value` under `dataKey` with a fresh random IV, bound to `binding`. The caller passes the
 * data key whose version is `binding.dekVersion`.
 */
export async function sealSecret(
  dataKey: CryptoKey,
  binding: SecretBinding,
  value: JsonValue,
): Promise<SecretEnvelope> {
  assertJsonValue(value);
  const iv = randomBytes(GCM_IV_BYTES);
  const plaintext = utf8.encode(JSON.stringify(value));

  const ciphertext = await crypto.subtle.encrypt(
    {
      name: 'AES-GCM',
      iv: toBufferSource(iv),
      additionalData: secretAdditionalData(binding),
      tagLength: GCM_TAG_BYTES * 8,
    },
    dataKey,
    plaintext,
  );
  plaintext.fill(0);

  return {
    v: ENVELOPE_FORMAT_VERSION,
    alg: ENVELOPE_ALGORITHM,
    dekVersion: binding.dekVersion,
    iv: bytesToBase64(iv),
    ct: bytesToBase64(new Uint8Array(ciphertext)),
  };
}

/**
 * Opens an envelope sealed by {@link sealSecret}. Throws `decrypt_failed` when the envelope was
 * changed, moved to another tenant or key, or is opened with the wrong data key or version; the
 * message never says more than that.
 */
export async function openSecret(
  dataKey: CryptoKey,
  binding: SecretBinding,
  envelope: SecretEnvelope,
): Promise<JsonValue> {
  assertSecretEnvelope(envelope);
  if (envelope.dekVersion !== binding.dekVersion) {
    throw new LcmError('decrypt_failed', 'the secret was sealed under another data key version');
  }

  const iv = base64ToBytes(envelope.iv);
  const ciphertext = base64ToBytes(envelope.ct);
  let plaintext: ArrayBuffer;
  try {
    plaintext = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: toBufferSource(iv),
        additionalData: secretAdditionalData(binding),
        tagLength: GCM_TAG_BYTES * 8,
      },
      dataKey,
      toBufferSource(ciphertext),
    );
  } catch (error) {
    throw new LcmError('decrypt_failed', 'the secret does not open under this binding', {
      cause: error,
    });
  }

  const bytes = new Uint8Array(plaintext);
  try {
    const value: unknown = JSON.parse(strictUtf8.decode(bytes));
    assertJsonValue(value);
    return value;
  } finally {
    bytes.fill(0);
  }
}

/** True when `value` has the shape of a {@link SecretEnvelope}. */
export function isSecretEnvelope(value: unknown): value is SecretEnvelope {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const fields = value as Record<string, unknown>;
  return (
    fields.v === ENVELOPE_FORMAT_VERSION &&
    fields.alg === ENVELOPE_ALGORITHM &&
    Number.isSafeInteger(fields.dekVersion) &&
    (fields.dekVersion as number) > 0 &&
    typeof fields.iv === 'string' &&
    fields.iv.length === 16 &&
    typeof fields.ct === 'string' &&
    fields.ct.length >= 24
  );
}

/** Throws `bad_value` unless `value` has the shape of a {@link SecretEnvelope}. */
export function assertSecretEnvelope(value: unknown): asserts value is SecretEnvelope {
  if (!isSecretEnvelope(value)) {
    throw new LcmError('bad_value', 'not a sealed secret envelope');
  }
}

function assertPositiveInteger(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new LcmError('bad_value', `the ${what} must be a positive integer`);
  }
}

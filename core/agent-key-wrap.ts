import { canonicalJson } from './content-hash.ts';
import {
  base64ToBytes,
  bytesToBase64,
  type CryptoKey,
  randomBytes,
  toBufferSource,
} from './crypto-bytes.ts';
import { DATA_KEY_BYTES, GCM_IV_BYTES, GCM_TAG_BYTES } from './envelope.ts';
import { LcmError } from './errors.ts';
import { assertTenantId } from './names.ts';

/** Format version of {@link WrappedAgentDek}. */
export const AGENT_WRAP_FORMAT_VERSION = 1;

/** The wrapping scheme: ephemeral X25519 ECDH, HKDF-SHA256, AES-256-GCM. */
export const AGENT_WRAP_ALGORITHM = 'X25519-HKDF-SHA256-A256GCM';

/** Length of a raw X25519 public key, in bytes. */
export const X25519_PUBLIC_KEY_BYTES = 32;

/** Length of an X25519 public key in SPKI DER form, in bytes. */
export const X25519_SPKI_BYTES = 44;

const AAD_LABEL = 'lcm-agent-dek/v1';
const HKDF_INFO = new TextEncoder().encode('lcm agent data key wrap v1');
const AGENT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;
const utf8 = new TextEncoder();

/** An agent's X25519 key pair: the public key travels in hello, the private key never leaves. */
export interface AgentKeyPair {
  /** Raw 32-byte public key, base64. */
  publicKey: string;
  /** The private key, usable only for ECDH. */
  privateKey: CryptoKey;
}

/**
 * A tenant's data key wrapped to one agent's public key, as the hub sends it. Only the agent
 * holding the matching private key can open it, and only for the tenant, version and agent id
 * it names.
 */
export interface WrappedAgentDek {
  v: typeof AGENT_WRAP_FORMAT_VERSION;
  alg: typeof AGENT_WRAP_ALGORITHM;
  tenant: string;
  dekVersion: number;
  agentId: string;
  /** The sender's ephemeral X25519 public key, base64. */
  epk: string;
  /** The 96-bit IV, base64. */
  iv: string;
  /** The wrapped data key followed by the GCM tag, base64. */
  ct: string;
}

/** What a wrapped data key is bound to. */
export interface AgentWrapBinding {
  tenant: string;
  dekVersion: number;
  agentId: string;
}

/** The GCM additional data of a wrapped data key. The one place this binding is built. */
export function agentWrapAdditionalData(binding: AgentWrapBinding): Uint8Array<ArrayBuffer> {
  assertTenantId(binding.tenant);
  if (!Number.isSafeInteger(binding.dekVersion) || binding.dekVersion < 1) {
    throw new LcmError('bad_value', 'the data key version must be a positive integer');
  }
  assertAgentId(binding.agentId);
  const fields = [AAD_LABEL, binding.tenant, binding.dekVersion, binding.agentId];
  return toBufferSource(utf8.encode(canonicalJson(fields)));
}

/** Throws `bad_value` unless `agentId` is 1 to 128 characters of `[A-Za-z0-9._:-]`. */
export function assertAgentId(agentId: string): void {
  if (!AGENT_ID_PATTERN.test(agentId)) {
    throw new LcmError('bad_value', 'agent ids are 1 to 128 characters of A-Z a-z 0-9 . _ : -');
  }
}

/** Makes a new X25519 key pair for an agent. The private key is extractable so it can be saved. */
export async function generateAgentKeyPair(): Promise<AgentKeyPair> {
  const pair = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as {
    publicKey: CryptoKey;
    privateKey: CryptoKey;
  };
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
  return { publicKey: bytesToBase64(raw), privateKey: pair.privateKey };
}

/** The private key as PKCS #8 bytes, for the agent's key file. */
export async function exportAgentPrivateKey(privateKey: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey('pkcs8', privateKey));
}

/**
 * Loads a key pair from the PKCS #8 bytes of its private key; the public key is recomputed, so a
 * key file holds one thing only.
 */
export async function importAgentPrivateKey(pkcs8: Uint8Array): Promise<AgentKeyPair> {
  let privateKey: CryptoKey;
  try {
    privateKey = await crypto.subtle.importKey('pkcs8', toBufferSource(pkcs8), 'X25519', true, [
      'deriveBits',
    ]);
  } catch (error) {
    throw new LcmError('bad_value', 'the agent key is not an X25519 private key', { cause: error });
  }
  const jwk = await crypto.subtle.exportKey('jwk', privateKey);
  const publicKey = await crypto.subtle.importKey(
    'jwk',
    { kty: 'OKP', crv: 'X25519', x: jwk.x },
    'X25519',
    true,
    [],
  );
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', publicKey));
  return { publicKey: bytesToBase64(raw), privateKey };
}

/**
 * Imports an agent's public key from base64 of either the raw 32-byte X25519 key or its SPKI DER
 * form (44 bytes); throws `bad_value` for anything else.
 */
export async function importAgentPublicKey(publicKey: string): Promise<CryptoKey> {
  const bytes = base64ToBytes(publicKey);
  const format = bytes.byteLength === X25519_SPKI_BYTES ? 'spki' : 'raw';
  if (format === 'raw' && bytes.byteLength !== X25519_PUBLIC_KEY_BYTES) {
    throw new LcmError('bad_value', 'an agent public key is 32 bytes of X25519 (or its SPKI)');
  }
  try {
    return await crypto.subtle.importKey(format, toBufferSource(bytes), 'X25519', true, []);
  } catch (error) {
    throw new LcmError('bad_value', 'the agent public key is not valid X25519', { cause: error });
  }
}

/** The raw 32-byte form, base64, of an agent public key given raw or as SPKI. */
export async function rawAgentPublicKey(publicKey: string): Promise<string> {
  const key = await importAgentPublicKey(publicKey);
  return bytesToBase64(new Uint8Array(await crypto.subtle.exportKey('raw', key)));
}

/** A wrapped data key as bytes for the wire: the UTF-8 of its JSON. */
export function encodeWrappedAgentDek(wrapped: WrappedAgentDek): Uint8Array {
  return utf8.encode(JSON.stringify(wrapped));
}

/** Reads bytes made by {@link encodeWrappedAgentDek}; throws `bad_value` for anything else. */
export function decodeWrappedAgentDek(bytes: Uint8Array): WrappedAgentDek {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (error) {
    throw new LcmError('bad_value', 'not a wrapped data key', { cause: error });
  }
  assertWrappedAgentDek(value);
  return value;
}

/** Wraps a 32-byte data key to an agent's public key under a fresh ephemeral key pair. */
export async function wrapDekForAgent(
  dataKey: Uint8Array,
  agentPublicKey: string,
  binding: AgentWrapBinding,
): Promise<WrappedAgentDek> {
  if (dataKey.byteLength !== DATA_KEY_BYTES) {
    throw new LcmError('bad_value', `a data key is ${DATA_KEY_BYTES} bytes`);
  }
  const additionalData = agentWrapAdditionalData(binding);
  const recipient = await importAgentPublicKey(agentPublicKey);
  const recipientRaw = await rawAgentPublicKey(agentPublicKey);
  const ephemeral = await generateAgentKeyPair();

  const wrappingKey = await deriveWrappingKey(
    ephemeral.privateKey,
    recipient,
    ephemeral.publicKey,
    recipientRaw,
    ['encrypt'],
  );
  const iv = randomBytes(GCM_IV_BYTES);
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv: toBufferSource(iv), additionalData, tagLength: GCM_TAG_BYTES * 8 },
    wrappingKey,
    toBufferSource(dataKey),
  );

  return {
    v: AGENT_WRAP_FORMAT_VERSION,
    alg: AGENT_WRAP_ALGORITHM,
    tenant: binding.tenant,
    dekVersion: binding.dekVersion,
    agentId: binding.agentId,
    epk: ephemeral.publicKey,
    iv: bytesToBase64(iv),
    ct: bytesToBase64(new Uint8Array(ciphertext)),
  };
}

/**
 * Opens a wrapped data key with the agent's key pair. `expected` is what the agent asked for: a
 * wrap naming another tenant, version or agent, or changed in any byte, throws `decrypt_failed`.
 */
export async function unwrapDekForAgent(
  wrapped: WrappedAgentDek,
  agent: AgentKeyPair,
  expected: AgentWrapBinding,
): Promise<Uint8Array> {
  assertWrappedAgentDek(wrapped);
  if (
    wrapped.tenant !== expected.tenant ||
    wrapped.dekVersion !== expected.dekVersion ||
    wrapped.agentId !== expected.agentId
  ) {
    throw new LcmError('decrypt_failed', 'the wrapped data key names another binding');
  }

  const additionalData = agentWrapAdditionalData(expected);
  const ephemeral = await importAgentPublicKey(wrapped.epk);
  const wrappingKey = await deriveWrappingKey(
    agent.privateKey,
    ephemeral,
    wrapped.epk,
    agent.publicKey,
    ['decrypt'],
  );

  try {
    const dataKey = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: toBufferSource(base64ToBytes(wrapped.iv)),
        additionalData,
        tagLength: GCM_TAG_BYTES * 8,
      },
      wrappingKey,
      toBufferSource(base64ToBytes(wrapped.ct)),
    );
    if (dataKey.byteLength !== DATA_KEY_BYTES) throw new Error('wrong data key length');
    return new Uint8Array(dataKey);
  } catch (error) {
    throw new LcmError('decrypt_failed', 'the wrapped data key does not open for this agent', {
      cause: error,
    });
  }
}

/** True when `value` has the shape of a {@link WrappedAgentDek}. */
export function isWrappedAgentDek(value: unknown): value is WrappedAgentDek {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const fields = value as Record<string, unknown>;
  return (
    fields.v === AGENT_WRAP_FORMAT_VERSION &&
    fields.alg === AGENT_WRAP_ALGORITHM &&
    typeof fields.tenant === 'string' &&
    Number.isSafeInteger(fields.dekVersion) &&
    typeof fields.agentId === 'string' &&
    typeof fields.epk === 'string' &&
    typeof fields.iv === 'string' &&
    typeof fields.ct === 'string'
  );
}

/** Throws `bad_value` unless `value` has the shape of a {@link WrappedAgentDek}. */
export function assertWrappedAgentDek(value: unknown): asserts value is WrappedAgentDek {
  if (!isWrappedAgentDek(value)) throw new LcmError('bad_value', 'not a wrapped data key');
}

/**
 * ECDH, then HKDF-SHA256 salted with both public keys, so the derived key belongs to this one
 * exchange. An all-zero shared secret means a small-order public key and is refused.
 */
async function deriveWrappingKey(
  privateKey: CryptoKey,
  peerPublicKey: CryptoKey,
  ephemeralPublicKey: string,
  recipientPublicKey: string,
  usages: Array<'encrypt' | 'decrypt'>,
): Promise<CryptoKey> {
  let shared: Uint8Array;
  try {
    shared = new Uint8Array(
      await crypto.subtle.deriveBits({ name: 'X25519', public: peerPublicKey }, privateKey, 256),
    );
  } catch (error) {
    throw new LcmError('decrypt_failed', 'the key agreement failed', { cause: error });
  }
  if (shared.every((byte) => byte === 0)) {
    throw new LcmError('decrypt_failed', 'the key agreement produced a weak shared secret');
  }

  const salt = new Uint8Array(X25519_PUBLIC_KEY_BYTES * 2);
  salt.set(base64ToBytes(ephemeralPublicKey), 0);
  salt.set(base64ToBytes(recipientPublicKey), X25519_PUBLIC_KEY_BYTES);
  const ikm = await crypto.subtle.importKey('raw', toBufferSource(shared), 'HKDF', false, [
    'deriveKey',
  ]);
  shared.fill(0);

  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt, info: toBufferSource(HKDF_INFO) },
    ikm,
    { name: 'AES-GCM', length: 256 },
    false,
    usages,
  );
}

import { LcmError } from './errors.ts';

const BASE64_PATTERN = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64 (RFC 4648, with padding) of `bytes`, without Node's Buffer. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/**
 * The bytes of a standard base64 text. Throws `bad_value` for anything that is not canonical,
 * padded base64, so that a tampered envelope fails on its shape before it reaches the cipher.
 */
export function base64ToBytes(text: string): Uint8Array {
  if (!BASE64_PATTERN.test(text)) throw new LcmError('bad_value', 'a field is not valid base64');
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** `length` bytes from the runtime's cryptographically secure generator. */
export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

/** Overwrites `bytes` with zeros, to shorten the life of key material in memory. */
export function wipeBytes(bytes: Uint8Array): void {
  bytes.fill(0);
}

/** `bytes` as a fresh ArrayBuffer-backed view, the form Web Crypto's TypeScript types accept. */
export function toBufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/**
 * A Web Crypto key. Named from the global `crypto` rather than a DOM or `node:` type, so that
 * core stays free of both and runs on every runtime.
 */
export type CryptoKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  base64ToBytes,
  bytesToBase64,
  type CryptoKey,
  canonicalJson,
  DATA_KEY_BYTES,
  generateDataKeyBytes,
  LcmError,
  randomBytes,
  sha256Hex,
} from '../../core/index.ts';
import { kekRefused } from './kek-errors.ts';
import type { GeneratedDataKey, KeyProvider, WrappedDataKey } from './key-provider.ts';

/** Name of the master key file in the origin's data folder. */
export const MASTER_KEY_FILE = 'master.key';

const MASTER_KEY_MODE = 0o600;
const IV_BYTES = 12;
const AAD_LABEL = 'lcm-dek/local/v1';
const utf8 = new TextEncoder();

/** Where a local master key came from, for the start-up log. */
export type MasterKeySource = 'env' | 'file' | 'created';

/**
 * Reads a master key from `LCM_MASTER_KEY` (base64 or hex of 32 bytes) or from
 * `DATA/master.key`, creating that file with a new random key and mode 0600 on first start. A key
 * file that others may read is refused, as ssh refuses such a private key.
 */
export async function loadLocalMasterKey(
  dataDir: string,
  envKey: string | undefined,
): Promise<{ masterKey: Uint8Array; source: MasterKeySource }> {
  if (envKey !== undefined && envKey !== '') {
    return { masterKey: parseMasterKey(envKey, 'LCM_MASTER_KEY'), source: 'env' };
  }

  const path = join(dataDir, MASTER_KEY_FILE);
  await mkdir(dataDir, { recursive: true });
  try {
    const file = await open(path, 'wx', MASTER_KEY_MODE);
    const masterKey = randomBytes(DATA_KEY_BYTES);
    try {
      await file.writeFile(`${bytesToBase64(masterKey)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
    await chmod(path, MASTER_KEY_MODE);
    return { masterKey, source: 'created' };
  } catch (error) {
    if ((error as { code?: string }).code !== 'EEXIST') throw error;
  }

  const mode = (await stat(path)).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new Error(
      `${path} may be read by other users (mode ${mode.toString(8)}); run chmod 600 on it`,
    );
  }
  const text = (await readFile(path, 'utf8')).trim();
  return { masterKey: parseMasterKey(text, path), source: 'file' };
}

/** A 32-byte master key from base64 or hex text; throws an Error naming `where` otherwise. */
export function parseMasterKey(text: string, where: string): Uint8Array {
  const trimmed = text.trim();
  let bytes: Uint8Array | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    bytes = Uint8Array.from(trimmed.match(/../g)!, (pair) => Number.parseInt(pair, 16));
  } else {
    try {
      bytes = base64ToBytes(trimmed);
    } catch {
      bytes = undefined;
    }
  }
  if (bytes?.byteLength !== DATA_KEY_BYTES) {
    throw new Error(`${where} must hold 32 bytes as base64 or hex`);
  }
  return bytes;
}

interface MasterKey {
  kekId: string;
  key: CryptoKey;
}

/**
 * The embedded key provider: data keys wrapped with AES-256-GCM under a local master key, the
 * tenant bound as additional data. Earlier master keys can be listed so that data keys wrapped
 * under them still unwrap until `lcm keys rewrap` moves them to the current one.
 */
export class LocalKeyProvider implements KeyProvider {
  readonly kind = 'local' as const;
  readonly currentKekId: string;
  readonly #keys: Map<string, CryptoKey>;
  readonly #current: CryptoKey;

  private constructor(current: MasterKey, previous: MasterKey[]) {
    this.currentKekId = current.kekId;
    this.#current = current.key;
    this.#keys = new Map([current, ...previous].map((k) => [k.kekId, k.key]));
  }

  /** A provider wrapping under `masterKey`, still able to unwrap under `previousMasterKeys`. */
  static async create(
    masterKey: Uint8Array,
    previousMasterKeys: Uint8Array[] = [],
  ): Promise<LocalKeyProvider> {
    const current = await importMasterKey(masterKey);
    const previous = await Promise.all(previousMasterKeys.map(importMasterKey));
    return new LocalKeyProvider(current, previous);
  }

  async generateDataKey(tenant: string): Promise<GeneratedDataKey> {
    const plaintext = generateDataKeyBytes();
    return { plaintext, wrapped: await this.wrap(tenant, plaintext) };
  }

  async wrap(tenant: string, plaintext: Uint8Array): Promise<WrappedDataKey> {
    if (plaintext.byteLength !== DATA_KEY_BYTES) {
      throw new LcmError('bad_value', `a data key is ${DATA_KEY_BYTES} bytes`);
    }
    const iv = randomBytes(IV_BYTES);
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: copy(iv), additionalData: localWrapAdditionalData(tenant) },
      this.#current,
      copy(plaintext),
    );

    const ciphertext = new Uint8Array(IV_BYTES + sealed.byteLength);
    ciphertext.set(iv, 0);
    ciphertext.set(new Uint8Array(sealed), IV_BYTES);
    return { provider: 'local', kekId: this.currentKekId, ciphertext: bytesToBase64(ciphertext) };
  }

  async unwrap(tenant: string, wrapped: WrappedDataKey): Promise<Uint8Array> {
    const key = this.#keys.get(wrapped.kekId);
    if (wrapped.provider !== 'local' || key === undefined) {
      throw kekRefused('local', `no local master key ${wrapped.kekId} is configured`);
    }

    let bytes: Uint8Array;
    try {
      bytes = base64ToBytes(wrapped.ciphertext);
    } catch {
      throw kekRefused('local', 'the wrapped data key is not base64');
    }
    try {
      const plaintext = await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: copy(bytes.subarray(0, IV_BYTES)),
          additionalData: localWrapAdditionalData(tenant),
        },
        key,
        copy(bytes.subarray(IV_BYTES)),
      );
      if (plaintext.byteLength !== DATA_KEY_BYTES) throw new Error('length');
      return new Uint8Array(plaintext);
    } catch {
      throw kekRefused('local', 'the wrapped data key does not open for this tenant');
    }
  }

  async rewrap(tenant: string, wrapped: WrappedDataKey): Promise<WrappedDataKey> {
    const plaintext = await this.unwrap(tenant, wrapped);
    try {
      return await this.wrap(tenant, plaintext);
    } finally {
      plaintext.fill(0);
    }
  }

  async close(): Promise<void> {}
}

/** The additional data of a locally wrapped data key: the tenant, labelled. */
export function localWrapAdditionalData(tenant: string): Uint8Array<ArrayBuffer> {
  return copy(utf8.encode(canonicalJson([AAD_LABEL, tenant])));
}

async function importMasterKey(raw: Uint8Array): Promise<MasterKey> {
  if (raw.byteLength !== DATA_KEY_BYTES) throw new Error('a master key is 32 bytes');
  const fingerprint = await sha256Hex(utf8.encode(`lcm master key id:${bytesToBase64(raw)}`));
  const key = await crypto.subtle.importKey('raw', copy(raw), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
  return { kekId: `local:${fingerprint.slice(0, 16)}`, key };
}

function copy(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.byteLength);
  out.set(bytes);
  return out;
}

import { type CryptoKey, importDataKey } from '../../core/index.ts';

/** An unwrapped data key held in memory. */
export interface CachedDataKey {
  /** The 32 raw bytes, needed to wrap the key to agents. */
  raw: Uint8Array;
  /** The same key imported for AES-GCM. */
  key: CryptoKey;
}

interface Slot {
  dataKey: CachedDataKey;
  expiresAt: number;
}

/** Settings of a {@link DataKeyCache}. */
export interface DataKeyCacheOptions {
  /** How long an unwrapped data key is served without asking the provider again. */
  ttlMs: number;
  /**
   * How long past its TTL a data key may still be served when the provider is unavailable, so
   * that reads keep working through a Vault or KMS outage. 0 turns this off.
   */
  staleIfErrorMs: number;
  /** The clock, replaceable in tests. */
  now?: () => number;
}

/**
 * Unwrapped data keys in memory with a TTL, so that a wave of agent reconnects or reads costs one
 * provider call per tenant key, not one per request. Expired keys are wiped and dropped once
 * they are past the stale-if-error window too.
 */
export class DataKeyCache {
  readonly #slots = new Map<string, Slot>();
  readonly #options: DataKeyCacheOptions;
  readonly #now: () => number;

  constructor(options: DataKeyCacheOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The key when cached and within its TTL. */
  fresh(tenant: string, version: number): CachedDataKey | undefined {
    const slot = this.#slot(tenant, version);
    return slot !== undefined && slot.expiresAt > this.#now() ? slot.dataKey : undefined;
  }

  /** The key when cached and within its TTL plus the stale-if-error window. */
  stale(tenant: string, version: number): CachedDataKey | undefined {
    return this.#slot(tenant, version)?.dataKey;
  }

  /** Caches a copy of `raw` as the data key `version` of `tenant`. */
  async put(tenant: string, version: number, raw: Uint8Array): Promise<CachedDataKey> {
    const dataKey = { raw: new Uint8Array(raw), key: await importDataKey(raw) };
    const previous = this.#slots.get(slotName(tenant, version));
    if (previous !== undefined && previous.dataKey.raw !== dataKey.raw) {
      previous.dataKey.raw.fill(0);
    }
    this.#slots.set(slotName(tenant, version), {
      dataKey,
      expiresAt: this.#now() + this.#options.ttlMs,
    });
    return dataKey;
  }

  /** Forgets every key of `tenant`, or everything. */
  clear(tenant?: string): void {
    for (const [name, slot] of this.#slots) {
      if (tenant !== undefined && !name.startsWith(`${tenant}\u0000`)) continue;
      slot.dataKey.raw.fill(0);
      this.#slots.delete(name);
    }
  }

  /** Number of keys held, expired ones included until they are dropped. */
  get size(): number {
    return this.#slots.size;
  }

  #slot(tenant: string, version: number): Slot | undefined {
    const name = slotName(tenant, version);
    const slot = this.#slots.get(name);
    if (slot === undefined) return undefined;
    if (slot.expiresAt + this.#options.staleIfErrorMs <= this.#now()) {
      slot.dataKey.raw.fill(0);
      this.#slots.delete(name);
      return undefined;
    }
    return slot;
  }
}

function slotName(tenant: string, version: number): string {
  return `${tenant}\u0000${version}`;
}

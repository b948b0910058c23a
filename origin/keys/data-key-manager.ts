import { assertTenantId, type CryptoKey, type DataKeyLookup, LcmError } from '../../core/index.ts';
import type { CachedDataKey, DataKeyCache } from './data-key-cache.ts';
import { isKekUnavailable } from './kek-errors.ts';
import { DEFAULT_KEK_RETRY, type KekRetryOptions, withKekRetry } from './kek-retry.ts';
import type { KeyProvider, WrappedDataKey } from './key-provider.ts';
import {
  activateVersion,
  type DataKeyVersionInfo,
  ensureKeyTables,
  insertPending,
  type KeyTableReader,
  type KeyTableWriter,
  nextVersion,
  readActiveVersion,
  readAllWrapped,
  readVersions,
  readWrapped,
  retireVersions,
  storeRewrapped,
} from './key-tables.ts';

export type { DataKeyVersionInfo, KeyTableReader, KeyTableWriter } from './key-tables.ts';

/** What the manager reports, for the origin's log, metrics and the replication hub. */
export type DataKeyEvent =
  | { type: 'data_key_created'; tenant: string; version: number }
  | { type: 'data_key_retired'; tenant: string; version: number }
  | { type: 'stale_data_key_served'; tenant: string; version: number }
  | { type: 'provider_call'; operation: 'generate' | 'unwrap' | 'rewrap'; ok: boolean };

/** Settings of a {@link DataKeyManager}. */
export interface DataKeyManagerOptions {
  reader: KeyTableReader;
  writer: KeyTableWriter;
  provider: KeyProvider;
  cache: DataKeyCache;
  /** How reads retry an unavailable provider. */
  retry?: KekRetryOptions;
  onEvent?: (event: DataKeyEvent) => void;
}

/**
 * Called with a new data key version before any write may use it, so that the replication hub
 * can hand it to every connected agent first; agents then never see a secret they cannot open.
 */
export type DataKeyPublisher = (tenant: string, version: number) => Promise<void>;

/**
 * Per-tenant data keys (DEKs) at the origin: created on a tenant's first secret, versioned,
 * stored wrapped by the key provider in the origin database, unwrapped on demand into a TTL
 * cache. New writes use the highest version; older versions stay readable.
 */
export class DataKeyManager {
  readonly #options: DataKeyManagerOptions;
  readonly #unwrapping = new Map<string, Promise<CachedDataKey>>();
  readonly #creating = new Map<string, Promise<number>>();
  readonly #listeners = new Set<(event: DataKeyEvent) => void>();
  #publisher: DataKeyPublisher | undefined;

  private constructor(options: DataKeyManagerOptions) {
    this.#options = options;
    if (options.onEvent !== undefined) this.#listeners.add(options.onEvent);
  }

  /** Creates the key tables when missing and returns the manager. */
  static async open(options: DataKeyManagerOptions): Promise<DataKeyManager> {
    await options.writer.run(async (tx) => {
      await ensureKeyTables(tx);
      return { result: undefined };
    });
    return new DataKeyManager(options);
  }

  /** The provider wrapping this origin's data keys. */
  get provider(): KeyProvider {
    return this.#options.provider;
  }

  /** Sets the publisher told of each new version before it becomes active. */
  setPublisher(publisher: DataKeyPublisher | undefined): void {
    this.#publisher = publisher;
  }

  /** Hears every event; returns a function that stops listening. */
  onEvent(listener: (event: DataKeyEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * The data key new secrets of `tenant` are sealed with, made on the tenant's first secret.
   * A provider that is down fails the write at once with `kek_unavailable`, before anything is
   * written.
   */
  async currentDataKey(tenant: string): Promise<{ version: number; key: CryptoKey }> {
    assertTenantId(tenant);
    let version = await this.#activeVersion(tenant);
    if (version === undefined) version = await this.#createFirst(tenant);
    const dataKey = await this.#dataKey(tenant, version, false);
    return { version, key: dataKey.key };
  }

  /** The data key `version` of `tenant` for reading; retries an unavailable provider. */
  async dataKey(tenant: string, version: number): Promise<CryptoKey> {
    return (await this.#dataKey(tenant, version, true)).key;
  }

  /** The raw bytes of a data key, for wrapping it to an agent. The caller must not keep them. */
  async rawDataKey(tenant: string, version: number): Promise<Uint8Array> {
    return (await this.#dataKey(tenant, version, true)).raw;
  }

  /** A lookup for `openSecretRecord` and `resealSecretRecord`. */
  readonly lookup: DataKeyLookup = (tenant, version) => this.dataKey(tenant, version);

  /** Every data key version of `tenant`, newest first. */
  async versions(tenant: string): Promise<DataKeyVersionInfo[]> {
    assertTenantId(tenant);
    return readVersions(this.#options.reader, tenant);
  }

  /**
   * Makes a new data key version for `tenant`, which every later write uses. Older versions turn
   * `decrypt-only` and keep opening what they sealed.
   */
  async createVersion(tenant: string): Promise<number> {
    assertTenantId(tenant);
    const generated = await this.#generate(tenant);
    try {
      const version = await this.#options.writer.run(async (tx) => {
        const next = await nextVersion(tx, tenant);
        await insertPending(tx, tenant, next, generated.wrapped);
        return { result: next };
      });
      await this.#options.cache.put(tenant, version, generated.plaintext);
      await this.#activate(tenant, version);
      return version;
    } finally {
      generated.plaintext.fill(0);
    }
  }

  /** Publishes a pending version, then makes it the one writes use. */
  async #activate(tenant: string, version: number): Promise<void> {
    try {
      await this.#publisher?.(tenant, version);
    } catch {
      // An agent that missed the key gets it with its next hello; writes must not wait on it.
    }
    await this.#options.writer.run(async (tx) => {
      await activateVersion(tx, tenant, version);
      return { result: undefined };
    });
    this.#emit({ type: 'data_key_created', tenant, version });
  }

  /**
   * Marks versions older than the active one `retired` once `inUse` no longer lists them. A
   * retired key is not sent to agents any more; its wrapped row stays for history and rollback.
   */
  async retireUnused(tenant: string, inUse: ReadonlySet<number>): Promise<number[]> {
    const candidates = (await this.versions(tenant)).filter(
      (info) => info.state === 'decrypt-only' && !inUse.has(info.version),
    );
    if (candidates.length === 0) return [];
    await this.#options.writer.run(async (tx) => {
      await retireVersions(
        tx,
        tenant,
        candidates.map((info) => info.version),
      );
      return { result: undefined };
    });
    for (const info of candidates) {
      this.#emit({ type: 'data_key_retired', tenant, version: info.version });
    }
    return candidates.map((info) => info.version);
  }

  /**
   * Re-wraps every data key of every tenant under the provider's current KEK (a new master key,
   * Vault key version or KMS key). Each key is rewrapped and stored on its own, so a failure
   * leaves the others done and a second run finishes the rest.
   */
  async rewrapAll(
    onProgress?: (progress: { done: number; total: number }) => void,
  ): Promise<{ rewrapped: number; total: number }> {
    const all = await readAllWrapped(this.#options.reader);
    const total = all.length;
    let done = 0;

    for (const { tenant, version, wrapped } of all) {
      const rewrapped = await this.#rewrap(tenant, wrapped);
      await this.#options.writer.run(async (tx) => {
        await storeRewrapped(tx, tenant, version, rewrapped);
        return { result: undefined };
      });
      done++;
      onProgress?.({ done, total });
    }
    return { rewrapped: done, total };
  }

  #activeVersion(tenant: string): Promise<number | undefined> {
    return readActiveVersion(this.#options.reader, tenant);
  }

  /** One creation per tenant at a time; another origin racing us is settled by the key. */
  async #createFirst(tenant: string): Promise<number> {
    const running = this.#creating.get(tenant);
    if (running !== undefined) return running;

    const creation = (async () => {
      const generated = await this.#generate(tenant);
      try {
        const created = await this.#options.writer.run(async (tx) => {
          const existing = await tx.execute({
            sql: 'SELECT 1 FROM tenant_data_keys WHERE tenant = ? LIMIT 1',
            args: [tenant],
          });
          if (existing.rows.length > 0) return { result: false };
          await insertPending(tx, tenant, 1, generated.wrapped);
          return { result: true };
        });
        if (created) {
          await this.#options.cache.put(tenant, 1, generated.plaintext);
          await this.#activate(tenant, 1);
        }
        const version = await this.#activeVersion(tenant);
        if (version === undefined) {
          throw new LcmError('unavailable', `the first data key of ${tenant} is being made`);
        }
        return version;
      } finally {
        generated.plaintext.fill(0);
      }
    })();

    this.#creating.set(tenant, creation);
    try {
      return await creation;
    } finally {
      this.#creating.delete(tenant);
    }
  }

  async #dataKey(tenant: string, version: number, retry: boolean): Promise<CachedDataKey> {
    const cached = this.#options.cache.fresh(tenant, version);
    if (cached !== undefined) return cached;

    const name = `${tenant}\u0000${version}`;
    let unwrapping = this.#unwrapping.get(name);
    if (unwrapping === undefined) {
      unwrapping = this.#unwrap(tenant, version, retry).finally(() =>
        this.#unwrapping.delete(name),
      );
      this.#unwrapping.set(name, unwrapping);
    }

    try {
      return await unwrapping;
    } catch (error) {
      const stale = isKekUnavailable(error)
        ? this.#options.cache.stale(tenant, version)
        : undefined;
      if (stale === undefined) throw error;
      this.#emit({ type: 'stale_data_key_served', tenant, version });
      return stale;
    }
  }

  async #unwrap(tenant: string, version: number, retry: boolean): Promise<CachedDataKey> {
    const wrapped = await readWrapped(this.#options.reader, tenant, version);
    if (wrapped === undefined) {
      throw new LcmError('decrypt_failed', `tenant ${tenant} has no data key version ${version}`);
    }

    const unwrap = () => this.#call('unwrap', () => this.#options.provider.unwrap(tenant, wrapped));
    const raw = retry ? await withKekRetry(unwrap, this.#retry) : await unwrap();
    try {
      return await this.#options.cache.put(tenant, version, raw);
    } finally {
      raw.fill(0);
    }
  }

  #generate(tenant: string) {
    return this.#call('generate', () => this.#options.provider.generateDataKey(tenant));
  }

  #rewrap(tenant: string, wrapped: WrappedDataKey) {
    return this.#call('rewrap', () => this.#options.provider.rewrap(tenant, wrapped));
  }

  async #call<T>(operation: 'generate' | 'unwrap' | 'rewrap', run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.#emit({ type: 'provider_call', operation, ok: true });
      return result;
    } catch (error) {
      this.#emit({ type: 'provider_call', operation, ok: false });
      throw error;
    }
  }

  get #retry(): KekRetryOptions {
    return this.#options.retry ?? DEFAULT_KEK_RETRY;
  }

  #emit(event: DataKeyEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {}
    }
  }
}

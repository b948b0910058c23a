import {
  assertTenantId,
  dekVersionsOf,
  type Revision,
  resealSecretRecord,
  type SecretRecord,
} from '../../core/index.ts';
import type { DataKeyManager, KeyTableReader, KeyTableWriter } from './data-key-manager.ts';

/** Pause before a re-encryption that stopped on an error (a provider outage) tries again. */
export const REENCRYPT_RETRY_MS = 30_000;

/** A live secret entry as the re-encryption needs it. */
export interface StoredSecret {
  key: string;
  /** Tenant revision of the key's last change, the condition of its rewrite. */
  revision: Revision;
  record: SecretRecord;
}

/** Where the re-encryption reads and rewrites secrets: the origin store, seen narrowly. */
export interface SecretEntrySource {
  /** Live secrets of `tenant` with keys after `after`, in key order, at most `limit`. */
  listSecrets(tenant: string, after: string, limit: number): Promise<StoredSecret[]>;
  /** How many live secrets `tenant` has. */
  countSecrets(tenant: string): Promise<number>;
  /**
   * Stores re-sealed records, each only if its key is still at the revision read; keys that
   * changed meanwhile are returned and left alone (their new value used the new key already).
   */
  rewrite(tenant: string, secrets: StoredSecret[]): Promise<{ conflicted: string[] }>;
}

/** Progress of a tenant's re-encryption, as the API and `lcm keys rotate` show it. */
export interface RotationStatus {
  tenant: string;
  /** The data key version every secret is being moved to. */
  targetVersion: number;
  state: 'running' | 'done' | 'failed';
  /** Secrets checked so far, and how many there were at the start. */
  done: number;
  total: number;
  startedAt: number;
  finishedAt: number | null;
  /** Why the last run stopped, for `failed`; never holds a secret. */
  error?: string;
}

/** Settings of a {@link DataKeyRotation}. */
export interface DataKeyRotationOptions {
  reader: KeyTableReader;
  writer: KeyTableWriter;
  keys: DataKeyManager;
  secrets: SecretEntrySource;
  /** Secrets re-sealed per commit. */
  batchSize: number;
  /** Told of progress after every batch and of the end of each run. */
  onProgress?: (status: RotationStatus) => void;
  /** Pause before a stopped re-encryption tries again, ms; {@link REENCRYPT_RETRY_MS}. */
  retryMs?: number;
}

/**
 * Rotation of a tenant's data key without downtime: a new version for new writes at once, then
 * every existing secret re-sealed under it in the background, in batches, each batch one commit.
 * Progress lives in the database, so an origin that crashes resumes where it was. Old versions
 * stay readable throughout and are retired when no live secret uses them any more.
 */
export class DataKeyRotation {
  readonly #options: DataKeyRotationOptions;
  readonly #running = new Map<string, Promise<void>>();
  readonly #retries = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: DataKeyRotationOptions) {
    this.#options = options;
  }

  /** Makes a new data key version of `tenant` and starts moving every secret to it. */
  async rotate(tenant: string): Promise<RotationStatus> {
    assertTenantId(tenant);
    const targetVersion = await this.#options.keys.createVersion(tenant);
    const total = await this.#options.secrets.countSecrets(tenant);
    const startedAt = Date.now();

    await this.#options.writer.run(async (tx) => {
      await tx.execute({
        sql: `INSERT INTO data_key_rotations
                (tenant, target_version, cursor_key, done, total, state, started_at, finished_at)
              VALUES (?, ?, '', 0, ?, 'running', ?, NULL)
              ON CONFLICT (tenant) DO UPDATE SET target_version = excluded.target_version,
                cursor_key = '', done = 0, total = excluded.total, state = 'running',
                started_at = excluded.started_at, finished_at = NULL`,
        args: [tenant, targetVersion, total, startedAt],
      });
      return { result: undefined };
    });
    this.#start(tenant);
    return (await this.status(tenant))!;
  }

  /** Resumes every re-encryption a previous process left running. */
  async resumeAll(): Promise<string[]> {
    const result = await this.#options.reader.execute(
      "SELECT tenant FROM data_key_rotations WHERE state IN ('running', 'failed')",
    );
    const tenants = result.rows.map((row) => String(row[0]));
    for (const tenant of tenants) this.#start(tenant);
    return tenants;
  }

  /** The tenant's last or current re-encryption, or null when it never rotated. */
  async status(tenant: string): Promise<RotationStatus | null> {
    const result = await this.#options.reader.execute({
      sql: `SELECT target_version, state, done, total, started_at, finished_at
            FROM data_key_rotations WHERE tenant = ?`,
      args: [tenant],
    });
    const row = result.rows[0];
    if (row === undefined) return null;
    return {
      tenant,
      targetVersion: Number(row[0]),
      state: String(row[1]) as RotationStatus['state'],
      done: Number(row[2]),
      total: Number(row[3]),
      startedAt: Number(row[4]),
      finishedAt: row[5] === null ? null : Number(row[5]),
    };
  }

  /** Resolves when the tenant's background re-encryption (if any) has stopped. */
  async idle(tenant: string): Promise<void> {
    while (this.#running.has(tenant)) await this.#running.get(tenant);
  }

  /** Stops after the current batch; a later start resumes. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const timer of this.#retries) clearTimeout(timer);
    await Promise.allSettled([...this.#running.values()]);
  }

  #start(tenant: string): void {
    if (this.#running.has(tenant) || this.#closed) return;
    const run = this.#run(tenant).finally(() => this.#running.delete(tenant));
    this.#running.set(tenant, run);
  }

  async #run(tenant: string): Promise<void> {
    const { secrets, keys, batchSize } = this.#options;
    try {
      for (;;) {
        if (this.#closed) return;
        const row = await this.#row(tenant);
        if (row === undefined || row.state === 'done') return;
        const batch = await secrets.listSecrets(tenant, row.cursorKey, batchSize);
        if (batch.length === 0) break;

        const stale = batch.filter((secret) =>
          dekVersionsOf(secret.record).some((version) => version < row.targetVersion),
        );
        const resealed: StoredSecret[] = [];
        for (const secret of stale) {
          const context = { tenant, key: secret.key, lookup: keys.lookup };
          const record = await resealSecretRecord(secret.record, {
            ...context,
            dekVersion: row.targetVersion,
          });
          resealed.push({ ...secret, record });
        }
        if (resealed.length > 0) await secrets.rewrite(tenant, resealed);

        await this.#advance(tenant, row.targetVersion, batch.at(-1)!.key, batch.length);
      }

      await this.#finish(tenant);
    } catch (error) {
      await this.#fail(tenant, error).catch(() => {});
      const timer = setTimeout(() => {
        this.#retries.delete(timer);
        this.#start(tenant);
      }, this.#options.retryMs ?? REENCRYPT_RETRY_MS);
      timer.unref();
      this.#retries.add(timer);
    }
  }

  async #row(tenant: string) {
    const result = await this.#options.reader.execute({
      sql: 'SELECT target_version, cursor_key, state FROM data_key_rotations WHERE tenant = ?',
      args: [tenant],
    });
    const row = result.rows[0];
    if (row === undefined) return undefined;
    return { targetVersion: Number(row[0]), cursorKey: String(row[1]), state: String(row[2]) };
  }

  async #advance(tenant: string, target: number, cursorKey: string, count: number) {
    await this.#options.writer.run(async (tx) => {
      // A rotation started meanwhile reset the cursor for a newer target: leave its row be.
      await tx.execute({
        sql: `UPDATE data_key_rotations SET cursor_key = ?, done = done + ?, state = 'running'
              WHERE tenant = ? AND target_version = ?`,
        args: [cursorKey, count, tenant, target],
      });
      return { result: undefined };
    });
    this.#report(tenant);
  }

  async #finish(tenant: string): Promise<void> {
    const row = await this.#row(tenant);
    if (row === undefined) return;
    const inUse = new Set<number>([row.targetVersion]);
    for (let after = ''; ; ) {
      const batch = await this.#options.secrets.listSecrets(tenant, after, 500);
      if (batch.length === 0) break;
      for (const secret of batch) for (const v of dekVersionsOf(secret.record)) inUse.add(v);
      after = batch.at(-1)!.key;
    }
    await this.#options.keys.retireUnused(tenant, inUse);

    await this.#options.writer.run(async (tx) => {
      await tx.execute({
        sql: `UPDATE data_key_rotations SET state = 'done', finished_at = ?, done = total
              WHERE tenant = ? AND target_version = ?`,
        args: [Date.now(), tenant, row.targetVersion],
      });
      return { result: undefined };
    });
    this.#report(tenant);
  }

  async #fail(tenant: string, error: unknown): Promise<void> {
    await this.#options.writer.run(async (tx) => {
      await tx.execute({
        sql: "UPDATE data_key_rotations SET state = 'failed' WHERE tenant = ?",
        args: [tenant],
      });
      return { result: undefined };
    });
    const status = await this.status(tenant);
    if (status !== null) {
      const code = (error as { code?: unknown }).code;
      this.#options.onProgress?.({
        ...status,
        error: typeof code === 'string' ? code : 'internal',
      });
    }
  }

  #report(tenant: string): void {
    if (this.#options.onProgress === undefined) return;
    this.status(tenant).then(
      (status) => status !== null && this.#options.onProgress?.(status),
      () => {},
    );
  }
}

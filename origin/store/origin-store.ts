import { randomUUID } from 'node:crypto';
import {
  assertEntryKey,
  assertTenantId,
  diffValues,
  type EntryKind,
  type JsonPatch,
  type JsonValue,
  LcmError,
  type Revision,
  type ValueLimits,
} from '../../core/index.ts';
import type {
  CommitEvent,
  ReplicatedChange,
  ReplicationSource,
  TenantSnapshot,
} from '../replication/contract.ts';
import { readChangesAfter } from './change-reader.ts';
import type { ChangeInput, CommitOptions, CommitResult } from './commit-types.ts';
import { writeCommit } from './commit-writer.ts';
import { compactTenant, type Retention } from './compaction.ts';
import { StoreDatabase } from './database.ts';
import {
  type EntryRead,
  type EntrySummary,
  type HistoryItem,
  listEntrySummaries,
  readCurrentEntry,
  readEntryAt,
  readHistory,
  readTenantSnapshot,
} from './entry-reader.ts';
import {
  assertSnapshotName,
  insertSnapshot,
  listSnapshotNames,
  type SnapshotInfo,
  snapshotRevision,
} from './snapshot-names.ts';
import { WriteQueue } from './write-queue.ts';

/** Settings of an {@link OriginStore}. */
export interface OriginStoreOptions {
  /** libSQL URL of the database: `file:...` or a libSQL server. */
  url: string;
  /** Auth token for a remote libSQL server. */
  authToken?: string;
  /** Size and depth limits of stored values. */
  limits: ValueLimits;
  /** How long a write waits for another process holding the database lock. */
  busyTimeoutMs: number;
  /** Most commits written together in one transaction (group commit). */
  maxCommitsPerTransaction: number;
  /** How much of the change log compaction keeps. */
  retention: Retention;
}

/** A tenant as listed. */
export interface TenantInfo {
  id: string;
  headRevision: Revision;
  /** Newest revision whose change records were compacted away; 0 when none were. */
  horizon: Revision;
  createdAt: number;
}

export type { EntryRead, EntrySummary, HistoryItem, SnapshotInfo };

/** Where to read an entry: the head, a tenant revision, or a named snapshot. */
export interface ReadAt {
  revision?: Revision;
  snapshot?: string;
}

/**
 * The origin's authoritative store: tenants, entries under slash keys, per-tenant gap-free
 * revisions, multi-key commits, every version of every key, the change log with compaction,
 * named snapshots. It is also the {@link ReplicationSource} the replication hub reads.
 */
export class OriginStore implements ReplicationSource {
  #epoch: string;
  /** The database; the token store reads through it too. */
  readonly database: StoreDatabase;
  /** Serializes every write of the process; other stores of the origin share it. */
  readonly writes: WriteQueue;
  readonly #options: OriginStoreOptions;
  readonly #listeners = new Set<(event: CommitEvent) => void>();

  private constructor(database: StoreDatabase, options: OriginStoreOptions) {
    this.database = database;
    this.#epoch = database.epoch;
    this.#options = options;
    this.writes = new WriteQueue(database, {
      maxJobsPerTransaction: options.maxCommitsPerTransaction,
    });
  }

  /** Opens (and migrates) the store database. */
  static async open(options: OriginStoreOptions): Promise<OriginStore> {
    return new OriginStore(await StoreDatabase.open(options), options);
  }

  /** The store epoch: a random id created with the database, renewed after a restore. */
  get epoch(): string {
    return this.#epoch;
  }

  /**
   * Gives the store a new random epoch, telling replicas that revisions they hold no longer
   * compare with this store's (after a restore from backup). Call it before replication starts.
   */
  async renewEpoch(): Promise<string> {
    const epoch = randomUUID();
    await this.writes.run(async (tx) => {
      await tx.execute({ sql: "UPDATE meta SET value = ? WHERE name = 'epoch'", args: [epoch] });
      return { result: undefined };
    });
    this.#epoch = epoch;
    return epoch;
  }

  /** The limits every stored value respects. */
  get limits(): ValueLimits {
    return this.#options.limits;
  }

  /** Creates `tenant` if it does not exist; `created` says which happened. */
  async createTenant(tenant: string): Promise<{ created: boolean; tenant: TenantInfo }> {
    assertTenantId(tenant);
    const created = await this.writes.run(async (tx) => {
      const result = await tx.execute({
        sql: 'INSERT INTO tenants (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING',
        args: [tenant, Date.now()],
      });
      return { result: result.rowsAffected === 1 };
    });
    return { created, tenant: await this.#tenant(tenant) };
  }

  /** Every tenant, in id order. */
  async listTenants(): Promise<TenantInfo[]> {
    const result = await this.database.execute(
      'SELECT id, head_revision, horizon, created_at FROM tenants ORDER BY id',
    );
    return result.rows.map((row) => ({
      id: String(row[0]),
      headRevision: Number(row[1]),
      horizon: Number(row[2]),
      createdAt: Number(row[3]),
    }));
  }

  /** The tenant, or `not_found`. */
  async tenant(tenant: string): Promise<TenantInfo> {
    assertTenantId(tenant);
    return this.#tenant(tenant);
  }

  async #tenant(tenant: string): Promise<TenantInfo> {
    const result = await this.database.execute({
      sql: 'SELECT id, head_revision, horizon, created_at FROM tenants WHERE id = ?',
      args: [tenant],
    });
    const row = result.rows[0];
    if (row === undefined) throw new LcmError('not_found', 'no such tenant');
    return {
      id: String(row[0]),
      headRevision: Number(row[1]),
      horizon: Number(row[2]),
      createdAt: Number(row[3]),
    };
  }

  /** The tenant's head revision, 0 when nothing was committed. */
  async headRevision(tenant: string): Promise<Revision> {
    return (await this.tenant(tenant)).headRevision;
  }

  /**
   * Commits `changes` to `tenant` at its next revision, all or nothing, and resolves once the
   * commit is durable. Commit listeners hear of it before the promise resolves.
   */
  async commit(
    tenant: string,
    changes: ChangeInput[],
    options: CommitOptions,
  ): Promise<CommitResult> {
    return this.writes.run(async (tx) => {
      const written = await writeCommit(tx, tenant, changes, options, this.#options.limits);
      const event: CommitEvent = {
        tenant,
        revision: written.result.revision,
        epoch: this.epoch,
        at: written.result.at,
        changes: written.replicated,
      };
      return { result: written.result, afterCommit: () => this.#announce(event) };
    });
  }

  /** Calls `listener` after every durable commit; returns a function that unsubscribes. */
  onCommit(listener: (event: CommitEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #announce(event: CommitEvent): void {
    for (const listener of this.#listeners) {
      // A failing listener must not undo a durable commit nor starve the other listeners.
      try {
        listener(event);
      } catch {}
    }
  }

  /** The entry at the head, at a tenant revision, or at a named snapshot; `not_found` if none. */
  async readEntry(tenant: string, key: string, at: ReadAt = {}): Promise<EntryRead> {
    assertTenantId(tenant);
    assertEntryKey(key);
    const revision =
      at.snapshot !== undefined
        ? await snapshotRevision(this.database, tenant, at.snapshot)
        : at.revision;
    if (revision === undefined) return readCurrentEntry(this.database, tenant, key);
    return readEntryAt(this.database, tenant, key, revision);
  }

  /** Live keys of the tenant in key order, starting after `after`, within `prefix`. */
  async listEntries(
    tenant: string,
    query: { prefix: string; after?: string; limit: number },
  ): Promise<EntrySummary[]> {
    await this.tenant(tenant);
    return listEntrySummaries(this.database, tenant, query);
  }

  /** Versions of a key, newest first, older than `before` when given. `not_found` if none. */
  async history(
    tenant: string,
    key: string,
    query: { limit: number; before?: Revision },
  ): Promise<HistoryItem[]> {
    await this.tenant(tenant);
    assertEntryKey(key);
    const items = await readHistory(this.database, tenant, key, query);
    if (items.length === 0 && query.before === undefined) {
      throw new LcmError('not_found', `no history for ${key}`);
    }
    return items;
  }

  /**
   * The RFC 6902 patch from the key's value at revision `from` to its value at `to`. Both must
   * be of `kind` (configs by default): a diff of two ciphertexts tells nothing.
   */
  async diff(
    tenant: string,
    key: string,
    from: Revision,
    to: Revision,
    kind: EntryKind = 'config',
  ): Promise<JsonPatch> {
    const before = await this.readEntry(tenant, key, { revision: from });
    const after = await this.readEntry(tenant, key, { revision: to });
    assertKind(before, kind);
    assertKind(after, kind);
    return diffValues(JSON.parse(before.text) as JsonValue, JSON.parse(after.text) as JsonValue);
  }

  /**
   * Restores the key's value as of tenant revision `revision` as a new commit. When the key did
   * not exist then, the restore deletes it. The key must hold `kind` (configs by default), then
   * and now; secrets are restored through their own service, which knows their data keys.
   */
  async rollback(
    tenant: string,
    key: string,
    revision: Revision,
    options: CommitOptions,
    kind: EntryKind = 'config',
  ): Promise<CommitResult> {
    let target: EntryRead | undefined;
    try {
      target = await this.readEntry(tenant, key, { revision });
    } catch (error) {
      if (!(error instanceof LcmError && error.code === 'not_found')) throw error;
      await this.tenant(tenant);
    }
    if (target === undefined) return this.commit(tenant, [{ op: 'delete', key, kind }], options);
    assertKind(target, kind);
    const value = JSON.parse(target.text) as JsonValue;
    return this.commit(tenant, [{ op: 'put', key, value, kind }], options);
  }

  /** Names a tenant revision (the head when `revision` is omitted). Names are never reused. */
  async createSnapshot(
    tenant: string,
    name: string,
    revision: Revision | undefined,
    actor: string,
  ): Promise<SnapshotInfo> {
    assertTenantId(tenant);
    assertSnapshotName(name);
    return this.writes.run(async (tx) => ({
      result: await insertSnapshot(tx, tenant, name, revision, actor),
    }));
  }

  /** The tenant's snapshots, in name order. */
  async listSnapshots(tenant: string): Promise<SnapshotInfo[]> {
    await this.tenant(tenant);
    return listSnapshotNames(this.database, tenant);
  }

  /**
   * The changes of the commits after `after`, whole commits only, about `limit` records.
   * Throws `compacted` when the log no longer holds the commit right after `after`.
   */
  async changesAfter(tenant: string, after: Revision, limit: number): Promise<ReplicatedChange[]> {
    assertTenantId(tenant);
    return readChangesAfter(this.database, tenant, after, limit);
  }

  /** Every live entry of the tenant at its head revision, read in one transaction. */
  async snapshot(tenant: string): Promise<TenantSnapshot> {
    assertTenantId(tenant);
    return readTenantSnapshot(this.database, tenant);
  }

  /**
   * Drops change records past the retention setting for `tenant` (every tenant when omitted)
   * and returns each tenant's new horizon. History stays readable: versions are kept.
   */
  async compact(tenant?: string, now = Date.now()): Promise<Record<string, Revision>> {
    const tenants = tenant === undefined ? (await this.listTenants()).map((t) => t.id) : [tenant];
    if (tenant !== undefined) await this.tenant(tenant);

    const horizons: Record<string, Revision> = {};
    for (const id of tenants) {
      horizons[id] = await this.writes.run(async (tx) => ({
        result: await compactTenant(tx, id, this.#options.retention, now),
      }));
    }
    return horizons;
  }

  /** A trivial query, for readiness. */
  async ping(): Promise<void> {
    await this.database.execute('SELECT 1');
  }

  /** Waits for queued writes, then closes the database. */
  async close(): Promise<void> {
    await this.writes.close();
    this.database.close();
  }
}

function assertKind(entry: EntryRead, kind: EntryKind): void {
  if (entry.kind === kind) return;
  throw new LcmError('conflict', `the entry at ${entry.key} is a ${entry.kind}, not a ${kind}`);
}

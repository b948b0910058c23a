import { randomUUID } from 'node:crypto';
import type { InStatement, ResultSet } from '@libsql/client';
import {
  assertEntryKey,
  assertTenantId,
  type ChangeOp,
  diffValues,
  type Entry,
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
import { unpackVersion } from './value-codec.ts';
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

/** An entry's value as read, with the JSON text kept for answering without re-serializing. */
export interface EntryRead {
  key: string;
  kind: EntryKind;
  /** The value's JSON text. */
  text: string;
  /** Tenant revision of the key's last change at the time read. */
  revision: Revision;
  hash: string;
  /** The tenant head revision when the read happened. */
  headRevision: Revision;
}

/** One key in a listing. */
export interface EntrySummary {
  key: string;
  kind: EntryKind;
  revision: Revision;
  hash: string;
  size: number;
}

/** One version of a key in its history. */
export interface HistoryItem {
  revision: Revision;
  op: ChangeOp;
  kind: EntryKind;
  at: number;
  actor: string;
  /** Null for a delete. */
  hash: string | null;
  size: number;
}

/** A named tenant revision. */
export interface SnapshotInfo {
  name: string;
  revision: Revision;
  actor: string;
  createdAt: number;
}

/** Where to read an entry: the head, a tenant revision, or a named snapshot. */
export interface ReadAt {
  revision?: Revision;
  snapshot?: string;
}

const SNAPSHOT_NAME = /^[A-Za-z0-9._-]{1,128}$/;

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
    const result = await this.#read(
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
    const result = await this.#read({
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
      at.snapshot !== undefined ? await this.#snapshotRevision(tenant, at.snapshot) : at.revision;

    if (revision === undefined) {
      const [head, entry] = await this.#readBatch([
        { sql: 'SELECT head_revision FROM tenants WHERE id = ?', args: [tenant] },
        {
          sql: 'SELECT kind, value, revision, hash FROM entries WHERE tenant = ? AND key = ?',
          args: [tenant, key],
        },
      ]);
      const headRow = head!.rows[0];
      if (headRow === undefined) throw new LcmError('not_found', 'no such tenant');
      const row = entry!.rows[0];
      if (row === undefined) throw new LcmError('not_found', `no entry at ${key}`);
      return {
        key,
        kind: String(row[0]) as EntryKind,
        text: String(row[1]),
        revision: Number(row[2]),
        hash: String(row[3]),
        headRevision: Number(headRow[0]),
      };
    }

    const [head, version] = await this.#readBatch([
      { sql: 'SELECT head_revision FROM tenants WHERE id = ?', args: [tenant] },
      {
        sql: `SELECT op, kind, value, revision, hash FROM versions
              WHERE tenant = ? AND key = ? AND revision <= ?
              ORDER BY revision DESC LIMIT 1`,
        args: [tenant, key, revision],
      },
    ]);
    const headRow = head!.rows[0];
    if (headRow === undefined) throw new LcmError('not_found', 'no such tenant');
    assertRevisionInRange(revision, Number(headRow[0]));
    const row = version!.rows[0];
    if (row === undefined || row[0] === 'delete') {
      throw new LcmError('not_found', `no entry at ${key} at revision ${revision}`);
    }
    return {
      key,
      kind: String(row[1]) as EntryKind,
      text: unpackVersion(row[2] as ArrayBuffer),
      revision: Number(row[3]),
      hash: String(row[4]),
      headRevision: Number(headRow[0]),
    };
  }

  /** Live keys of the tenant in key order, starting after `after`, within `prefix`. */
  async listEntries(
    tenant: string,
    query: { prefix: string; after?: string; limit: number },
  ): Promise<EntrySummary[]> {
    await this.tenant(tenant);
    const lower = query.after !== undefined && query.after >= query.prefix ? query.after : null;
    const result = await this.#read({
      sql: `SELECT key, kind, revision, hash, size FROM entries
            WHERE tenant = ? AND key >= ? AND (? IS NULL OR key > ?) AND substr(key, 1, ?) = ?
            ORDER BY key LIMIT ?`,
      args: [tenant, query.prefix, lower, lower, query.prefix.length, query.prefix, query.limit],
    });
    return result.rows.map((row) => ({
      key: String(row[0]),
      kind: String(row[1]) as EntryKind,
      revision: Number(row[2]),
      hash: String(row[3]),
      size: Number(row[4]),
    }));
  }

  /** Versions of a key, newest first, older than `before` when given. `not_found` if none. */
  async history(
    tenant: string,
    key: string,
    query: { limit: number; before?: Revision },
  ): Promise<HistoryItem[]> {
    await this.tenant(tenant);
    assertEntryKey(key);
    const result = await this.#read({
      sql: `SELECT revision, op, kind, at, actor, hash, size FROM versions
            WHERE tenant = ? AND key = ? AND revision < ?
            ORDER BY revision DESC LIMIT ?`,
      args: [tenant, key, query.before ?? Number.MAX_SAFE_INTEGER, query.limit],
    });
    if (result.rows.length === 0 && query.before === undefined) {
      throw new LcmError('not_found', `no history for ${key}`);
    }
    return result.rows.map((row) => ({
      revision: Number(row[0]),
      op: String(row[1]) as ChangeOp,
      kind: String(row[2]) as EntryKind,
      at: Number(row[3]),
      actor: String(row[4]),
      hash: row[5] === null ? null : String(row[5]),
      size: Number(row[6]),
    }));
  }

  /** The RFC 6902 patch from the key's value at revision `from` to its value at `to`. */
  async diff(tenant: string, key: string, from: Revision, to: Revision): Promise<JsonPatch> {
    const before = await this.readEntry(tenant, key, { revision: from });
    const after = await this.readEntry(tenant, key, { revision: to });
    return diffValues(JSON.parse(before.text) as JsonValue, JSON.parse(after.text) as JsonValue);
  }

  /**
   * Restores the key's value as of tenant revision `revision` as a new commit. When the key did
   * not exist then, the restore deletes it.
   */
  async rollback(
    tenant: string,
    key: string,
    revision: Revision,
    options: CommitOptions,
  ): Promise<CommitResult> {
    let target: EntryRead | undefined;
    try {
      target = await this.readEntry(tenant, key, { revision });
    } catch (error) {
      if (!(error instanceof LcmError && error.code === 'not_found')) throw error;
      await this.tenant(tenant);
    }
    if (target === undefined) return this.commit(tenant, [{ op: 'delete', key }], options);
    const value = JSON.parse(target.text) as JsonValue;
    return this.commit(tenant, [{ op: 'put', key, value, kind: target.kind }], options);
  }

  /** Names a tenant revision (the head when `revision` is omitted). Names are never reused. */
  async createSnapshot(
    tenant: string,
    name: string,
    revision: Revision | undefined,
    actor: string,
  ): Promise<SnapshotInfo> {
    assertTenantId(tenant);
    if (!SNAPSHOT_NAME.test(name)) {
      throw new LcmError('bad_request', 'snapshot names match [A-Za-z0-9._-]{1,128}');
    }
    return this.writes.run(async (tx) => {
      const head = await tx.execute({
        sql: 'SELECT head_revision FROM tenants WHERE id = ?',
        args: [tenant],
      });
      const headRow = head.rows[0];
      if (headRow === undefined) throw new LcmError('not_found', 'no such tenant');
      const pinned = revision ?? Number(headRow[0]);
      assertRevisionInRange(pinned, Number(headRow[0]));

      const createdAt = Date.now();
      const inserted = await tx.execute({
        sql: `INSERT INTO snapshots (tenant, name, revision, actor, created_at)
              VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, name) DO NOTHING`,
        args: [tenant, name, pinned, actor, createdAt],
      });
      if (inserted.rowsAffected === 0) {
        throw new LcmError('conflict', `a snapshot named ${name} exists`);
      }
      return { result: { name, revision: pinned, actor, createdAt } };
    });
  }

  /** The tenant's snapshots, in name order. */
  async listSnapshots(tenant: string): Promise<SnapshotInfo[]> {
    await this.tenant(tenant);
    const result = await this.#read({
      sql: 'SELECT name, revision, actor, created_at FROM snapshots WHERE tenant = ? ORDER BY name',
      args: [tenant],
    });
    return result.rows.map((row) => ({
      name: String(row[0]),
      revision: Number(row[1]),
      actor: String(row[2]),
      createdAt: Number(row[3]),
    }));
  }

  async #snapshotRevision(tenant: string, name: string): Promise<Revision> {
    const result = await this.#read({
      sql: 'SELECT revision FROM snapshots WHERE tenant = ? AND name = ?',
      args: [tenant, name],
    });
    const row = result.rows[0];
    if (row === undefined) throw new LcmError('not_found', `no snapshot named ${name}`);
    return Number(row[0]);
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
    const [head, entries] = await this.#readBatch([
      { sql: 'SELECT head_revision FROM tenants WHERE id = ?', args: [tenant] },
      {
        sql: 'SELECT key, kind, value, revision, hash FROM entries WHERE tenant = ? ORDER BY key',
        args: [tenant],
      },
    ]);
    const headRow = head!.rows[0];
    if (headRow === undefined) throw new LcmError('not_found', 'no such tenant');
    return {
      revision: Number(headRow[0]),
      entries: entries!.rows.map(
        (row): Entry => ({
          key: String(row[0]),
          kind: String(row[1]) as EntryKind,
          value: JSON.parse(String(row[2])) as JsonValue,
          revision: Number(row[3]),
          hash: String(row[4]),
        }),
      ),
    };
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
    await this.#read('SELECT 1');
  }

  /** Waits for queued writes, then closes the database. */
  async close(): Promise<void> {
    await this.writes.close();
    this.database.close();
  }

  #read(statement: InStatement): Promise<ResultSet> {
    return this.database.execute(statement);
  }

  #readBatch(statements: InStatement[]): Promise<ResultSet[]> {
    return this.database.batch(statements);
  }
}

function assertRevisionInRange(revision: Revision, head: Revision): void {
  if (!Number.isSafeInteger(revision) || revision < 0 || revision > head) {
    throw new LcmError('bad_revision', `revision ${revision} is not between 0 and ${head}`);
  }
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Client, createClient, type InStatement } from '@libsql/client';
import type { EntryKind } from '../core/index.ts';

/** One entry as the replica stores it: the value as its JSON text. */
export interface ReplicaEntry {
  key: string;
  kind: EntryKind;
  /** The value's JSON text, ready to serve. */
  valueJson: string;
  /** Tenant revision of the entry's last change. */
  revision: number;
  hash: string;
}

/** What the replica holds of one tenant. */
export interface ReplicaTenant {
  tenant: string;
  /** The store epoch the revision belongs to. */
  epoch: string;
  /** The last revision applied. */
  revision: number;
  /** When the agent last heard from the origin about this tenant, ms since the Unix epoch. */
  lastSyncAt: number;
}

/** One key's new state in a commit: an entry to write, or a key to delete. */
export type ReplicaChange = { key: string; entry: ReplicaEntry | null };

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS agent_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS tenants (
     tenant TEXT PRIMARY KEY, epoch TEXT NOT NULL, revision INTEGER NOT NULL,
     last_sync_at INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS entries (
     tenant TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
     revision INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (tenant, key))`,
  `CREATE TABLE IF NOT EXISTS staging (
     tenant TEXT NOT NULL, key TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,
     revision INTEGER NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (tenant, key))`,
];

/** File name of the replica inside the agent's data directory. */
export const REPLICA_FILE_NAME = 'replica.db';

/**
 * The agent's libSQL replica: entries and a cursor (epoch and revision) per tenant. A commit is
 * written in one transaction together with its cursor, and a snapshot is staged and then swapped
 * in by one transaction, so that after a crash the replica is at an old or a new revision, never
 * in between. Writes are serialized here, because two write transactions at once on the libSQL
 * pool fail with SQLITE_BUSY.
 */
export class Replica {
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(private readonly client: Client) {}

  /** Opens (creating when needed) the replica in `dataDir`. */
  static async open(dataDir: string): Promise<Replica> {
    mkdirSync(dataDir, { recursive: true });
    const client = createClient({ url: `file:${join(dataDir, REPLICA_FILE_NAME)}` });
    await client.execute('PRAGMA journal_mode = WAL');
    await client.batch(SCHEMA, 'write');
    return new Replica(client);
  }

  /** The agent's stable id, made once and kept in the replica. */
  async agentId(): Promise<string> {
    return this.exclusive(async () => {
      const found = await this.client.execute(
        `SELECT value FROM agent_meta WHERE name = 'agent_id'`,
      );
      const existing = found.rows[0]?.value;
      if (typeof existing === 'string') return existing;

      const id = `agent-${crypto.randomUUID()}`;
      await this.client.execute({
        sql: `INSERT INTO agent_meta (name, value) VALUES ('agent_id', ?)`,
        args: [id],
      });
      return id;
    });
  }

  /** Every tenant cursor and entry, to fill the in-memory index at start. */
  async load(): Promise<{ tenants: ReplicaTenant[]; entries: Map<string, ReplicaEntry[]> }> {
    const tenantRows = await this.client.execute('SELECT * FROM tenants');
    const tenants = tenantRows.rows.map((row) => ({
      tenant: String(row.tenant),
      epoch: String(row.epoch),
      revision: Number(row.revision),
      lastSyncAt: Number(row.last_sync_at),
    }));

    const entries = new Map<string, ReplicaEntry[]>();
    const entryRows = await this.client.execute('SELECT * FROM entries');
    for (const row of entryRows.rows) {
      const tenant = String(row.tenant);
      const list = entries.get(tenant) ?? [];
      list.push(rowToEntry(row));
      entries.set(tenant, list);
    }
    return { tenants, entries };
  }

  /** Writes one commit and the tenant's new cursor in a single transaction. */
  async applyCommit(cursor: ReplicaTenant, changes: ReplicaChange[]): Promise<void> {
    const statements: InStatement[] = changes.map(({ key, entry }) =>
      entry === null
        ? { sql: 'DELETE FROM entries WHERE tenant = ? AND key = ?', args: [cursor.tenant, key] }
        : upsertEntry('entries', cursor.tenant, entry),
    );
    statements.push(upsertCursor(cursor));
    await this.exclusive(() => this.client.batch(statements, 'write'));
  }

  /** Empties the staging area of `tenant`, for a snapshot about to arrive. */
  async beginSnapshot(tenant: string): Promise<void> {
    await this.exclusive(() =>
      this.client.execute({ sql: 'DELETE FROM staging WHERE tenant = ?', args: [tenant] }),
    );
  }

  /**
   * Adds entries of a snapshot in progress to the staging area, with one statement per chunk:
   * the entries travel as one JSON array of rows that SQLite unpacks with `json_each`, since a
   * prepared INSERT per entry made staging the largest cost of a bootstrap.
   */
  async stageEntries(tenant: string, entries: ReplicaEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const rows = JSON.stringify(
      entries.map((entry) => [entry.key, entry.kind, entry.valueJson, entry.revision, entry.hash]),
    );
    await this.exclusive(() =>
      this.client.execute({
        sql: `INSERT OR REPLACE INTO staging (tenant, key, kind, value, revision, hash)
              SELECT ?, row.value ->> 0, row.value ->> 1, row.value ->> 2, row.value ->> 3,
                     row.value ->> 4
              FROM json_each(?) AS row`,
        args: [tenant, rows],
      }),
    );
  }

  /** Replaces the tenant's entries by the staged snapshot and sets its cursor, in one transaction. */
  async finishSnapshot(cursor: ReplicaTenant): Promise<void> {
    const { tenant } = cursor;
    await this.exclusive(() =>
      this.client.batch(
        [
          { sql: 'DELETE FROM entries WHERE tenant = ?', args: [tenant] },
          {
            sql: `INSERT INTO entries SELECT tenant, key, kind, value, revision, hash
                  FROM staging WHERE tenant = ?`,
            args: [tenant],
          },
          { sql: 'DELETE FROM staging WHERE tenant = ?', args: [tenant] },
          upsertCursor(cursor),
        ],
        'write',
      ),
    );
  }

  /** Records when the agent last heard from the origin about these tenants. */
  async markSynced(tenants: string[], at: number): Promise<void> {
    if (tenants.length === 0) return;
    const statements = tenants.map((tenant) => ({
      sql: 'UPDATE tenants SET last_sync_at = ? WHERE tenant = ?',
      args: [at, tenant],
    }));
    await this.exclusive(() => this.client.batch(statements, 'write'));
  }

  /** Waits for pending writes, then closes the file. */
  async close(): Promise<void> {
    await this.writes.catch(() => {});
    this.client.close();
  }

  private exclusive<T>(write: () => Promise<T>): Promise<T> {
    const next = this.writes.then(write, write);
    this.writes = next.catch(() => {});
    return next;
  }
}

function upsertEntry(table: 'entries' | 'staging', tenant: string, entry: ReplicaEntry) {
  return {
    sql: `INSERT OR REPLACE INTO ${table} (tenant, key, kind, value, revision, hash)
          VALUES (?, ?, ?, ?, ?, ?)`,
    args: [tenant, entry.key, entry.kind, entry.valueJson, entry.revision, entry.hash],
  };
}

function upsertCursor(cursor: ReplicaTenant) {
  return {
    sql: `INSERT OR REPLACE INTO tenants (tenant, epoch, revision, last_sync_at)
          VALUES (?, ?, ?, ?)`,
    args: [cursor.tenant, cursor.epoch, cursor.revision, cursor.lastSyncAt],
  };
}

function rowToEntry(row: Record<string, unknown>): ReplicaEntry {
  return {
    key: String(row.key),
    kind: row.kind === 'secret' ? 'secret' : 'config',
    valueJson: String(row.value),
    revision: Number(row.revision),
    hash: String(row.hash),
  };
}

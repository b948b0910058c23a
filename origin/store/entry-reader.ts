import type { Transaction } from '@libsql/client';
import {
  type ChangeOp,
  type Entry,
  type EntryKind,
  type JsonValue,
  LcmError,
  type Revision,
} from '../../core/index.ts';
import type { TenantSnapshot } from '../replication/contract.ts';
import type { StoreDatabase } from './database.ts';
import { unpackVersion } from './value-codec.ts';

/** The reads of the store go through this: the read client of {@link StoreDatabase}. */
export type Reader = Pick<StoreDatabase, 'execute' | 'batch'>;

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

const HEAD_SQL = 'SELECT head_revision FROM tenants WHERE id = ?';

/** Throws `bad_revision` unless `revision` is a whole number from 0 to `head`. */
export function assertRevisionInRange(revision: Revision, head: Revision): void {
  if (!Number.isSafeInteger(revision) || revision < 0 || revision > head) {
    throw new LcmError('bad_revision', `revision ${revision} is not between 0 and ${head}`);
  }
}

/** The tenant's head revision inside a write transaction; `not_found` when there is no tenant. */
export async function headInTransaction(tx: Transaction, tenant: string): Promise<Revision> {
  const result = await tx.execute({ sql: HEAD_SQL, args: [tenant] });
  const row = result.rows[0];
  if (row === undefined) throw new LcmError('not_found', 'no such tenant');
  return Number(row[0]);
}

/** The key's live value with the tenant head, read together; `not_found` when absent. */
export async function readCurrentEntry(
  reader: Reader,
  tenant: string,
  key: string,
): Promise<EntryRead> {
  const [head, entry] = await reader.batch([
    { sql: HEAD_SQL, args: [tenant] },
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

/** The key's value as of tenant revision `revision`, from the kept versions. */
export async function readEntryAt(
  reader: Reader,
  tenant: string,
  key: string,
  revision: Revision,
): Promise<EntryRead> {
  const [head, version] = await reader.batch([
    { sql: HEAD_SQL, args: [tenant] },
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

/** Live keys of the tenant in key order, after `after`, starting with `prefix`. */
export async function listEntrySummaries(
  reader: Reader,
  tenant: string,
  query: { prefix: string; after?: string; limit: number },
): Promise<EntrySummary[]> {
  const lower = query.after !== undefined && query.after >= query.prefix ? query.after : null;
  const result = await reader.execute({
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

/** Versions of a key, newest first, older than `before` when given. */
export async function readHistory(
  reader: Reader,
  tenant: string,
  key: string,
  query: { limit: number; before?: Revision },
): Promise<HistoryItem[]> {
  const result = await reader.execute({
    sql: `SELECT revision, op, kind, at, actor, hash, size FROM versions
          WHERE tenant = ? AND key = ? AND revision < ?
          ORDER BY revision DESC LIMIT ?`,
    args: [tenant, key, query.before ?? Number.MAX_SAFE_INTEGER, query.limit],
  });
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

/** Every live entry of the tenant with its head revision, read in one transaction. */
export async function readTenantSnapshot(reader: Reader, tenant: string): Promise<TenantSnapshot> {
  const [head, entries] = await reader.batch([
    { sql: HEAD_SQL, args: [tenant] },
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

import type { Transaction } from '@libsql/client';
import { LcmError, type Revision } from '../../core/index.ts';
import { assertRevisionInRange, headInTransaction, type Reader } from './entry-reader.ts';

/** A named tenant revision. */
export interface SnapshotInfo {
  name: string;
  revision: Revision;
  actor: string;
  createdAt: number;
}

const SNAPSHOT_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** Throws `bad_request` unless `name` is a valid snapshot name. */
export function assertSnapshotName(name: string): void {
  if (!SNAPSHOT_NAME.test(name)) {
    throw new LcmError('bad_request', 'snapshot names match [A-Za-z0-9._-]{1,128}');
  }
}

/**
 * Names tenant revision `revision` (the head when undefined) inside `tx`. A name is never
 * reused: a taken one fails with `conflict`.
 */
export async function insertSnapshot(
  tx: Transaction,
  tenant: string,
  name: string,
  revision: Revision | undefined,
  actor: string,
): Promise<SnapshotInfo> {
  const head = await headInTransaction(tx, tenant);
  const pinned = revision ?? head;
  assertRevisionInRange(pinned, head);

  const createdAt = Date.now();
  const inserted = await tx.execute({
    sql: `INSERT INTO snapshots (tenant, name, revision, actor, created_at)
          VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant, name) DO NOTHING`,
    args: [tenant, name, pinned, actor, createdAt],
  });
  if (inserted.rowsAffected === 0) {
    throw new LcmError('conflict', `a snapshot named ${name} exists`);
  }
  return { name, revision: pinned, actor, createdAt };
}

/** The tenant's snapshots, in name order. */
export async function listSnapshotNames(reader: Reader, tenant: string): Promise<SnapshotInfo[]> {
  const result = await reader.execute({
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

/** The revision a snapshot names; `not_found` when there is no such snapshot. */
export async function snapshotRevision(
  reader: Reader,
  tenant: string,
  name: string,
): Promise<Revision> {
  const result = await reader.execute({
    sql: 'SELECT revision FROM snapshots WHERE tenant = ? AND name = ?',
    args: [tenant, name],
  });
  const row = result.rows[0];
  if (row === undefined) throw new LcmError('not_found', `no snapshot named ${name}`);
  return Number(row[0]);
}

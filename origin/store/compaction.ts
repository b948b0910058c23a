import type { Transaction } from '@libsql/client';
import { LcmError, type Revision } from '../../core/index.ts';

/** How much of the change log to keep. A record past either enabled limit is dropped. */
export interface Retention {
  /** Keep the change records of the newest this many revisions per tenant; 0 keeps all. */
  revisions: number;
  /** Keep change records younger than this many milliseconds; 0 keeps all. */
  ageMs: number;
}

/**
 * Drops the tenant's change records past `retention` inside `tx` and returns its new horizon:
 * the newest revision whose records are gone. Whole commits are dropped together, since every
 * record of a commit shares its revision and time. Versions are kept, so history, `?revision=`
 * reads, diff and rollback still work below the horizon.
 */
export async function compactTenant(
  tx: Transaction,
  tenant: string,
  retention: Retention,
  now: number,
): Promise<Revision> {
  const result = await tx.execute({
    sql: 'SELECT head_revision, horizon FROM tenants WHERE id = ?',
    args: [tenant],
  });
  const row = result.rows[0];
  if (row === undefined) throw new LcmError('not_found', 'no such tenant');
  const head = Number(row[0]);
  const current = Number(row[1]);

  let horizon = current;
  if (retention.revisions > 0) horizon = Math.max(horizon, head - retention.revisions);
  if (retention.ageMs > 0) {
    const aged = await tx.execute({
      sql: 'SELECT COALESCE(MAX(revision), 0) FROM changes WHERE tenant = ? AND at < ?',
      args: [tenant, now - retention.ageMs],
    });
    horizon = Math.max(horizon, Number(aged.rows[0]?.[0] ?? 0));
  }
  if (horizon <= current) return current;

  await tx.batch([
    { sql: 'DELETE FROM changes WHERE tenant = ? AND revision <= ?', args: [tenant, horizon] },
    { sql: 'UPDATE tenants SET horizon = ? WHERE id = ?', args: [horizon, tenant] },
  ]);
  return horizon;
}

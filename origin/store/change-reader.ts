import type { Row } from '@libsql/client';
import {
  type ChangeOp,
  type ChangeRecord,
  type EntryKind,
  type JsonPatch,
  type JsonValue,
  LcmError,
  type Revision,
} from '../../core/index.ts';
import type { ReplicatedChange } from '../replication/contract.ts';
import type { StoreDatabase } from './database.ts';
import { unpackVersion } from './value-codec.ts';

// Secrets travel whole, so their records carry the stored version's value.
const CHANGE_COLUMNS = `c.revision, c.key, c.op, c.kind, c.patch, c.hash, c.actor, c.at,
  CASE WHEN c.kind = 'secret' THEN v.value END`;
const CHANGE_JOIN = `FROM changes c LEFT JOIN versions v
  ON v.tenant = c.tenant AND v.key = c.key AND v.revision = c.revision`;

/**
 * Reads the change records after `after`, in revision and key order, whole commits only,
 * stopping at the first commit boundary at or past `limit` records. Throws `compacted` when
 * `after` is behind the tenant's horizon, `bad_revision` when it is past the head.
 */
export async function readChangesAfter(
  database: Pick<StoreDatabase, 'execute' | 'batch'>,
  tenant: string,
  after: Revision,
  limit: number,
): Promise<ReplicatedChange[]> {
  if (!Number.isSafeInteger(after) || after < 0) {
    throw new LcmError('bad_revision', 'after is a revision, 0 or more');
  }
  const [state, page] = await database.batch([
    { sql: 'SELECT head_revision, horizon FROM tenants WHERE id = ?', args: [tenant] },
    {
      sql: `SELECT ${CHANGE_COLUMNS} ${CHANGE_JOIN}
              WHERE c.tenant = ? AND c.revision > ? ORDER BY c.revision, c.key LIMIT ?`,
      args: [tenant, after, Math.max(1, limit)],
    },
  ]);
  const stateRow = state!.rows[0];
  if (stateRow === undefined) throw new LcmError('not_found', 'no such tenant');
  const head = Number(stateRow[0]);
  const horizon = Number(stateRow[1]);
  if (after < horizon) {
    throw new LcmError(
      'compacted',
      `the change log starts after revision ${horizon}; read a snapshot instead`,
    );
  }
  if (after > head) throw new LcmError('bad_revision', `revision ${after} is past the head`);

  const changes = page!.rows.map(toReplicatedChange);
  const last = changes.at(-1);
  if (last === undefined || changes.length < limit) return changes;

  // The page may have cut the last commit short: complete it.
  const rest = await database.execute({
    sql: `SELECT ${CHANGE_COLUMNS} ${CHANGE_JOIN}
          WHERE c.tenant = ? AND c.revision = ? AND c.key > ? ORDER BY c.key`,
    args: [tenant, last.record.revision, last.record.key],
  });
  return changes.concat(rest.rows.map(toReplicatedChange));
}

function toReplicatedChange(row: Row): ReplicatedChange {
  const record: ChangeRecord = {
    revision: Number(row[0]),
    key: String(row[1]),
    op: String(row[2]) as ChangeOp,
    kind: String(row[3]) as EntryKind,
    patch: row[4] === null ? null : (JSON.parse(String(row[4])) as JsonPatch),
    hash: row[5] === null ? null : String(row[5]),
    actor: String(row[6]),
    at: Number(row[7]),
  };
  if (row[8] === null || row[8] === undefined) return { record };
  return { record, value: JSON.parse(unpackVersion(row[8] as ArrayBuffer)) as JsonValue };
}

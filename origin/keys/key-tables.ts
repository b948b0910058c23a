import type { InStatement, ResultSet, Transaction } from '@libsql/client';
import type { KekProviderKind, WrappedDataKey } from './key-provider.ts';

// TODO: these tables are created here at start with CREATE TABLE IF NOT EXISTS, beside the
// store's own migrations in origin/store/migrations.ts. Moving them into that list would give
// them a schema version; until then a change to them needs its own IF NOT EXISTS step here.

/** Statements that create the key tables when they are missing. */
export const KEY_TABLE_STATEMENTS = [
  // One row per data key version of a tenant, wrapped by a key-encryption key. state:
  // `pending` (made, being handed to connected agents, not used yet), `active` (the version new
  // writes use), `decrypt-only` (older, still in use), `retired` (no live secret uses it; kept
  // so that history and rollback still open, no longer sent to agents).
  `CREATE TABLE IF NOT EXISTS tenant_data_keys (
    tenant TEXT NOT NULL,
    version INTEGER NOT NULL,
    provider TEXT NOT NULL,
    kek_id TEXT NOT NULL,
    wrapped TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    rewrapped_at INTEGER,
    PRIMARY KEY (tenant, version)
  ) WITHOUT ROWID`,
  // One row per tenant whose secrets are being re-encrypted to target_version; cursor_key is
  // the last key done, so a restarted origin resumes after it.
  `CREATE TABLE IF NOT EXISTS data_key_rotations (
    tenant TEXT PRIMARY KEY,
    target_version INTEGER NOT NULL,
    cursor_key TEXT NOT NULL,
    done INTEGER NOT NULL,
    total INTEGER NOT NULL,
    state TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    finished_at INTEGER
  ) WITHOUT ROWID`,
];

/** Creates the key tables if they are missing, inside the caller's write transaction. */
export async function ensureKeyTables(tx: Transaction): Promise<void> {
  for (const statement of KEY_TABLE_STATEMENTS) await tx.execute(statement);
}

/** Reads the origin database: the store's database, or a libSQL client. */
export interface KeyTableReader {
  execute(statement: InStatement): Promise<ResultSet>;
}

/** Runs a job in the origin's serialized write transaction (the store's write queue). */
export interface KeyTableWriter {
  run<T>(job: (tx: Transaction) => Promise<{ result: T }>): Promise<T>;
}

/** The state of a data key version: see the table's comment above. */
export type DataKeyState = 'pending' | 'active' | 'decrypt-only' | 'retired';

/** One data key version of a tenant, as listed; never the key itself. */
export interface DataKeyVersionInfo {
  version: number;
  state: DataKeyState;
  provider: KekProviderKind;
  kekId: string;
  createdAt: number;
  rewrappedAt: number | null;
}

/** Every data key version of `tenant`, newest first. */
export async function readVersions(
  reader: KeyTableReader,
  tenant: string,
): Promise<DataKeyVersionInfo[]> {
  const result = await reader.execute({
    sql: `SELECT version, state, provider, kek_id, created_at, rewrapped_at
          FROM tenant_data_keys WHERE tenant = ? ORDER BY version DESC`,
    args: [tenant],
  });
  return result.rows.map((row) => ({
    version: Number(row[0]),
    state: String(row[1]) as DataKeyState,
    provider: String(row[2]) as KekProviderKind,
    kekId: String(row[3]),
    createdAt: Number(row[4]),
    rewrappedAt: row[5] === null ? null : Number(row[5]),
  }));
}

/** The version new writes of `tenant` use, or undefined before its first secret. */
export async function readActiveVersion(
  reader: KeyTableReader,
  tenant: string,
): Promise<number | undefined> {
  const result = await reader.execute({
    sql: "SELECT MAX(version) FROM tenant_data_keys WHERE tenant = ? AND state = 'active'",
    args: [tenant],
  });
  const value = result.rows[0]?.[0];
  return value === null || value === undefined ? undefined : Number(value);
}

/** The wrapped form of one data key version, or undefined when there is none. */
export async function readWrapped(
  reader: KeyTableReader,
  tenant: string,
  version: number,
): Promise<WrappedDataKey | undefined> {
  const result = await reader.execute({
    sql: 'SELECT provider, kek_id, wrapped FROM tenant_data_keys WHERE tenant = ? AND version = ?',
    args: [tenant, version],
  });
  const row = result.rows[0];
  return row === undefined ? undefined : wrappedFromRow(row[0], row[1], row[2]);
}

/** Every wrapped data key of every tenant, for a rewrap. */
export async function readAllWrapped(
  reader: KeyTableReader,
): Promise<Array<{ tenant: string; version: number; wrapped: WrappedDataKey }>> {
  const result = await reader.execute(
    'SELECT tenant, version, provider, kek_id, wrapped FROM tenant_data_keys ORDER BY tenant, version',
  );
  return result.rows.map((row) => ({
    tenant: String(row[0]),
    version: Number(row[1]),
    wrapped: wrappedFromRow(row[2], row[3], row[4]),
  }));
}

/** The next version number of `tenant`, inside a write transaction. */
export async function nextVersion(tx: Transaction, tenant: string): Promise<number> {
  const head = await tx.execute({
    sql: 'SELECT COALESCE(MAX(version), 0) FROM tenant_data_keys WHERE tenant = ?',
    args: [tenant],
  });
  return Number(head.rows[0]?.[0] ?? 0) + 1;
}

/** Stores a new version as `pending`: not used by writes until {@link activateVersion}. */
export async function insertPending(
  tx: Transaction,
  tenant: string,
  version: number,
  wrapped: WrappedDataKey,
): Promise<void> {
  await tx.execute({
    sql: `INSERT INTO tenant_data_keys (tenant, version, provider, kek_id, wrapped, state, created_at)
          VALUES (?, ?, ?, ?, ?, 'pending', ?)`,
    args: [tenant, version, wrapped.provider, wrapped.kekId, wrapped.ciphertext, Date.now()],
  });
}

/** Makes `version` the active one; the older active version turns `decrypt-only`. */
export async function activateVersion(
  tx: Transaction,
  tenant: string,
  version: number,
): Promise<void> {
  await tx.execute({
    sql: `UPDATE tenant_data_keys SET state = 'decrypt-only'
          WHERE tenant = ? AND state = 'active' AND version < ?`,
    args: [tenant, version],
  });
  await tx.execute({
    sql: `UPDATE tenant_data_keys SET state = 'active'
          WHERE tenant = ? AND version = ? AND state = 'pending'`,
    args: [tenant, version],
  });
}

/** Marks `decrypt-only` versions `retired`. */
export async function retireVersions(
  tx: Transaction,
  tenant: string,
  versions: number[],
): Promise<void> {
  for (const version of versions) {
    await tx.execute({
      sql: `UPDATE tenant_data_keys SET state = 'retired'
            WHERE tenant = ? AND version = ? AND state = 'decrypt-only'`,
      args: [tenant, version],
    });
  }
}

/** Stores the rewrapped form of a data key version. */
export async function storeRewrapped(
  tx: Transaction,
  tenant: string,
  version: number,
  wrapped: WrappedDataKey,
): Promise<void> {
  await tx.execute({
    sql: `UPDATE tenant_data_keys SET provider = ?, kek_id = ?, wrapped = ?, rewrapped_at = ?
          WHERE tenant = ? AND version = ?`,
    args: [wrapped.provider, wrapped.kekId, wrapped.ciphertext, Date.now(), tenant, version],
  });
}

function wrappedFromRow(provider: unknown, kekId: unknown, ciphertext: unknown): WrappedDataKey {
  return {
    provider: String(provider) as KekProviderKind,
    kekId: String(kekId),
    ciphertext: String(ciphertext),
  };
}

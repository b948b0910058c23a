import type { Transaction } from '@libsql/client';

// TODO: these tables are created here at start with CREATE TABLE IF NOT EXISTS, beside the
// store's own migrations in origin/store/migrations.ts. Moving them into that list would give
// them a schema version; until then a change to them needs its own IF NOT EXISTS step here.

/** Statements that create the key tables when they are missing. */
export const KEY_TABLE_STATEMENTS = [
  // One row per data key version of a tenant, wrapped by a key-encryption key. state:
  // `active` (the version new writes use: the highest), `decrypt-only` (older, still in use),
  // `retired` (no live secret uses it; kept so that history and rollback still open).
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

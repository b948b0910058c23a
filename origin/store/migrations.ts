/**
 * The versioned schema of the origin store. Each migration runs once, in order, inside one write
 * transaction together with its row in `schema_migrations`. Never edit a migration that has
 * shipped: add the next one.
 */
export interface Migration {
  /** Schema version reached once this migration ran; versions start at 1 without gaps. */
  version: number;
  /** What the migration does, for the log. */
  description: string;
  /** The statements, run in order. */
  statements: string[];
}

/** Every migration of the origin store, oldest first. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'tenants, entries, versions, change log, snapshots, tokens, meta',
    statements: [
      `CREATE TABLE meta (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID`,
      // horizon: the newest revision whose change records were dropped by compaction.
      `CREATE TABLE tenants (
        id TEXT PRIMARY KEY,
        head_revision INTEGER NOT NULL DEFAULT 0,
        horizon INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      ) WITHOUT ROWID`,
      // The current state of every live key; value is its JSON text.
      `CREATE TABLE entries (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        revision INTEGER NOT NULL,
        hash TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (tenant, key)
      ) WITHOUT ROWID`,
      // Every version of every key, kept after compaction; value is gzip of the JSON text,
      // null for a delete (a tombstone).
      `CREATE TABLE versions (
        tenant TEXT NOT NULL,
        key TEXT NOT NULL,
        revision INTEGER NOT NULL,
        op TEXT NOT NULL,
        kind TEXT NOT NULL,
        value BLOB,
        hash TEXT,
        size INTEGER NOT NULL,
        actor TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (tenant, key, revision)
      )`,
      // The change log: one record per changed key per revision; patch is RFC 6902 JSON text.
      `CREATE TABLE changes (
        tenant TEXT NOT NULL,
        revision INTEGER NOT NULL,
        key TEXT NOT NULL,
        op TEXT NOT NULL,
        kind TEXT NOT NULL,
        patch TEXT,
        hash TEXT,
        actor TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (tenant, revision, key)
      ) WITHOUT ROWID`,
      `CREATE TABLE snapshots (
        tenant TEXT NOT NULL,
        name TEXT NOT NULL,
        revision INTEGER NOT NULL,
        actor TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (tenant, name)
      ) WITHOUT ROWID`,
      // hash: SHA-256 hex of the token's text; the text itself is never stored.
      `CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL,
        role TEXT NOT NULL,
        tenants TEXT NOT NULL,
        prefixes TEXT,
        reveal INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        revoked_at INTEGER
      ) WITHOUT ROWID`,
    ],
  },
];

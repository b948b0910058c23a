import { randomUUID } from 'node:crypto';
import { type Client, createClient, LibsqlError } from '@libsql/client';
import { MIGRATIONS } from './migrations.ts';

/** How the store reaches its database. */
export interface DatabaseOptions {
  /** A libSQL URL: `file:/path/origin.db` for the embedded default, or a libSQL server. */
  url: string;
  /** Auth token for a remote libSQL server; unused for files. */
  authToken?: string;
  /** How long a write waits for another process holding the database lock. */
  busyTimeoutMs: number;
}

/** An open store database with its schema applied. */
export interface OpenDatabase {
  client: Client;
  /** The store epoch, read from (or created in) the meta table. */
  epoch: string;
  /** Schema version after migrations. */
  schemaVersion: number;
  /** True when the database held no schema before this start. */
  created: boolean;
}

const BUSY_RETRY_MIN_MS = 2;
const BUSY_RETRY_MAX_MS = 50;

/** True when `error` says another connection holds the lock (SQLITE_BUSY or SQLITE_LOCKED). */
export function isBusyError(error: unknown): boolean {
  if (!(error instanceof LibsqlError)) return false;
  return /SQLITE_(BUSY|LOCKED)/.test(`${error.code} ${error.message}`);
}

/**
 * Runs `operation`, retrying it after a short asynchronous pause while the database is locked by
 * another process, for at most `busyTimeoutMs`. The driver's own busy timeout would block the
 * event loop while it waits, so the waiting happens here instead.
 */
export async function withBusyRetry<T>(busyTimeoutMs: number, operation: () => Promise<T>) {
  const deadline = Date.now() + busyTimeoutMs;
  let pauseMs = BUSY_RETRY_MIN_MS;

  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!isBusyError(error) || Date.now() + pauseMs > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    pauseMs = Math.min(pauseMs * 2, BUSY_RETRY_MAX_MS);
  }
}

/**
 * Opens the store database, switches a local file to WAL, checks that commits are synced to
 * disk (synchronous=FULL, the driver's default), and applies pending migrations.
 */
export async function openDatabase(options: DatabaseOptions): Promise<OpenDatabase> {
  const client = createClient({ url: options.url, authToken: options.authToken });
  try {
    const local = options.url.startsWith('file:');
    if (local) await prepareLocalFile(client, options.busyTimeoutMs);

    const { version, created } = await migrate(client, options.busyTimeoutMs);
    const epoch = await readOrCreateEpoch(client, options.busyTimeoutMs);
    return { client, epoch, schemaVersion: version, created };
  } catch (error) {
    client.close();
    throw error;
  }
}

async function prepareLocalFile(client: Client, busyTimeoutMs: number): Promise<void> {
  // journal_mode=WAL is stored in the file, so setting it once holds for every connection.
  await withBusyRetry(busyTimeoutMs, () => client.execute('PRAGMA journal_mode=WAL'));

  // synchronous is per connection; the driver opens every connection with FULL (2), which in
  // WAL mode syncs the log on each commit. Refuse to run if a driver upgrade changes that.
  const result = await client.execute('PRAGMA synchronous');
  const level = Number(result.rows[0]?.[0]);
  if (level < 2) {
    throw new Error(`the database driver opens connections with synchronous=${level}, not FULL`);
  }
}

async function migrate(client: Client, busyTimeoutMs: number) {
  await withBusyRetry(busyTimeoutMs, () =>
    client.execute(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
    ),
  );
  const before = await currentVersion(client);

  for (const migration of MIGRATIONS) {
    if (migration.version <= before) continue;
    await withBusyRetry(busyTimeoutMs, async () => {
      const transaction = await client.transaction('write');
      try {
        // Another process may have migrated while this one waited for the lock.
        const applied = await transaction.execute({
          sql: 'SELECT 1 FROM schema_migrations WHERE version = ?',
          args: [migration.version],
        });
        if (applied.rows.length === 0) {
          for (const statement of migration.statements) await transaction.execute(statement);
          await transaction.execute({
            sql: 'INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)',
            args: [migration.version, migration.description, Date.now()],
          });
        }
        await transaction.commit();
      } finally {
        transaction.close();
      }
    });
  }
  return { version: await currentVersion(client), created: before === 0 };
}

async function currentVersion(client: Client): Promise<number> {
  const result = await client.execute('SELECT COALESCE(MAX(version), 0) FROM schema_migrations');
  return Number(result.rows[0]?.[0] ?? 0);
}

async function readOrCreateEpoch(client: Client, busyTimeoutMs: number): Promise<string> {
  await withBusyRetry(busyTimeoutMs, () =>
    client.execute({
      sql: "INSERT INTO meta (name, value) VALUES ('epoch', ?) ON CONFLICT (name) DO NOTHING",
      args: [randomUUID()],
    }),
  );
  const result = await client.execute("SELECT value FROM meta WHERE name = 'epoch'");
  return String(result.rows[0]?.[0]);
}

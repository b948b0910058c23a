import { randomUUID } from 'node:crypto';
import {
  type Client,
  createClient,
  type InStatement,
  LibsqlError,
  type ResultSet,
  type Transaction,
} from '@libsql/client';
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
export async function withBusyRetry<T>(
  busyTimeoutMs: number,
  operation: () => Promise<T>,
  onBusy: () => void = () => {},
) {
  const deadline = Date.now() + busyTimeoutMs;
  let pauseMs = BUSY_RETRY_MIN_MS;

  for (;;) {
    try {
      return await operation();
    } catch (error) {
      if (!isBusyError(error)) throw error;
      onBusy();
      if (Date.now() + pauseMs > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
    pauseMs = Math.min(pauseMs * 2, BUSY_RETRY_MAX_MS);
  }
}

/**
 * The store's database: one client for reads and one, with a single connection, for the write
 * transactions of the write queue. A statement that failed with SQLITE_BUSY stays active in the
 * driver until it is garbage-collected, and an active write statement makes every later
 * SAVEPOINT and COMMIT on its connection fail; so after a BUSY the client that saw it is closed
 * and replaced, which finalizes the stuck statement with its connection.
 */
export class StoreDatabase {
  /** The store epoch, read from (or created in) the meta table. */
  readonly epoch: string;
  /** Schema version after migrations. */
  readonly schemaVersion: number;
  readonly #options: DatabaseOptions;
  #reader: Client;
  #writer: Client;

  private constructor(options: DatabaseOptions, reader: Client, writer: Client, epoch: string) {
    this.#options = options;
    this.#reader = reader;
    this.#writer = writer;
    this.epoch = epoch;
    this.schemaVersion = MIGRATIONS.at(-1)?.version ?? 0;
  }

  /**
   * Opens the store database, switches a local file to WAL, checks that commits are synced to
   * disk (synchronous=FULL, the driver's default), and applies pending migrations.
   */
  static async open(options: DatabaseOptions): Promise<StoreDatabase> {
    const writer = openClient(options, 1);
    let reader: Client | undefined;
    try {
      if (options.url.startsWith('file:')) await prepareLocalFile(writer, options.busyTimeoutMs);
      await migrate(writer, options.busyTimeoutMs);
      const epoch = await readOrCreateEpoch(writer, options.busyTimeoutMs);
      reader = openClient(options);
      return new StoreDatabase(options, reader, writer, epoch);
    } catch (error) {
      writer.close();
      reader?.close();
      throw error;
    }
  }

  /** Runs one read statement, waiting out another process's lock. */
  execute(statement: InStatement): Promise<ResultSet> {
    return withBusyRetry(
      this.#options.busyTimeoutMs,
      () => this.#reader.execute(statement),
      () => this.#recycleReader(),
    );
  }

  /** Runs read statements in one transaction, so that they see one state of the database. */
  batch(statements: InStatement[]): Promise<ResultSet[]> {
    return withBusyRetry(
      this.#options.busyTimeoutMs,
      () => this.#reader.batch(statements, 'deferred'),
      () => this.#recycleReader(),
    );
  }

  /** Opens the write transaction; only the write queue calls this, one at a time. */
  beginWrite(): Promise<Transaction> {
    return withBusyRetry(
      this.#options.busyTimeoutMs,
      () => this.#writer.transaction('write'),
      () => {
        this.#writer.close();
        this.#writer = openClient(this.#options, 1);
      },
    );
  }

  /** Closes both clients. */
  close(): void {
    this.#reader.close();
    this.#writer.close();
  }

  #recycleReader(): void {
    // Reads are single synchronous calls on a local file, so none is in flight here.
    this.#reader.close();
    this.#reader = openClient(this.#options);
  }
}

function openClient(options: DatabaseOptions, concurrency?: number): Client {
  return createClient({
    url: options.url,
    ...(options.authToken !== undefined && { authToken: options.authToken }),
    ...(concurrency !== undefined && { concurrency }),
  });
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

async function migrate(client: Client, busyTimeoutMs: number): Promise<void> {
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

import type { Transaction } from '@libsql/client';
import { LcmError } from '../../core/index.ts';
import type { StoreDatabase } from './database.ts';

/** What a write job returns: its result, and what to do once the transaction is durable. */
export interface JobOutcome<T> {
  result: T;
  /** Called right after the commit, before the job's promise settles, in commit order. */
  afterCommit?: () => void;
}

/** One unit of work inside a write transaction. It must do all its reads and writes via `tx`. */
export type WriteJob<T> = (tx: Transaction) => Promise<JobOutcome<T>>;

interface PendingJob {
  job: WriteJob<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Settings of a {@link WriteQueue}. */
export interface WriteQueueOptions {
  /** Most jobs committed together in one transaction (group commit). */
  maxJobsPerTransaction: number;
}

/**
 * Serializes every write of the process. The database client is a pool of connections, and two
 * write transactions open at once on one file fail with SQLITE_BUSY, so all writes go through
 * here. Jobs queued while a transaction runs are committed together in the next one (group
 * commit): each job runs inside its own savepoint, so a failing job is undone alone while the
 * others commit, and one sync to disk serves them all.
 */
export class WriteQueue {
  readonly #database: StoreDatabase;
  readonly #options: WriteQueueOptions;
  #pending: PendingJob[] = [];
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(database: StoreDatabase, options: WriteQueueOptions) {
    this.#database = database;
    this.#options = options;
  }

  /** Runs `job` in a write transaction; resolves once its work is durable. */
  run<T>(job: WriteJob<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new LcmError('unavailable', 'the store is shutting down'));
    }
    const outcome = new Promise<T>((resolve, reject) => {
      this.#pending.push({ job: job as WriteJob<unknown>, resolve: resolve as never, reject });
    });
    this.#running ??= this.#drain();
    return outcome;
  }

  /** Refuses new jobs and waits for the queued ones to finish. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        // The local database answers without a turn of the event loop, so a burst of writes
        // would starve timers and sockets (heartbeats, the hub's coalesced frames and its
        // slow-agent checks); one turn per transaction keeps them served and lets more jobs
        // join the batch.
        await new Promise((resolve) => setImmediate(resolve));
        const batch = this.#pending.splice(0, this.#options.maxJobsPerTransaction);
        await this.#commitBatch(batch);
      }
    } finally {
      this.#running = undefined;
    }
  }

  async #commitBatch(batch: PendingJob[]): Promise<void> {
    const settled: Array<{ pending: PendingJob; outcome?: JobOutcome<unknown>; error?: unknown }> =
      [];

    try {
      const tx = await this.#database.beginWrite();
      try {
        for (const [index, pending] of batch.entries()) {
          settled.push(await runInSavepoint(tx, `job${index}`, pending));
        }
        await tx.commit();
      } finally {
        tx.close();
      }
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }

    for (const { pending, outcome, error } of settled) {
      if (outcome === undefined) {
        pending.reject(error);
        continue;
      }
      outcome.afterCommit?.();
      pending.resolve(outcome.result);
    }
  }
}

async function runInSavepoint(tx: Transaction, name: string, pending: PendingJob) {
  await tx.execute(`SAVEPOINT ${name}`);
  try {
    const outcome = await pending.job(tx);
    await tx.execute(`RELEASE ${name}`);
    return { pending, outcome };
  } catch (error) {
    await tx.execute(`ROLLBACK TO ${name}`);
    await tx.execute(`RELEASE ${name}`);
    return { pending, error };
  }
}

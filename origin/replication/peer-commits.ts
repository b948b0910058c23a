import type { Logger } from 'pino';
import { LcmError } from '../../core/index.ts';
import type { CommitEvent, ReplicatedChange, ReplicationSource } from './contract.ts';

/** What the poller needs from the hub around it. */
export interface PeerCommitDeps {
  store: ReplicationSource;
  logger: Logger;
  /** Poll interval in milliseconds; 0 turns polling off. */
  intervalMs: number;
  /** Change records read from the log per page. */
  pageRecords: number;
  /** Tenants some connected agent carries now. */
  carriedTenants(): Iterable<string>;
  /** Hands a commit to the live streams, as the store's own commit events are. */
  fanOut(event: CommitEvent): void;
  /** The log no longer holds what was missed: every stream of `tenant` catches up on its own. */
  behind(tenant: string, head: number): void;
}

/**
 * Commits made by other origin processes on the same database. The store announces only the
 * commits of this process; this poller reads the carried tenants' heads every `intervalMs`, and
 * for a head past what was streamed, reads the new change records from the log and hands them
 * to the hub in revision order, each commit once.
 */
export class PeerCommitPoller {
  /** Per carried tenant, the highest revision handed to the live streams. */
  private readonly streamed = new Map<string, number>();
  private readonly timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(private readonly deps: PeerCommitDeps) {
    if (deps.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      this.polling ??= this.poll().finally(() => {
        this.polling = undefined;
      });
    }, deps.intervalMs);
    this.timer.unref();
  }

  /**
   * A session carries `tenant` and read `head` from the store for its hello: its catch-up covers
   * everything up to there, so the poller streams only what comes after.
   */
  watch(tenant: string, head: number): void {
    if (!this.streamed.has(tenant)) this.streamed.set(tenant, head);
  }

  /** A commit went to the live streams (this process's own, or a peer's). */
  streamedUpTo(tenant: string, revision: number): void {
    const streamed = this.streamed.get(tenant);
    if (streamed !== undefined && revision > streamed) this.streamed.set(tenant, revision);
  }

  /** Stops polling and waits for a poll in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  private async poll(): Promise<void> {
    const carried = new Set(this.deps.carriedTenants());
    for (const tenant of this.streamed.keys()) {
      if (!carried.has(tenant)) this.streamed.delete(tenant);
    }
    for (const tenant of [...this.streamed.keys()]) {
      try {
        await this.pollTenant(tenant);
      } catch (error) {
        this.deps.logger.warn({ err: error, tenant }, 'peer commits not read');
      }
    }
  }

  private async pollTenant(tenant: string): Promise<void> {
    const { store, pageRecords } = this.deps;
    let head: number;
    try {
      head = await store.headRevision(tenant);
    } catch (error) {
      if (error instanceof LcmError && error.code === 'not_found') return;
      throw error;
    }

    for (;;) {
      const after = this.streamed.get(tenant);
      if (after === undefined || after >= head) return;
      let changes: ReplicatedChange[];
      try {
        changes = await store.changesAfter(tenant, after, pageRecords);
      } catch (error) {
        if (!(error instanceof LcmError) || error.code !== 'compacted') throw error;
        this.streamed.set(tenant, head);
        this.deps.behind(tenant, head);
        return;
      }
      if (changes.length === 0) return;

      for (const event of toCommitEvents(tenant, store.epoch, changes)) {
        // This process's own commits may have gone out while the page was read.
        if (event.revision <= (this.streamed.get(tenant) ?? 0)) continue;
        this.deps.fanOut(event);
        this.streamedUpTo(tenant, event.revision);
      }
      const last = changes.at(-1)!.record.revision;
      if (last <= after) return;
    }
  }
}

/** Groups change records (in revision order) into commit events. */
function toCommitEvents(tenant: string, epoch: string, changes: ReplicatedChange[]): CommitEvent[] {
  const events: CommitEvent[] = [];
  for (const change of changes) {
    let event = events.at(-1);
    if (event?.revision !== change.record.revision) {
      event = {
        tenant,
        revision: change.record.revision,
        epoch,
        at: change.record.at,
        changes: [],
      };
      events.push(event);
    }
    event.changes.push(change);
  }
  return events;
}

import { LcmError } from '../../core/index.ts';
import type { DeltaCommit, Message } from '../../protocol/index.ts';
import type { ReplicationSource } from './contract.ts';
import { toDeltaCommits } from './delta-commits.ts';
import type { SessionContext } from './session-context.ts';
import { chunkEntries } from './snapshot-chunks.ts';

/** Commit times kept per tenant to measure lag; beyond this, lag is measured more coarsely. */
const MAX_TRACKED_COMMITS = 10_000;

/** Polling interval while waiting for a socket's buffer to drain. */
const DRAIN_POLL_MS = 5;

/** Reads of the log, DRAIN_POLL_MS apart, that may find nothing before a tenant goes live. */
const MAX_LOG_WAITS = 200;

interface TenantStream {
  tenant: string;
  /** `live`: new commits go out as they come; `syncing`: the pump reads from the log. */
  mode: 'live' | 'syncing';
  needSnapshot: boolean;
  /** The last revision sent, or queued to be sent. */
  sentRevision: number;
  /** The highest revision the agent can hold from this session: the most it may acknowledge. */
  ackCeiling: number;
  appliedRevision: number;
  lastAckAt: number | null;
  /** Revision and commit time of commits not acknowledged yet, oldest first. */
  unacked: Array<{ revision: number; at: number }>;
}

/** One agent's progress on one tenant, as `GET /v1/agents` shows it. */
export interface TenantProgress {
  appliedRevision: number;
  lagRevisions: number;
  lagMs: number;
  lastAckAt: number | null;
}

/** What a feed needs from the session that owns the socket. */
export interface TenantFeedDeps {
  context: SessionContext;
  /** Encodes and sends a message; false when the socket is closed. */
  send(message: Message): boolean;
  /** Bytes queued on the socket and not yet written. */
  bufferedAmount(): number;
  closed(): boolean;
  /** The catch-up failed for a reason other than the agent (the store): end the session. */
  fail(error: unknown): void;
}

/**
 * What one agent receives of its tenants: per tenant a snapshot or a resume from the log, then
 * live commits coalesced over a few milliseconds. The change log is the buffer: a tenant whose
 * socket is backed up past the high-water mark, or that missed a commit, falls back to catch-up
 * from the log, so that memory stays bounded however slow the agent is.
 */
export class TenantFeed {
  private readonly streams = new Map<string, TenantStream>();
  private pending: DeltaCommit[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private pumping = false;
  private pumpAgain = false;

  constructor(private readonly deps: TenantFeedDeps) {}

  /** Adds a tenant: resumed after `resumeFrom`, or from a snapshot when that is undefined. */
  add(tenant: string, resumeFrom: number | undefined): void {
    this.streams.set(tenant, {
      tenant,
      mode: 'syncing',
      needSnapshot: resumeFrom === undefined,
      sentRevision: resumeFrom ?? 0,
      ackCeiling: resumeFrom ?? 0,
      // A cursor that cannot be resumed says nothing about this store: nothing is applied yet.
      appliedRevision: resumeFrom ?? 0,
      lastAckAt: null,
      unacked: [],
    });
  }

  /** True when the feed carries `tenant`. */
  has(tenant: string): boolean {
    return this.streams.has(tenant);
  }

  /** The tenants the feed carries. */
  tenants(): string[] {
    return [...this.streams.keys()];
  }

  /** Brings a live tenant up to date from the log, for commits the hub could not hand over. */
  refresh(tenant: string): void {
    const stream = this.streams.get(tenant);
    if (stream?.mode === 'live' && !this.deps.closed()) this.startSyncing(stream);
  }

  /** Starts bringing every tenant up to date. */
  start(): void {
    void this.pump();
  }

  /** Stops the coalescing timer; the session is closing. */
  stop(): void {
    clearTimeout(this.flushTimer);
  }

  /** Per tenant, the agent's progress. */
  progress(): Record<string, TenantProgress> {
    const now = Date.now();
    const result: Record<string, TenantProgress> = {};
    for (const stream of this.streams.values()) {
      const oldest = stream.unacked[0];
      result[stream.tenant] = {
        appliedRevision: stream.appliedRevision,
        lagRevisions: Math.max(0, this.deps.context.head(stream.tenant) - stream.appliedRevision),
        lagMs: oldest === undefined ? 0 : Math.max(0, now - oldest.at),
        lastAckAt: stream.lastAckAt,
      };
    }
    return result;
  }

  /**
   * Records what the agent acknowledged as applied. An ack beyond anything this session sent
   * is a lie about the agent's progress: a `protocol_error`.
   */
  ack(tenant: string, revision: number): void {
    const stream = this.streams.get(tenant);
    if (stream === undefined) return;
    if (revision > stream.ackCeiling) {
      throw new LcmError(
        'protocol_error',
        `an ack of ${tenant} at revision ${revision}, beyond revision ${stream.ackCeiling} sent`,
      );
    }
    stream.appliedRevision = revision;
    stream.lastAckAt = Date.now();
    let acked = 0;
    while (acked < stream.unacked.length && stream.unacked[acked]!.revision <= revision) acked++;
    stream.unacked.splice(0, acked);
  }

  /** The agent asked for a fresh snapshot of `tenant`. */
  resync(tenant: string): void {
    const stream = this.streams.get(tenant);
    if (stream === undefined) return;
    stream.needSnapshot = true;
    this.startSyncing(stream);
  }

  /** Called after every durable commit of any tenant. */
  commit(tenant: string, revision: number, at: number, commit: () => DeltaCommit): void {
    const stream = this.streams.get(tenant);
    if (stream === undefined || this.deps.closed()) return;
    if (stream.unacked.length < MAX_TRACKED_COMMITS) stream.unacked.push({ revision, at });
    if (stream.mode !== 'live' || revision <= stream.sentRevision) return;

    if (revision !== stream.sentRevision + 1) {
      this.startSyncing(stream);
      return;
    }
    const { settings, metrics } = this.deps.context;
    if (this.deps.bufferedAmount() > settings.highWaterBytes) {
      metrics.slowAgentFallbacks.inc();
      this.startSyncing(stream);
      return;
    }
    let delta: DeltaCommit;
    try {
      delta = commit();
    } catch {
      // A commit the hub cannot turn into a delta is read again from the log by the pump.
      this.startSyncing(stream);
      return;
    }
    this.pending.push(delta);
    markSent(stream, revision);
    this.flushTimer ??= setTimeout(() => this.flush(), settings.coalesceMs);
  }

  private startSyncing(stream: TenantStream): void {
    stream.mode = 'syncing';
    void this.pump();
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const commits = this.pending;
    this.pending = [];
    if (commits.length > 0) this.sendCommits(commits);
  }

  /** Sends commits in as few frames as fit; a commit too large for any frame means a snapshot. */
  private sendCommits(commits: DeltaCommit[]): void {
    try {
      this.deps.send({ type: 'delta', epoch: this.deps.context.store.epoch, commits });
    } catch (error) {
      if (!(error instanceof LcmError) || error.code !== 'too_large') throw error;
      if (commits.length > 1) {
        const half = Math.ceil(commits.length / 2);
        this.sendCommits(commits.slice(0, half));
        this.sendCommits(commits.slice(half));
        return;
      }
      this.resync(commits[0]!.tenant);
    }
  }

  /** Brings every syncing tenant up to date from snapshots and the log, one at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (const stream of this.streams.values()) {
          if (stream.mode === 'syncing' && !this.deps.closed()) await this.catchUp(stream);
        }
      } while (this.pumpAgain && !this.deps.closed());
    } catch (error) {
      if (!this.deps.closed()) this.deps.fail(error);
    } finally {
      this.pumping = false;
    }
  }

  private async catchUp(stream: TenantStream): Promise<void> {
    // Commits queued before the tenant fell back must leave first, to keep revision order.
    this.flush();

    const { store, settings, head } = this.deps.context;
    let waits = 0;
    let snapshotSent = false;
    while (!this.deps.closed()) {
      if (stream.needSnapshot) {
        await this.sendSnapshot(stream);
        snapshotSent = true;
        continue;
      }

      await this.drained();
      let changes: Awaited<ReturnType<ReplicationSource['changesAfter']>>;
      try {
        changes = await store.changesAfter(
          stream.tenant,
          stream.sentRevision,
          settings.pageRecords,
        );
      } catch (error) {
        // Behind the horizon, or (bad_revision) ahead of the head: the agent's cursor is of no
        // use, so it gets a snapshot. Once per catch-up, so that a fault cannot make a loop.
        const cursorUseless =
          error instanceof LcmError && ['compacted', 'bad_revision'].includes(error.code);
        if (cursorUseless && !snapshotSent) {
          stream.needSnapshot = true;
          continue;
        }
        if (error instanceof LcmError && error.code === 'not_found') {
          // The tenant does not exist yet. One empty snapshot at revision 0 tells the agent it
          // is in step; the tenant's first commit then arrives live like any other.
          if (!snapshotSent && stream.sentRevision === 0) {
            stream.needSnapshot = true;
            continue;
          }
          stream.mode = 'live';
          return;
        }
        throw error;
      }

      if (changes.length === 0) {
        // A commit announced while the log was read is durable; read again until it shows.
        if (head(stream.tenant) > stream.sentRevision && waits++ < MAX_LOG_WAITS) {
          await sleep(DRAIN_POLL_MS);
          continue;
        }
        stream.mode = 'live';
        return;
      }
      const commits = toDeltaCommits(stream.tenant, changes);
      this.sendCommits(commits);
      markSent(stream, commits.at(-1)!.revision);
    }
  }

  private async sendSnapshot(stream: TenantStream): Promise<void> {
    const { store, settings, metrics } = this.deps.context;
    stream.needSnapshot = false;
    let snapshot: Awaited<ReturnType<ReplicationSource['snapshot']>>;
    try {
      snapshot = await this.deps.context.snapshot(stream.tenant);
    } catch (error) {
      if (!(error instanceof LcmError) || error.code !== 'not_found') throw error;
      snapshot = { revision: 0, entries: [] };
    }

    const chunks = chunkEntries(snapshot.entries, settings.snapshotChunkBytes);
    for (const [index, entries] of chunks.entries()) {
      await this.drained();
      this.deps.send({
        type: 'snapshot',
        tenant: stream.tenant,
        epoch: store.epoch,
        revision: snapshot.revision,
        chunk: index,
        entries,
        last: index === chunks.length - 1,
      });
    }
    markSent(stream, snapshot.revision);
    metrics.snapshotsSent.inc({ tenant: stream.tenant });
  }

  private async drained(): Promise<void> {
    const { lowWaterBytes } = this.deps.context.settings;
    while (!this.deps.closed() && this.deps.bufferedAmount() > lowWaterBytes) {
      await sleep(DRAIN_POLL_MS);
    }
  }
}

function markSent(stream: TenantStream, revision: number): void {
  stream.sentRevision = revision;
  stream.ackCeiling = Math.max(stream.ackCeiling, revision);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

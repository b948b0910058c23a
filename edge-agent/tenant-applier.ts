import { LcmError } from '../core/index.ts';
import type {
  DeltaMessage,
  Message,
  SnapshotChunkMessage,
  WelcomeMessage,
} from '../protocol/index.ts';
import type { AgentMetrics } from './agent-metrics.ts';
import { fullJitterDelayMs, RESYNC_BASE_MS, RESYNC_CAP_MS } from './backoff.ts';
import { contentHashSync } from './content-hash-node.ts';
import { type EntryIndex, type IndexedEntry, indexedFromValue } from './entry-index.ts';
import { prepareCommit } from './prepare-commit.ts';
import type { Replica, ReplicaEntry } from './replica.ts';
import type { SyncEvent } from './sync-client.ts';

type TenantSync =
  | { mode: 'live' }
  | { mode: 'awaiting-snapshot' }
  | {
      mode: 'receiving-snapshot';
      epoch: string;
      revision: number;
      nextChunk: number;
      entries: IndexedEntry[];
    };

/**
 * Snapshot requests of one tenant since it last applied something. A tenant whose snapshots
 * keep failing (a hash that never matches) asks again only after a growing, jittered wait, so
 * that one bad entry cannot make the agent and the origin copy the tenant in a tight loop.
 */
interface ResyncBackoff {
  /** Requests made since the last successful apply; the first one goes out at once. */
  requests: number;
  /** The request waiting for its turn. */
  timer: NodeJS.Timeout | undefined;
}

/** What the applier needs from the connection around it. */
export interface TenantApplierDeps {
  tenants: readonly string[];
  replica: Replica;
  index: EntryIndex;
  metrics: AgentMetrics;
  /** Sends a message to the origin (dropped when not connected). */
  send(message: Message): void;
  emit(event: SyncEvent): void;
  /** Called after something was applied, so that an ack goes out soon. */
  applied(): void;
  /** Reports a frame that was rejected. */
  reject(error: unknown): void;
}

/**
 * Applies what the origin sends to the replica and the index, tenant by tenant: snapshot chunks
 * staged and swapped in at the last one, deltas checked (next revision, content hash) and
 * written one commit per transaction. Whatever fails a check is not applied, and the tenant is
 * asked for again as a snapshot.
 */
export class TenantApplier {
  private readonly sync = new Map<string, TenantSync>();
  private readonly heads = new Map<string, number>();
  private readonly resyncs = new Map<string, ResyncBackoff>();

  constructor(private readonly deps: TenantApplierDeps) {}

  /** True when `tenant` is applied live (not waiting for or receiving a snapshot). */
  isLive(tenant: string): boolean {
    return this.sync.get(tenant)?.mode === 'live';
  }

  /** Takes the origin's plan for each tenant from its welcome. */
  welcome(welcome: WelcomeMessage, now: number): void {
    // A request waiting from the last connection is replaced by the new plan; the count stays,
    // so that reconnecting does not undo the backoff of a tenant that keeps failing.
    for (const backoff of this.resyncs.values()) {
      clearTimeout(backoff.timer);
      backoff.timer = undefined;
    }
    for (const plan of welcome.tenants) {
      if (!this.deps.tenants.includes(plan.tenant)) continue;
      this.heads.set(plan.tenant, plan.headRevision);
      const held = this.deps.index.tenant(plan.tenant);
      if (plan.mode === 'snapshot') {
        this.sync.set(plan.tenant, { mode: 'awaiting-snapshot' });
      } else if (held === undefined || held.epoch !== welcome.epoch) {
        this.requestSnapshot(plan.tenant, 'resume offered for a cursor of another epoch');
      } else {
        this.sync.set(plan.tenant, { mode: 'live' });
        this.deps.index.touch(plan.tenant, now);
        this.updateLag(plan.tenant, held.revision);
      }
    }
  }

  /**
   * Asks the origin for a fresh snapshot of `tenant`, once until it starts arriving. The first
   * request after a successful apply goes out at once; each further one waits a jittered,
   * doubling delay (up to {@link RESYNC_CAP_MS}), and frames of the tenant are not applied
   * meanwhile. One `resync` event per request, not per rejected frame.
   */
  requestSnapshot(tenant: string, reason: string): void {
    if (this.sync.get(tenant)?.mode === 'awaiting-snapshot') return;
    this.sync.set(tenant, { mode: 'awaiting-snapshot' });

    const backoff = this.resyncs.get(tenant) ?? { requests: 0, timer: undefined };
    this.resyncs.set(tenant, backoff);
    clearTimeout(backoff.timer);
    const attempt = backoff.requests++;
    const delayMs =
      attempt === 0 ? 0 : fullJitterDelayMs(attempt - 1, RESYNC_BASE_MS, RESYNC_CAP_MS);
    const ask = () => {
      backoff.timer = undefined;
      // A snapshot the origin sent of its own accord may have started meanwhile.
      if (this.sync.get(tenant)?.mode !== 'awaiting-snapshot') return;
      this.deps.emit({ type: 'resync', tenant, reason, attempt, delayMs });
      this.deps.send({ type: 'resync', tenant, reason });
    };
    if (delayMs === 0) {
      ask();
      return;
    }
    backoff.timer = setTimeout(ask, delayMs);
    backoff.timer.unref();
  }

  /** Cancels the snapshot requests waiting for their turn; the connection is closing. */
  stop(): void {
    for (const backoff of this.resyncs.values()) clearTimeout(backoff.timer);
    this.resyncs.clear();
  }

  /** Something of `tenant` applied: the next failure asks for a snapshot at once again. */
  private succeeded(tenant: string): void {
    const backoff = this.resyncs.get(tenant);
    if (backoff === undefined) return;
    clearTimeout(backoff.timer);
    this.resyncs.delete(tenant);
  }

  /** Stages one snapshot chunk; the last one swaps the whole snapshot in. */
  async snapshotChunk(chunk: SnapshotChunkMessage): Promise<void> {
    const { tenant } = chunk;
    if (!this.deps.tenants.includes(tenant)) {
      throw new LcmError('protocol_error', `a snapshot of tenant ${tenant}, not replicated here`);
    }

    let state = this.sync.get(tenant);
    // The rest of a snapshot this agent already gave up on: the next one starts at chunk 0.
    if (chunk.chunk > 0 && state?.mode === 'awaiting-snapshot') return;
    if (chunk.chunk === 0) {
      state = {
        mode: 'receiving-snapshot',
        epoch: chunk.epoch,
        revision: chunk.revision,
        nextChunk: 0,
        entries: [],
      };
      this.sync.set(tenant, state);
      await this.deps.replica.beginSnapshot(tenant);
    }
    if (
      state?.mode !== 'receiving-snapshot' ||
      state.nextChunk !== chunk.chunk ||
      state.epoch !== chunk.epoch ||
      state.revision !== chunk.revision
    ) {
      this.requestSnapshot(tenant, 'snapshot chunk out of order');
      throw new LcmError(
        'protocol_error',
        `snapshot chunk ${chunk.chunk} of ${tenant} out of order`,
      );
    }

    const staged: ReplicaEntry[] = [];
    for (const entry of chunk.entries) {
      if (entry.kind === 'config' && contentHashSync(entry.value) !== entry.hash) {
        this.requestSnapshot(tenant, 'hash mismatch in a snapshot');
        throw new LcmError('hash_mismatch', `snapshot entry ${entry.key} of ${tenant} is corrupt`);
      }
      const valueJson = JSON.stringify(entry.value);
      state.entries.push(indexedFromValue(entry, valueJson));
      staged.push({ ...entry, valueJson });
    }
    await this.deps.replica.stageEntries(tenant, staged);
    state.nextChunk++;
    if (!chunk.last) return;

    const cursor = { tenant, epoch: chunk.epoch, revision: chunk.revision, lastSyncAt: Date.now() };
    await this.deps.replica.finishSnapshot(cursor);
    this.deps.index.replaceTenant(tenant, cursor, state.entries);
    this.sync.set(tenant, { mode: 'live' });
    this.succeeded(tenant);
    this.deps.metrics.snapshots.inc({ tenant });
    this.updateLag(tenant, chunk.revision);
    this.deps.emit({
      type: 'snapshot',
      tenant,
      revision: chunk.revision,
      entries: state.entries.length,
    });
    this.deps.applied();
  }

  /**
   * Applies a delta's commits in order, each in its own transaction. A commit for a tenant not
   * replicated here rejects the whole frame before anything is applied.
   */
  async delta(delta: DeltaMessage): Promise<void> {
    const foreign = delta.commits.find((commit) => !this.deps.tenants.includes(commit.tenant));
    if (foreign !== undefined) {
      throw new LcmError(
        'protocol_error',
        `a delta for tenant ${foreign.tenant}, not replicated here`,
      );
    }

    for (const commit of delta.commits) {
      const { tenant } = commit;
      if (this.sync.get(tenant)?.mode !== 'live') continue;
      const state = this.deps.index.tenant(tenant);
      if (state === undefined || state.epoch !== delta.epoch) {
        this.requestSnapshot(tenant, 'delta of another epoch');
        continue;
      }
      if (commit.revision <= state.revision) continue;

      try {
        const prepared = prepareCommit(tenant, state, commit);
        const appliedAt = Date.now();
        const cursor = {
          tenant,
          epoch: state.epoch,
          revision: commit.revision,
          lastSyncAt: appliedAt,
        };
        await this.deps.replica.applyCommit(cursor, prepared.replicaChanges);
        this.deps.index.applyCommit(tenant, commit.revision, appliedAt, prepared.indexChanges);
        this.heads.set(tenant, Math.max(this.heads.get(tenant) ?? 0, commit.revision));
        this.succeeded(tenant);
        this.updateLag(tenant, commit.revision, appliedAt - commit.at);
        this.deps.emit({ type: 'applied', tenant, revision: commit.revision });
      } catch (error) {
        this.deps.reject(error);
        this.requestSnapshot(tenant, (error as Error).message);
      }
    }
    this.deps.applied();
  }

  private updateLag(tenant: string, revision: number, lagMs?: number): void {
    const { metrics } = this.deps;
    metrics.appliedRevision.set({ tenant }, revision);
    metrics.lagRevisions.set({ tenant }, Math.max(0, (this.heads.get(tenant) ?? 0) - revision));
    if (lagMs !== undefined) metrics.lagSeconds.set({ tenant }, Math.max(0, lagMs) / 1000);
  }
}

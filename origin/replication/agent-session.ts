import type { Logger } from 'pino';
import WebSocket from 'ws';
import { LcmError } from '../../core/index.ts';
import {
  AGENT_MESSAGE_TYPES,
  type DeltaCommit,
  type FrameCodec,
  type HelloMessage,
  type Message,
  negotiateVersion,
  type TenantPlan,
} from '../../protocol/index.ts';
import type { DataKeyDistributor, ReplicationSource, TokenGrant } from './contract.ts';
import { toDeltaCommits } from './delta-commits.ts';
import type { HubMetrics } from './hub-metrics.ts';
import type { HubSettings } from './hub-settings.ts';
import { chunkEntries } from './snapshot-chunks.ts';

/** Commit times kept per tenant to measure lag; beyond this, lag is measured more coarsely. */
const MAX_TRACKED_COMMITS = 10_000;

/** Tries to send a tenant's data keys at hello while the key provider is unavailable. */
const DATA_KEY_TRIES = 6;

/** First pause before sending data keys again; doubles with each try. */
const DATA_KEY_RETRY_MS = 1_000;

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
  appliedRevision: number;
  lastAckAt: number | null;
  /** Revision and commit time of commits not acknowledged yet, oldest first. */
  unacked: Array<{ revision: number; at: number }>;
}

/** What a session needs from the hub around it. */
export interface SessionContext {
  store: ReplicationSource;
  codec: FrameCodec;
  settings: HubSettings;
  metrics: HubMetrics;
  logger: Logger;
  /** The newest revision announced for `tenant`, 0 when none. */
  head(tenant: string): number;
  /** Reads the tenant's head from the store and records it. */
  refreshHead(tenant: string): Promise<number>;
  /** The tenant's snapshot; sessions asking at the same time share one read. */
  snapshot(tenant: string): ReturnType<ReplicationSource['snapshot']>;
  /** Tenant data keys for agents with a public key (secrets); absent, none are sent. */
  dataKeys?: DataKeyDistributor | undefined;
  /** False once the session's token was revoked: such an agent gets no new data keys. */
  stillAuthorized(): Promise<boolean>;
}

/**
 * One agent connection at the origin: hello and welcome, then per tenant a snapshot or a resume
 * from the log, then live deltas coalesced over a few milliseconds. The change log is the
 * buffer: when the socket's send buffer grows past the high-water mark, the tenant falls back to
 * catch-up from the log, so that memory stays bounded however slow the agent is.
 */
export class AgentSession {
  /** The agent's id from its hello; undefined before it. */
  agentId: string | undefined;
  /** The agent's X25519 public key from its hello, for wrapping data keys; null without one. */
  private agentPublicKey: string | null = null;
  readonly connectedAt = Date.now();
  bytesSent = 0;
  private readonly streams = new Map<string, TenantStream>();
  private pending: DeltaCommit[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastHeardAt = Date.now();
  private inbox: Promise<void> = Promise.resolve();
  private pumping = false;
  private pumpAgain = false;
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    /** The grant of the token the agent connected with. */
    readonly grant: TokenGrant,
    private readonly context: SessionContext,
    private readonly onClosed: (session: AgentSession) => void,
  ) {
    socket.on('message', (data: Buffer) => {
      this.lastHeardAt = Date.now();
      this.inbox = this.inbox.then(() => this.receive(data));
    });
    socket.on('close', () => this.shutdown());
    socket.on('error', () => {});
    this.startHeartbeat();
  }

  /** Per tenant, the agent's progress, for `GET /v1/agents`. */
  progress(): Record<
    string,
    { appliedRevision: number; lagRevisions: number; lagMs: number; lastAckAt: number | null }
  > {
    const now = Date.now();
    const result: ReturnType<AgentSession['progress']> = {};
    for (const stream of this.streams.values()) {
      const oldest = stream.unacked[0];
      result[stream.tenant] = {
        appliedRevision: stream.appliedRevision,
        lagRevisions: Math.max(0, this.context.head(stream.tenant) - stream.appliedRevision),
        lagMs: oldest === undefined ? 0 : Math.max(0, now - oldest.at),
        lastAckAt: stream.lastAckAt,
      };
    }
    return result;
  }

  /** Called by the hub after every durable commit. */
  onCommit(tenant: string, revision: number, at: number, commit: () => DeltaCommit): void {
    const stream = this.streams.get(tenant);
    if (stream === undefined || this.closed) return;
    if (stream.unacked.length < MAX_TRACKED_COMMITS) stream.unacked.push({ revision, at });
    if (stream.mode !== 'live' || revision <= stream.sentRevision) return;

    if (revision !== stream.sentRevision + 1) {
      this.startSyncing(stream);
      return;
    }
    if (this.socket.bufferedAmount > this.context.settings.highWaterBytes) {
      this.context.metrics.slowAgentFallbacks.inc();
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
    stream.sentRevision = revision;
    this.flushTimer ??= setTimeout(() => this.flush(), this.context.settings.coalesceMs);
  }

  /**
   * Sends the agent the tenant's data keys wrapped to its public key, when it replicates the
   * tenant and sent a key. A revoked token gets none, and its connection is closed.
   */
  async sendDataKeys(tenant: string): Promise<void> {
    const { dataKeys } = this.context;
    const { agentId, agentPublicKey } = this;
    if (dataKeys === undefined || agentId === undefined || agentPublicKey === null) return;
    if (!this.streams.has(tenant) || this.closed) return;
    if (!(await this.context.stillAuthorized())) {
      this.refuse(new LcmError('unauthorized', 'the agent token was revoked'));
      return;
    }
    const wrapped = await dataKeys.wrappedFor(tenant, agentId, agentPublicKey);
    const dataKeysFrame = wrapped.map(({ version, wrapped: bytes }) => ({
      version,
      wrapped: new Uint8Array(bytes),
    }));
    if (dataKeysFrame.length > 0) this.send({ type: 'keys', tenant, dataKeys: dataKeysFrame });
  }

  /**
   * Data keys at hello must not stop replication of configs: when the key provider is down they
   * are sent again a little later, and other failures (a public key that is not X25519) leave
   * the agent without keys, which only its secrets feel.
   */
  private async sendDataKeysAtHello(tenant: string, attempt: number): Promise<void> {
    try {
      await this.sendDataKeys(tenant);
    } catch (error) {
      const code = error instanceof LcmError ? error.code : 'internal';
      this.context.logger.warn({ agentId: this.agentId, tenant, code }, 'data keys not sent');
      if (code !== 'kek_unavailable' || attempt >= DATA_KEY_TRIES || this.closed) return;
      const retry = setTimeout(
        () => void this.sendDataKeysAtHello(tenant, attempt + 1),
        DATA_KEY_RETRY_MS * 2 ** (attempt - 1),
      );
      retry.unref();
    }
  }

  /** Tells the agent to come back after `retryAfterMs`, and closes the connection. */
  goAway(code: 'unavailable', message: string, retryAfterMs: number): void {
    this.send({ type: 'error', code, message, retryAfterMs });
    this.socket.close(1001, 'origin going away');
  }

  private startSyncing(stream: TenantStream): void {
    stream.mode = 'syncing';
    this.pump();
  }

  private startHeartbeat(): void {
    const timeoutMs = this.context.settings.heartbeatTimeoutMs;
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastHeardAt > timeoutMs) {
        this.context.logger.warn({ agentId: this.agentId }, 'agent silent, closing');
        this.socket.terminate();
        return;
      }
      this.send({ type: 'ping', at: Date.now() });
    }, timeoutMs / 3);
    this.heartbeat.unref();
  }

  private shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.heartbeat);
    clearTimeout(this.flushTimer);
    this.onClosed(this);
  }

  private send(message: Message): boolean {
    if (this.closed || this.socket.readyState !== WebSocket.OPEN) return false;
    const frame = this.context.codec.encode(message);
    this.socket.send(frame);
    this.bytesSent += frame.byteLength;
    this.context.metrics.bytesSent.inc(frame.byteLength);
    this.context.metrics.framesSent.inc({ type: message.type });
    return true;
  }

  private refuse(error: LcmError, retryAfterMs?: number): void {
    this.context.metrics.protocolErrors.inc({ code: error.code });
    this.context.logger.warn(
      { agentId: this.agentId, code: error.code, err: error },
      'agent refused',
    );
    this.send({
      type: 'error',
      code: error.code,
      message: error.message.slice(0, 1000),
      ...(retryAfterMs !== undefined && { retryAfterMs }),
    });
    this.socket.close(1008, error.code);
  }

  private async receive(data: Buffer): Promise<void> {
    if (this.closed) return;
    let message: Message;
    try {
      message = this.context.codec.decode(data, AGENT_MESSAGE_TYPES);
    } catch (error) {
      this.refuse(error instanceof LcmError ? error : new LcmError('protocol_error', 'bad frame'));
      return;
    }

    try {
      await this.handle(message);
    } catch (error) {
      const lcmError =
        error instanceof LcmError ? error : new LcmError('internal', 'replication failed');
      this.refuse(lcmError, this.context.settings.retryAfterErrorMs);
    }
  }

  private async handle(message: Message): Promise<void> {
    if (this.agentId === undefined && message.type !== 'hello') {
      throw new LcmError('protocol_error', `a ${message.type} frame arrived before the hello`);
    }
    switch (message.type) {
      case 'hello':
        return this.onHello(message);
      case 'ack':
        for (const { tenant, revision } of message.tenants) this.onAck(tenant, revision);
        return;
      case 'resync': {
        const stream = this.streams.get(message.tenant);
        if (stream === undefined) return;
        this.context.logger.warn(
          { agentId: this.agentId, tenant: message.tenant, reason: message.reason },
          'agent asked for a snapshot',
        );
        stream.needSnapshot = true;
        this.startSyncing(stream);
        return;
      }
      case 'ping':
        this.send({ type: 'pong', at: message.at });
        return;
      case 'error':
        this.context.metrics.protocolErrors.inc({ code: message.code });
        this.context.logger.warn(
          { agentId: this.agentId, code: message.code, reason: message.message },
          'agent reported an error',
        );
        return;
      default:
        return;
    }
  }

  private async onHello(hello: HelloMessage): Promise<void> {
    if (this.agentId !== undefined) throw new LcmError('protocol_error', 'a second hello');
    const protocolVersion = negotiateVersion(hello.protocolVersions);
    const { grant } = this;
    const refused = hello.tenants.find(
      ({ tenant }) => !grant.tenants.includes('*') && !grant.tenants.includes(tenant),
    );
    if (refused !== undefined) {
      throw new LcmError('forbidden', `the token does not grant tenant ${refused.tenant}`);
    }

    const { store } = this.context;
    const plans: TenantPlan[] = [];
    for (const cursor of hello.tenants) {
      const head = await this.context.refreshHead(cursor.tenant);
      const resumable =
        cursor.epoch === store.epoch &&
        cursor.revision <= head &&
        (await this.logHolds(cursor.tenant, cursor.revision));
      plans.push({
        tenant: cursor.tenant,
        mode: resumable ? 'resume' : 'snapshot',
        headRevision: head,
      });
      this.streams.set(cursor.tenant, {
        tenant: cursor.tenant,
        mode: 'syncing',
        needSnapshot: !resumable,
        sentRevision: resumable ? cursor.revision : 0,
        appliedRevision: cursor.revision,
        lastAckAt: null,
        unacked: [],
      });
    }

    this.agentId = hello.agentId;
    this.context.metrics.agentsConnected.inc();
    this.send({
      type: 'welcome',
      protocolVersion,
      epoch: store.epoch,
      heartbeatTimeoutMs: this.context.settings.heartbeatTimeoutMs,
      tenants: plans,
    });
    this.context.logger.info(
      { agentId: hello.agentId, tokenId: grant.tokenId, plans },
      'agent connected',
    );
    // Data keys go out before any snapshot or delta, so the agent can open what follows.
    this.agentPublicKey = hello.agentPublicKey;
    for (const cursor of hello.tenants) await this.sendDataKeysAtHello(cursor.tenant, 1);
    this.pump();
  }

  private async logHolds(tenant: string, revision: number): Promise<boolean> {
    try {
      await this.context.store.changesAfter(tenant, revision, 1);
      return true;
    } catch (error) {
      if (
        error instanceof LcmError &&
        ['compacted', 'not_found', 'bad_revision'].includes(error.code)
      ) {
        return false;
      }
      throw error;
    }
  }

  private onAck(tenant: string, revision: number): void {
    const stream = this.streams.get(tenant);
    if (stream === undefined) return;
    stream.appliedRevision = revision;
    stream.lastAckAt = Date.now();
    let acked = 0;
    while (acked < stream.unacked.length && stream.unacked[acked]!.revision <= revision) acked++;
    stream.unacked.splice(0, acked);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const commits = this.pending;
    this.pending = [];
    if (commits.length > 0) this.sendCommits(commits);
  }

  /** Sends commits in as few frames as fit; a commit too large for any frame means a snapshot. */
  private sendCommits(commits: DeltaCommit[]): void {
    try {
      this.send({ type: 'delta', epoch: this.context.store.epoch, commits });
    } catch (error) {
      if (!(error instanceof LcmError) || error.code !== 'too_large') throw error;
      if (commits.length > 1) {
        const half = Math.ceil(commits.length / 2);
        this.sendCommits(commits.slice(0, half));
        this.sendCommits(commits.slice(half));
        return;
      }
      const stream = this.streams.get(commits[0]!.tenant)!;
      stream.needSnapshot = true;
      this.startSyncing(stream);
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
          if (stream.mode === 'syncing' && !this.closed) await this.catchUp(stream);
        }
      } while (this.pumpAgain && !this.closed);
    } catch (error) {
      if (!this.closed) {
        this.context.logger.error({ agentId: this.agentId, err: error }, 'catch-up failed');
        this.refuse(new LcmError('unavailable', 'the origin could not read its change log'), 1000);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async catchUp(stream: TenantStream): Promise<void> {
    // Commits queued before the tenant fell back must leave first, to keep revision order.
    clearTimeout(this.flushTimer);
    this.flush();

    const { store, settings } = this.context;
    let waits = 0;
    while (!this.closed) {
      if (stream.needSnapshot) {
        await this.sendSnapshot(stream);
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
        if (error instanceof LcmError && ['compacted', 'not_found'].includes(error.code)) {
          stream.needSnapshot = true;
          continue;
        }
        throw error;
      }

      if (changes.length === 0) {
        // A commit announced while the log was read is durable; read again until it shows.
        if (this.context.head(stream.tenant) > stream.sentRevision && waits++ < MAX_LOG_WAITS) {
          await sleep(DRAIN_POLL_MS);
          continue;
        }
        stream.mode = 'live';
        return;
      }
      const commits = toDeltaCommits(stream.tenant, changes);
      this.sendCommits(commits);
      stream.sentRevision = commits.at(-1)!.revision;
    }
  }

  private async sendSnapshot(stream: TenantStream): Promise<void> {
    const { store, settings, metrics } = this.context;
    stream.needSnapshot = false;
    let snapshot: Awaited<ReturnType<ReplicationSource['snapshot']>>;
    try {
      snapshot = await this.context.snapshot(stream.tenant);
    } catch (error) {
      if (!(error instanceof LcmError) || error.code !== 'not_found') throw error;
      snapshot = { revision: 0, entries: [] };
    }

    const chunks = chunkEntries(snapshot.entries, settings.snapshotChunkBytes);
    for (const [index, entries] of chunks.entries()) {
      await this.drained();
      this.send({
        type: 'snapshot',
        tenant: stream.tenant,
        epoch: store.epoch,
        revision: snapshot.revision,
        chunk: index,
        entries,
        last: index === chunks.length - 1,
      });
    }
    stream.sentRevision = snapshot.revision;
    metrics.snapshotsSent.inc({ tenant: stream.tenant });
  }

  private async drained(): Promise<void> {
    while (!this.closed && this.socket.bufferedAmount > this.context.settings.lowWaterBytes) {
      await sleep(DRAIN_POLL_MS);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

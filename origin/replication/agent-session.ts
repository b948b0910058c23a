import WebSocket from 'ws';
import { LcmError } from '../../core/index.ts';
import {
  AGENT_MESSAGE_TYPES,
  type DeltaCommit,
  type HelloMessage,
  type Message,
  negotiateVersion,
  type TenantPlan,
} from '../../protocol/index.ts';
import type { TokenGrant } from './contract.ts';
import type { SessionContext } from './session-context.ts';
import { TenantFeed, type TenantProgress } from './tenant-feed.ts';

export type { SessionContext } from './session-context.ts';

/** Tries to send a tenant's data keys at hello while the key provider is unavailable. */
const DATA_KEY_TRIES = 6;

/** First pause before sending data keys again; doubles with each try. */
const DATA_KEY_RETRY_MS = 1_000;

/**
 * One agent connection at the origin: the hello and welcome, heartbeats, acks and data keys.
 * What the agent receives of its tenants (snapshots, catch-up, live deltas) is its
 * {@link TenantFeed}.
 */
export class AgentSession {
  /** The agent's id from its hello; undefined before it. */
  agentId: string | undefined;
  /** The agent's X25519 public key from its hello, for wrapping data keys; null without one. */
  private agentPublicKey: string | null = null;
  readonly connectedAt = Date.now();
  bytesSent = 0;
  private readonly feed: TenantFeed;
  private heartbeat: NodeJS.Timeout | undefined;
  private lastHeardAt = Date.now();
  private inbox: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: WebSocket,
    /** The grant of the token the agent connected with. */
    readonly grant: TokenGrant,
    private readonly context: SessionContext,
    private readonly onClosed: (session: AgentSession) => void,
  ) {
    this.feed = new TenantFeed({
      context,
      send: (message) => this.send(message),
      bufferedAmount: () => socket.bufferedAmount,
      closed: () => this.closed,
      fail: (error) => {
        context.logger.error({ agentId: this.agentId, err: error }, 'catch-up failed');
        this.refuse(new LcmError('unavailable', 'the origin could not read its change log'), 1000);
      },
    });
    socket.on('message', (data: Buffer) => {
      this.lastHeardAt = Date.now();
      this.inbox = this.inbox.then(() => this.receive(data));
    });
    socket.on('close', () => this.shutdown());
    socket.on('error', () => {});
    this.startHeartbeat();
  }

  /** Per tenant, the agent's progress, for `GET /v1/agents`. */
  progress(): Record<string, TenantProgress> {
    return this.feed.progress();
  }

  /** False once the session's token is unknown or revoked. */
  stillAuthorized(): Promise<boolean> {
    return this.context.stillAuthorized();
  }

  /** The tenants this session carries. */
  tenants(): string[] {
    return this.feed.tenants();
  }

  /** The hub missed commits of `tenant`: a live stream of it catches up from the log. */
  catchUp(tenant: string): void {
    this.feed.refresh(tenant);
  }

  /** Called by the hub after every durable commit. */
  onCommit(tenant: string, revision: number, at: number, commit: () => DeltaCommit): void {
    this.feed.commit(tenant, revision, at, commit);
  }

  /**
   * Sends the agent the tenant's data keys wrapped to its public key, when it replicates the
   * tenant and sent a key. A revoked token gets none, and its connection is closed.
   */
  async sendDataKeys(tenant: string): Promise<void> {
    const { dataKeys } = this.context;
    const { agentId, agentPublicKey } = this;
    if (dataKeys === undefined || agentId === undefined || agentPublicKey === null) return;
    if (!this.feed.has(tenant) || this.closed) return;
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

  /** The session's token was revoked: an `unauthorized` error frame, and the connection closes. */
  revoke(): void {
    this.refuse(new LcmError('unauthorized', 'the agent token was revoked'));
    // Gone from the hub now, not when the agent answers the close: nothing more is sent to it.
    this.shutdown();
  }

  /**
   * A newer connection of the same agent took over (the usual reconnect race, where this one is
   * half-open): a `conflict` error frame, and the connection closes.
   */
  replaced(): void {
    this.refuse(
      new LcmError('conflict', 'a newer connection of this agent replaced this one'),
      this.context.settings.retryAfterErrorMs,
    );
    this.shutdown();
  }

  /** Tells the agent to come back after `retryAfterMs`, and closes the connection. */
  goAway(code: 'unavailable', message: string, retryAfterMs: number): void {
    this.send({ type: 'error', code, message, retryAfterMs });
    this.socket.close(1001, 'origin going away');
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
    this.feed.stop();
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
        for (const { tenant, revision } of message.tenants) this.feed.ack(tenant, revision);
        return;
      case 'resync':
        if (!this.feed.has(message.tenant)) return;
        this.context.logger.warn(
          { agentId: this.agentId, tenant: message.tenant, reason: message.reason },
          'agent asked for a snapshot',
        );
        this.feed.resync(message.tenant);
        return;
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
      this.feed.add(cursor.tenant, resumable ? cursor.revision : undefined);
    }

    // Claimed here, with no await before the id is set: of two hellos racing, the later wins.
    this.context.claimAgentId(hello.agentId, this);
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
    this.feed.start();
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
}

import WebSocket from 'ws';
import { LcmError } from '../core/index.ts';
import {
  type FrameCodec,
  type Message,
  ORIGIN_MESSAGE_TYPES,
  PROTOCOL_VERSION,
  type WelcomeMessage,
} from '../protocol/index.ts';
import type { AgentMetrics } from './agent-metrics.ts';
import { reconnectDelayMs } from './backoff.ts';
import type { EntryIndex } from './entry-index.ts';
import type { Replica } from './replica.ts';
import { TenantApplier } from './tenant-applier.ts';

/** Heartbeat timeout used until the origin's welcome names its own. */
export const DEFAULT_HEARTBEAT_TIMEOUT_MS = 30_000;

/** Acks of applied revisions are gathered this long before they are sent. */
const ACK_DELAY_MS = 5;

/** Least wait before retrying after the origin refused the token: a person must act first. */
const AUTH_REFUSED_RETRY_MS = 5_000;

/** Frames received but not yet applied, past which the agent stops reading its socket. */
const MAX_BACKLOG_FRAMES = 64;

/** Path of the replication endpoint on the origin. */
export const REPLICATE_PATH = '/v1/replicate';

/** What happened in the sync client, for the agent process to log and count. */
export type SyncEvent =
  | { type: 'connected'; url: string }
  | { type: 'disconnected'; code: number; reason: string; retryInMs: number }
  | { type: 'snapshot'; tenant: string; revision: number; entries: number }
  | { type: 'applied'; tenant: string; revision: number }
  | {
      type: 'resync';
      tenant: string;
      reason: string;
      /** Requests of this tenant since it last applied something; 0 for the first. */
      attempt: number;
      /** How long this request waited for its turn (backoff), in milliseconds. */
      delayMs: number;
    }
  | { type: 'protocol-error'; error: LcmError }
  | { type: 'origin-error'; code: string; message: string; tenant?: string };

/** Everything the sync client needs. */
export interface SyncClientOptions {
  /** The origin's base URL, `ws://host:port`; `/v1/replicate` is added when absent. */
  originUrl: string;
  /** An `agent`-role token naming the tenants. */
  token: string;
  /** Tenants to replicate. */
  tenants: string[];
  agentId: string;
  /** The agent's public key for wrapped tenant data keys; null while secrets are not set up. */
  agentPublicKey: string | null;
  /** Takes the tenant data keys of a `keys` frame (the secrets layer); absent, they are dropped. */
  onDataKeys?: (
    tenant: string,
    dataKeys: Array<{ version: number; wrapped: Uint8Array }>,
  ) => Promise<void>;
  replica: Replica;
  index: EntryIndex;
  codec: FrameCodec;
  metrics: AgentMetrics;
}

/**
 * Keeps the replica and the index in step with the origin over one WebSocket: hello with the
 * cursors held, then snapshots and deltas applied one frame at a time, acks, heartbeats, and
 * reconnects with backoff. A frame that does not decode, a gap in revisions or a hash mismatch
 * is never applied: the tenant is asked for again as a snapshot.
 */
export class SyncClient {
  private socket: WebSocket | undefined;
  private welcome: WelcomeMessage | undefined;
  private readonly applier: TenantApplier;
  private inbox: Promise<void> = Promise.resolve();
  private backlog = 0;
  private attempt = 0;
  private connections = 0;
  private retryHintMs = 0;
  private lastFrameAt = 0;
  private heartbeatTimeoutMs = DEFAULT_HEARTBEAT_TIMEOUT_MS;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  private stopped = true;
  private readonly listeners = new Set<(event: SyncEvent) => void>();
  private readonly url: string;

  constructor(private readonly options: SyncClientOptions) {
    const url = new URL(options.originUrl);
    if (url.protocol === 'http:') url.protocol = 'ws:';
    if (url.protocol === 'https:') url.protocol = 'wss:';
    if (url.pathname === '/' || url.pathname === '') url.pathname = REPLICATE_PATH;
    this.url = url.toString();
    this.applier = new TenantApplier({
      tenants: options.tenants,
      replica: options.replica,
      index: options.index,
      metrics: options.metrics,
      send: (message) => this.send(message),
      emit: (event) => this.emit(event),
      applied: () => this.scheduleAck(),
      reject: (error) => this.rejectFrame(error),
    });
  }

  /** True while a welcomed connection to the origin is open. */
  get connected(): boolean {
    return this.welcome !== undefined && this.socket?.readyState === WebSocket.OPEN;
  }

  /** True when `tenant` is applied live (not waiting for or receiving a snapshot). */
  isLive(tenant: string): boolean {
    return this.connected && this.applier.isLive(tenant);
  }

  /** Calls `listener` on every sync event; returns a function that unsubscribes. */
  onEvent(listener: (event: SyncEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts connecting; returns at once. */
  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Closes the connection, stops reconnecting and waits for the frame in hand to be applied. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnect);
    clearTimeout(this.ackTimer);
    clearInterval(this.heartbeat);
    this.applier.stop();
    const socket = this.socket;
    if (socket !== undefined && socket.readyState !== WebSocket.CLOSED) {
      const closed = new Promise((resolve) => socket.once('close', resolve));
      socket.close(1001, 'agent stopping');
      const timeout = setTimeout(() => socket.terminate(), 1000);
      await closed;
      clearTimeout(timeout);
    }
    await this.inbox;
  }

  private connect(): void {
    if (this.stopped) return;
    if (this.connections++ > 0) this.options.metrics.reconnects.inc();

    const socket = new WebSocket(this.url, {
      headers: { authorization: `Bearer ${this.options.token}` },
      maxPayload: this.options.codec.limits.maxFrameBytes,
      perMessageDeflate: false,
    });
    this.socket = socket;

    socket.on('open', () => {
      this.lastFrameAt = Date.now();
      this.send({
        type: 'hello',
        protocolVersions: [PROTOCOL_VERSION],
        agentId: this.options.agentId,
        agentPublicKey: this.options.agentPublicKey,
        tenants: this.options.tenants.map((tenant) => {
          const held = this.options.index.tenant(tenant);
          return { tenant, revision: held?.revision ?? 0, epoch: held?.epoch ?? null };
        }),
      });
      this.startHeartbeat();
    });
    socket.on('message', (data: Buffer) => {
      this.lastFrameAt = Date.now();
      this.options.metrics.bytesReceived.inc(data.byteLength);
      // Frames wait here while earlier ones are applied; past a bound the socket stops reading,
      // so that the origin sees its send buffer grow and falls back to the change log.
      if (++this.backlog >= MAX_BACKLOG_FRAMES) socket.pause();
      this.inbox = this.inbox
        .then(() => this.receive(socket, data))
        .finally(() => {
          if (--this.backlog < MAX_BACKLOG_FRAMES / 2 && socket.isPaused) socket.resume();
        });
    });
    socket.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      const refused = status === 401 || status === 403;
      if (refused) this.retryHintMs = Math.max(this.retryHintMs, AUTH_REFUSED_RETRY_MS);
      this.emit({
        type: 'origin-error',
        code: status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'unavailable',
        message: `the origin refused the connection with HTTP ${status}`,
      });
      response.resume();
      socket.terminate();
    });
    socket.on('error', () => {
      // A 'close' always follows; the reconnect is decided there.
    });
    socket.on('close', (code: number, reason: Buffer) =>
      this.onClose(socket, code, String(reason)),
    );
  }

  private onClose(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    const wasWelcomed = this.welcome !== undefined;
    this.welcome = undefined;
    clearInterval(this.heartbeat);
    this.options.metrics.connected.set(0);
    if (wasWelcomed) this.persistLastSync();
    if (this.stopped) return;

    const retryInMs = reconnectDelayMs(this.attempt++, this.retryHintMs);
    this.retryHintMs = 0;
    this.emit({ type: 'disconnected', code, reason, retryInMs });
    this.reconnect = setTimeout(() => this.connect(), retryInMs);
  }

  private persistLastSync(): void {
    const held = this.options.tenants.filter((t) => this.options.index.tenant(t) !== undefined);
    for (const tenant of held) this.options.index.touch(tenant, this.lastFrameAt);
    this.options.replica.markSynced(held, this.lastFrameAt).catch(() => {});
  }

  private startHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = setInterval(() => {
      const socket = this.socket;
      if (socket === undefined) return;
      if (Date.now() - this.lastFrameAt > this.heartbeatTimeoutMs) {
        socket.terminate();
        return;
      }
      this.send({ type: 'ping', at: Date.now() });
    }, this.heartbeatTimeoutMs / 3);
    this.heartbeat.unref();
  }

  private send(message: Message): void {
    if (this.socket?.readyState !== WebSocket.OPEN) return;
    this.socket.send(this.options.codec.encode(message));
  }

  private emit(event: SyncEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private async receive(socket: WebSocket, data: Buffer): Promise<void> {
    if (socket !== this.socket || this.stopped) return;

    let message: Message;
    try {
      message = this.options.codec.decode(data, ORIGIN_MESSAGE_TYPES);
    } catch (error) {
      this.rejectFrame(error);
      // The lost frame may have held commits of any tenant: each is fetched again whole.
      for (const tenant of this.options.tenants) {
        this.applier.requestSnapshot(tenant, 'undecodable frame');
      }
      return;
    }
    this.options.metrics.framesReceived.inc({ type: message.type });

    try {
      await this.handle(message);
    } catch (error) {
      this.rejectFrame(error);
    }
  }

  private rejectFrame(error: unknown): void {
    const lcmError =
      error instanceof LcmError
        ? error
        : new LcmError('internal', 'a frame could not be applied', { cause: error });
    this.options.metrics.protocolErrors.inc({ code: lcmError.code });
    this.emit({ type: 'protocol-error', error: lcmError });
    this.send({ type: 'error', code: lcmError.code, message: lcmError.message.slice(0, 1000) });
  }

  private async handle(message: Message): Promise<void> {
    if (this.welcome === undefined && message.type !== 'welcome' && message.type !== 'error') {
      throw new LcmError('protocol_error', `a ${message.type} frame arrived before the welcome`);
    }

    switch (message.type) {
      case 'welcome':
        return this.onWelcome(message);
      case 'snapshot':
        return this.applier.snapshotChunk(message);
      case 'delta':
        return this.applier.delta(message);
      case 'ping':
        return this.send({ type: 'pong', at: message.at });
      case 'error':
        if (message.retryAfterMs !== undefined) this.retryHintMs = message.retryAfterMs;
        // A token revoked while connected: coming back at once would only be refused again.
        if (message.code === 'unauthorized' || message.code === 'forbidden') {
          this.retryHintMs = Math.max(this.retryHintMs, AUTH_REFUSED_RETRY_MS);
        }
        this.emit({
          type: 'origin-error',
          code: message.code,
          message: message.message,
          tenant: message.tenant,
        });
        return;
      case 'keys':
        // Taken in frame order, so a key is in place before the secrets sealed under it.
        return this.options.onDataKeys?.(message.tenant, message.dataKeys);
      default:
        // pong needs nothing beyond the liveness already noted.
        return;
    }
  }

  private onWelcome(welcome: WelcomeMessage): void {
    this.welcome = welcome;
    this.attempt = 0;
    this.heartbeatTimeoutMs = welcome.heartbeatTimeoutMs;
    this.startHeartbeat();
    this.options.metrics.connected.set(1);

    this.applier.welcome(welcome, Date.now());
    this.emit({ type: 'connected', url: this.url });
  }

  private scheduleAck(): void {
    if (this.ackTimer !== undefined) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = undefined;
      // Only tenants live on this connection: a cursor kept from another epoch, or one waiting
      // for its snapshot, is not progress the origin sent, and acking it would be a lie.
      const tenants = this.options.tenants.flatMap((tenant) => {
        const held = this.options.index.tenant(tenant);
        if (held === undefined || !this.isLive(tenant)) return [];
        return [{ tenant, revision: held.revision }];
      });
      if (tenants.length > 0) this.send({ type: 'ack', tenants });
    }, ACK_DELAY_MS);
  }
}

import { randomUUID } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { WebSocketServer } from 'ws';
import { LcmError } from '../../core/index.ts';
import { type DeltaCommit, FrameCodec } from '../../protocol/index.ts';
import { AgentSession } from './agent-session.ts';
import type {
  Authenticate,
  CommitEvent,
  DataKeyDistributor,
  ReplicationSource,
  TenantSnapshot,
} from './contract.ts';
import { toDeltaCommits } from './delta-commits.ts';
import { HubMetrics } from './hub-metrics.ts';
import { DEFAULT_HUB_SETTINGS, type HubSettings } from './hub-settings.ts';
import { PeerCommitPoller } from './peer-commits.ts';

/** Path of the replication endpoint. */
export const REPLICATE_PATH = '/v1/replicate';

/** A caller's `X-Request-Id` is echoed only when it looks like an id. */
const INCOMING_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Roles whose tokens may replicate. */
const REPLICATING_ROLES = new Set(['agent', 'admin']);

/** Replication state of one connected agent, as `GET /v1/agents` shows it. */
export interface AgentStatus {
  agentId: string;
  tokenId: string;
  connectedAt: number;
  bytesSent: number;
  tenants: Record<
    string,
    { appliedRevision: number; lagRevisions: number; lagMs: number; lastAckAt: number | null }
  >;
}

/** What the hub is built from. */
export interface HubDeps {
  server: Server;
  store: ReplicationSource;
  authenticate: Authenticate;
  logger: Logger;
  registry: Registry;
  settings?: Partial<HubSettings>;
  dataKeys?: DataKeyDistributor;
}

/**
 * The origin's side of replication: answers WebSocket upgrades on `/v1/replicate`, authenticates
 * agents, and fans every durable commit out to the sessions of its tenant.
 */
export class ReplicationHub {
  private readonly sessions = new Set<AgentSession>();
  private readonly heads = new Map<string, number>();
  private readonly snapshotReads = new Map<string, Promise<TenantSnapshot>>();
  /** Tokens revoked while this origin ran: a connection that authenticated just before is cut. */
  private readonly revokedTokens = new Set<string>();
  private readonly wss: WebSocketServer;
  private readonly codec: FrameCodec;
  private readonly settings: HubSettings;
  private readonly metrics: HubMetrics;
  private readonly unsubscribe: () => void;
  private readonly peerCommits: PeerCommitPoller;
  private readonly tokenRecheck: NodeJS.Timeout | undefined;
  private rechecking = false;
  private readonly onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

  constructor(private readonly deps: HubDeps) {
    this.settings = { ...DEFAULT_HUB_SETTINGS, ...deps.settings };
    this.codec = new FrameCodec({ maxFrameBytes: this.settings.maxFrameBytes });
    this.metrics = new HubMetrics(deps.registry, () =>
      this.agents().flatMap((agent) =>
        Object.entries(agent.tenants).map(([tenant, progress]) => ({
          agentId: agent.agentId,
          tenant,
          ...progress,
        })),
      ),
    );
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: this.settings.maxFrameBytes,
      perMessageDeflate: false,
    });
    this.unsubscribe = deps.store.onCommit((event) => this.fanOut(event));
    this.peerCommits = new PeerCommitPoller({
      store: deps.store,
      logger: deps.logger,
      intervalMs: this.settings.peerPollMs,
      pageRecords: this.settings.pageRecords,
      carriedTenants: () => [...this.sessions].flatMap((session) => session.tenants()),
      fanOut: (event) => this.fanOut(event),
      behind: (tenant, head) => {
        this.heads.set(tenant, Math.max(this.heads.get(tenant) ?? 0, head));
        for (const session of this.sessions) session.catchUp(tenant);
      },
    });
    this.onUpgrade = (request, socket, head) => {
      this.upgrade(request, socket, head).catch((error: unknown) => {
        const requestId = requestIdOf(request);
        deps.logger.error({ err: error, requestId }, 'replication upgrade failed');
        rejectUpgrade(socket, new LcmError('internal', 'the upgrade failed'), requestId);
      });
    };
    deps.server.on('upgrade', this.onUpgrade);
    if (this.settings.tokenRecheckMs > 0) {
      this.tokenRecheck = setInterval(
        () => void this.recheckTokens(),
        this.settings.tokenRecheckMs,
      );
      this.tokenRecheck.unref();
    }
    deps.dataKeys?.setPublisher((tenant) => this.publishDataKeys(tenant));
  }

  /** Sends a tenant's data keys to every connected agent of it; resolves once all are sent. */
  private async publishDataKeys(tenant: string): Promise<void> {
    const sending = [...this.sessions].map((session) => session.sendDataKeys(tenant));
    await Promise.allSettled(sending);
  }

  /** Every connected agent past its hello, with its per-tenant progress. */
  agents(): AgentStatus[] {
    return [...this.sessions]
      .filter((session) => session.agentId !== undefined)
      .map((session) => ({
        agentId: session.agentId!,
        tokenId: session.grant.tokenId,
        connectedAt: session.connectedAt,
        bytesSent: session.bytesSent,
        tenants: session.progress(),
      }));
  }

  /** Closes every connection of a revoked token at once and refuses the token from now on. */
  revokeToken(tokenId: string): void {
    this.revokedTokens.add(tokenId);
    const revoked = [...this.sessions].filter((session) => session.grant.tokenId === tokenId);
    for (const session of revoked) session.revoke();
    if (revoked.length > 0) {
      this.deps.logger.info({ tokenId, connections: revoked.length }, 'agent token revoked');
    }
  }

  /**
   * Checks each token of the connected agents once more (one check per token, however many
   * agents share it): a token revoked through another origin process is cut here too.
   */
  private async recheckTokens(): Promise<void> {
    if (this.rechecking) return;
    this.rechecking = true;
    try {
      const byToken = new Map<string, AgentSession>();
      for (const session of this.sessions) byToken.set(session.grant.tokenId, session);
      for (const [tokenId, session] of byToken) {
        if (!(await session.stillAuthorized())) this.revokeToken(tokenId);
      }
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'agent tokens not checked again');
    } finally {
      this.rechecking = false;
    }
  }

  /** Asks every agent to come back shortly, closes their connections, stops answering upgrades. */
  async close(): Promise<void> {
    this.deps.server.off('upgrade', this.onUpgrade);
    this.unsubscribe();
    clearInterval(this.tokenRecheck);
    await this.peerCommits.stop();
    const closing = [...this.wss.clients].map(
      (client) => new Promise((resolve) => client.once('close', resolve)),
    );
    for (const session of this.sessions) {
      session.goAway(
        'unavailable',
        'the origin is shutting down',
        this.settings.retryAfterShutdownMs,
      );
    }
    const forced = setTimeout(() => {
      for (const client of this.wss.clients) client.terminate();
    }, 1000);
    await Promise.all(closing);
    clearTimeout(forced);
    await new Promise((resolve) => this.wss.close(resolve));
  }

  private fanOut(event: CommitEvent): void {
    this.heads.set(event.tenant, Math.max(this.heads.get(event.tenant) ?? 0, event.revision));
    this.peerCommits.streamedUpTo(event.tenant, event.revision);
    let commit: DeltaCommit | undefined;
    const shared = () => {
      commit ??= toDeltaCommits(event.tenant, event.changes)[0]!;
      return commit;
    };
    for (const session of this.sessions) {
      session.onCommit(event.tenant, event.revision, event.at, shared);
    }
  }

  /**
   * One snapshot read per tenant at a time, shared by every session that asks while it runs, so
   * that many agents resnapshotting at once cost one copy of the tenant in memory, not many.
   */
  private sharedSnapshot(tenant: string): Promise<TenantSnapshot> {
    const running = this.snapshotReads.get(tenant);
    if (running !== undefined) return running;
    const reading = this.deps.store.snapshot(tenant).finally(() => {
      this.snapshotReads.delete(tenant);
    });
    this.snapshotReads.set(tenant, reading);
    return reading;
  }

  private async refreshHead(tenant: string): Promise<number> {
    let head = 0;
    try {
      head = await this.deps.store.headRevision(tenant);
    } catch (error) {
      if (!(error instanceof LcmError) || error.code !== 'not_found') throw error;
    }
    const known = Math.max(this.heads.get(tenant) ?? 0, head);
    this.heads.set(tenant, known);
    this.peerCommits.watch(tenant, head);
    return known;
  }

  private async upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => {});
    const path = new URL(request.url ?? '/', 'http://origin').pathname;
    if (path !== REPLICATE_PATH) {
      // Another part of the origin may answer upgrades elsewhere; refuse only when none does.
      if (this.deps.server.listenerCount('upgrade') === 1) {
        this.refuseUpgrade(
          request,
          socket,
          new LcmError('not_found', 'no WebSocket endpoint here'),
        );
      }
      return;
    }

    const authorization = request.headers.authorization ?? '';
    const token = /^Bearer (.+)$/i.exec(authorization)?.[1];
    const grant = token === undefined ? null : await this.deps.authenticate(token.trim());
    if (grant === null) {
      this.refuseUpgrade(
        request,
        socket,
        new LcmError('unauthorized', 'a valid agent token is required'),
      );
      return;
    }
    if (!REPLICATING_ROLES.has(grant.role)) {
      this.refuseUpgrade(
        request,
        socket,
        new LcmError('forbidden', `a ${grant.role} token cannot replicate`),
      );
      return;
    }
    if (grant.prefixes !== undefined && grant.prefixes.length > 0) {
      // TODO: replicate only the keys under a token's prefixes; until then such a token would
      // see whole tenants at the edge, so it is refused.
      this.refuseUpgrade(
        request,
        socket,
        new LcmError('forbidden', 'a prefix-limited token cannot replicate'),
      );
      return;
    }

    this.wss.handleUpgrade(request, socket, head, (ws) => {
      const session = new AgentSession(
        ws,
        grant,
        {
          store: this.deps.store,
          codec: this.codec,
          settings: this.settings,
          metrics: this.metrics,
          logger: this.deps.logger,
          head: (tenant) => this.heads.get(tenant) ?? 0,
          refreshHead: (tenant) => this.refreshHead(tenant),
          snapshot: (tenant) => this.sharedSnapshot(tenant),
          dataKeys: this.deps.dataKeys,
          claimAgentId: (agentId, claimant) => this.replaceOlder(agentId, claimant),
          stillAuthorized: async () => (await this.deps.authenticate(token!.trim())) !== null,
        },
        (closed) => this.forget(closed),
      );
      this.sessions.add(session);
      // Revoked between the token check and the upgrade: the session never gets to its hello.
      if (this.revokedTokens.has(grant.tokenId)) session.revoke();
    });
  }

  private replaceOlder(agentId: string, claimant: AgentSession): void {
    for (const session of this.sessions) {
      if (session === claimant || session.agentId !== agentId) continue;
      this.deps.logger.warn(
        { agentId, tokenId: claimant.grant.tokenId, olderTokenId: session.grant.tokenId },
        'agent connected again, older connection replaced',
      );
      session.replaced();
    }
  }

  /** Answers an upgrade with the error, counted and logged under the request id it carries. */
  private refuseUpgrade(request: IncomingMessage, socket: Duplex, error: LcmError): void {
    const requestId = requestIdOf(request);
    if (error.code !== 'not_found') this.metrics.protocolErrors.inc({ code: error.code });
    this.deps.logger.warn(
      { requestId, code: error.code, remoteAddress: request.socket.remoteAddress },
      'replication upgrade refused',
    );
    rejectUpgrade(socket, error, requestId);
  }

  private forget(session: AgentSession): void {
    if (!this.sessions.delete(session)) return;
    if (session.agentId === undefined) return;
    this.metrics.agentsConnected.dec();
    this.deps.logger.info({ agentId: session.agentId }, 'agent disconnected');
  }
}

/** The caller's `X-Request-Id` when it looks like an id, else a new one. */
function requestIdOf(request: IncomingMessage): string {
  const incoming = request.headers['x-request-id'];
  return typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming)
    ? incoming
    : randomUUID();
}

/** Answers an upgrade with the product's JSON error body and its request id. */
function rejectUpgrade(socket: Duplex, error: LcmError, requestId: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify(error.toJSON(requestId));
  socket.end(
    `HTTP/1.1 ${error.status} ${error.code}\r\n` +
      'Content-Type: application/json\r\n' +
      `X-Request-Id: ${requestId}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
}

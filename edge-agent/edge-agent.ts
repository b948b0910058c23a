import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { FrameCodec } from '../protocol/index.ts';
import type { AgentConfig } from './agent-config.ts';
import { AgentKeyring } from './agent-keyring.ts';
import { AgentMetrics } from './agent-metrics.ts';
import { EntryIndex, indexedFromReplica } from './entry-index.ts';
import { createReadApi } from './read-api.ts';
import { Replica } from './replica.ts';
import { createSecretReadApi } from './secret-read-api.ts';
import { SyncClient, type SyncEvent } from './sync-client.ts';

/** Paths the secret read API answers; everything else goes to the read API. */
const SECRET_PATH = /^\/v1\/tenants\/[^/]+\/secrets\//;

/**
 * A running edge agent: the replica, the in-memory index loaded from it, the local read API
 * (serving at once, before the origin answers) and the sync client that keeps them current.
 */
export class EdgeAgent {
  private constructor(
    /** The agent's stable id, kept in its replica. */
    readonly agentId: string,
    /** The in-memory index reads are served from. */
    readonly index: EntryIndex,
    /** The agent's metrics registry. */
    readonly metrics: AgentMetrics,
    /** The agent's key pair and tenant data keys; its events say which keys arrived. */
    readonly keyring: AgentKeyring,
    private readonly replica: Replica,
    private readonly sync: SyncClient,
    private readonly server: ServerType,
  ) {}

  /** Opens the replica, loads the index, starts serving and starts syncing. */
  static async start(config: AgentConfig): Promise<EdgeAgent> {
    const replica = await Replica.open(config.dataDir);
    const agentId = await replica.agentId();
    const index = new EntryIndex();
    const metrics = new AgentMetrics();

    const held = await replica.load();
    for (const cursor of held.tenants) {
      if (!config.tenants.includes(cursor.tenant)) continue;
      const entries = (held.entries.get(cursor.tenant) ?? []).map(indexedFromReplica);
      index.replaceTenant(cursor.tenant, cursor, entries);
      metrics.appliedRevision.set({ tenant: cursor.tenant }, cursor.revision);
    }

    const keyring = await AgentKeyring.open(config.dataDir, agentId, config.tenants);
    const sync = new SyncClient({
      originUrl: config.origin,
      token: config.token,
      tenants: config.tenants,
      agentId,
      agentPublicKey: keyring.publicKey,
      onDataKeys: (tenant, dataKeys) => keyring.accept(tenant, dataKeys),
      replica,
      index,
      codec: new FrameCodec({ maxFrameBytes: config.maxFrameBytes }),
      metrics,
    });

    const app = createReadApi({
      index,
      metrics,
      tenants: config.tenants,
      originHttpUrl: config.originHttpUrl,
      connected: () => sync.connected,
      stalenessMs: (tenant) => {
        if (sync.isLive(tenant)) return 0;
        const lastSyncAt = index.tenant(tenant)?.lastSyncAt ?? 0;
        return Math.max(0, Date.now() - lastSyncAt);
      },
    });
    const secretApp = createSecretReadApi({
      index,
      keyring,
      tenants: config.tenants,
      secretToken: config.secretToken,
      stalenessMs: (tenant) => {
        if (sync.isLive(tenant)) return 0;
        return Math.max(0, Date.now() - (index.tenant(tenant)?.lastSyncAt ?? 0));
      },
    });
    // The node server's bindings go along: the apps read the raw request target from them.
    const fetch = (request: Request, bindings: unknown) =>
      SECRET_PATH.test(new URL(request.url).pathname)
        ? secretApp.fetch(request, bindings)
        : app.fetch(request, bindings);
    const server = await listen(fetch, config.port, config.host);

    const agent = new EdgeAgent(agentId, index, metrics, keyring, replica, sync, server);
    sync.start();
    return agent;
  }

  /** The port the read API listens on. */
  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** True while the agent holds a live connection to the origin. */
  get connected(): boolean {
    return this.sync.connected;
  }

  /** Calls `listener` on every sync event; returns a function that unsubscribes. */
  onSyncEvent(listener: (event: SyncEvent) => void): () => void {
    return this.sync.onEvent(listener);
  }

  /** Stops serving and syncing, and closes the replica. */
  async stop(): Promise<void> {
    const closed = new Promise((resolve) => this.server.close(resolve));
    if ('closeAllConnections' in this.server) this.server.closeAllConnections();
    await this.sync.stop();
    await closed;
    await this.replica.close();
  }
}

function listen(
  fetch: (request: Request, bindings: unknown) => Response | Promise<Response>,
  port: number,
  hostname: string,
): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port, hostname }, () => resolve(server));
    server.once('error', reject);
  });
}

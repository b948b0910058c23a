import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Authenticate, ReplicationSource } from './contract.ts';

export type {
  Authenticate,
  CommitEvent,
  ReplicatedChange,
  ReplicationSource,
  TenantSnapshot,
  TokenGrant,
} from './contract.ts';

/** What the replication hub needs from the origin process. */
export interface ReplicationDeps {
  /** The origin's HTTP server; the hub answers WebSocket upgrades on `/v1/replicate`. */
  server: Server;
  store: ReplicationSource;
  authenticate: Authenticate;
  logger: Logger;
  registry: Registry;
}

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

/** The running replication hub of one origin. */
export interface ReplicationHub {
  /** Every connected agent with its per-tenant progress. */
  agents(): AgentStatus[];
  /** Closes every agent connection and stops listening for upgrades. */
  close(): Promise<void>;
}

/**
 * Attaches the replication hub to the origin's HTTP server.
 * TODO: the WebSocket fan-out is not built yet; until it is, agents cannot connect and this hub
 * reports no agents.
 */
export function attachReplication(_deps: ReplicationDeps): ReplicationHub {
  return { agents: () => [], close: async () => {} };
}

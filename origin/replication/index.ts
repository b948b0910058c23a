import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Authenticate, DataKeyDistributor, ReplicationSource } from './contract.ts';
import type { HubSettings } from './hub-settings.ts';
import { type AgentStatus, ReplicationHub as Hub } from './replication-hub.ts';

export type {
  Authenticate,
  CommitEvent,
  DataKeyDistributor,
  ReplicatedChange,
  ReplicationSource,
  TenantSnapshot,
  TokenGrant,
} from './contract.ts';
export { DEFAULT_HUB_SETTINGS, type HubSettings } from './hub-settings.ts';
export { type AgentStatus, REPLICATE_PATH } from './replication-hub.ts';

/** What the replication hub needs from the origin process. */
export interface ReplicationDeps {
  /** The origin's HTTP server; the hub answers WebSocket upgrades on `/v1/replicate`. */
  server: Server;
  store: ReplicationSource;
  authenticate: Authenticate;
  logger: Logger;
  registry: Registry;
  /** Overrides of the hub's defaults ({@link DEFAULT_HUB_SETTINGS}). */
  settings?: Partial<HubSettings>;
  /** Tenant data keys for agents that sent a public key; without it agents get none. */
  dataKeys?: DataKeyDistributor;
}

/** The running replication hub of one origin. */
export interface ReplicationHub {
  /** Every connected agent with its per-tenant progress. */
  agents(): AgentStatus[];
  /**
   * Closes at once every connection of the token `tokenId`, with an `unauthorized` error frame,
   * and refuses it from now on; called when the token is revoked.
   */
  revokeToken(tokenId: string): void;
  /** Closes every agent connection and stops listening for upgrades. */
  close(): Promise<void>;
}

/**
 * Attaches the replication hub to the origin's HTTP server: agents connect with a WebSocket on
 * `/v1/replicate` and receive snapshots and live deltas of the tenants their token names.
 */
export function attachReplication(deps: ReplicationDeps): ReplicationHub {
  return new Hub(deps);
}

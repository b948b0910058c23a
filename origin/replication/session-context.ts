import type { Logger } from 'pino';
import type { FrameCodec } from '../../protocol/index.ts';
import type { AgentSession } from './agent-session.ts';
import type { DataKeyDistributor, ReplicationSource } from './contract.ts';
import type { HubMetrics } from './hub-metrics.ts';
import type { HubSettings } from './hub-settings.ts';

/** What an agent session needs from the hub around it. */
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
  /** Called at hello: every other session of `agentId` is replaced by `claimant`. */
  claimAgentId(agentId: string, claimant: AgentSession): void;
  /** False once the session's token was revoked: such an agent gets no new data keys. */
  stillAuthorized(): Promise<boolean>;
}

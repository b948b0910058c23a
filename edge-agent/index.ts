export {
  type AgentConfig,
  type AgentOptions,
  DEFAULT_AGENT_DATA_DIR,
  DEFAULT_AGENT_HOST,
  DEFAULT_AGENT_PORT,
  resolveAgentConfig,
} from './agent-config.ts';
export { AgentMetrics } from './agent-metrics.ts';
export {
  fullJitterDelayMs,
  RECONNECT_BASE_MS,
  RECONNECT_CAP_MS,
  RESYNC_BASE_MS,
  RESYNC_CAP_MS,
  reconnectDelayMs,
} from './backoff.ts';
export { EdgeAgent } from './edge-agent.ts';
export { EntryIndex, type IndexChange, type IndexedEntry } from './entry-index.ts';
export { createReadApi, type ReadApiDeps } from './read-api.ts';
export { Replica, type ReplicaEntry, type ReplicaTenant } from './replica.ts';
export { REPLICATE_PATH, SyncClient, type SyncEvent } from './sync-client.ts';

export { type AccessGrant, grantsKey, grantsTenant, ROLES, type Role } from './auth/token-grant.ts';
export {
  ENV_ADMIN_TOKEN_ID,
  type TokenInfo,
  type TokenScope,
  TokenStore,
} from './auth/token-store.ts';
export { type OriginConfig, type OriginOptions, resolveOriginConfig } from './config.ts';
export { keyAccess, pathKey, requireAdmin, tenantAccess } from './http/access.ts';
export { buildOriginApp, type RouteGroup, V1_ROUTE_GROUPS } from './http/app.ts';
export type { AppEnv, OriginServices } from './http/app-env.ts';
export { readBodyBytes, readJsonBody, requireMediaType } from './http/request-body.ts';
export { parseBody } from './http/validation.ts';
export { type KekConfig, type KekOptions, resolveKekConfig } from './keys/index.ts';
export { OriginMetrics } from './metrics.ts';
export type {
  AgentStatus,
  Authenticate,
  CommitEvent,
  ReplicatedChange,
  ReplicationHub,
  ReplicationSource,
  TenantSnapshot,
  TokenGrant,
} from './replication/index.ts';
export { SECRET_LOG_REDACTION } from './secrets/index.ts';
export {
  ADMIN_TOKEN_FILE,
  type RunningOrigin,
  type StartOriginExtras,
  startOrigin,
} from './start-origin.ts';
export type {
  ChangeInput,
  CommitOptions,
  CommitResult,
  CommittedChange,
} from './store/commit-types.ts';
export type { Retention } from './store/compaction.ts';
export {
  type EntryRead,
  type EntrySummary,
  type HistoryItem,
  OriginStore,
  type OriginStoreOptions,
  type ReadAt,
  type SnapshotInfo,
  type TenantInfo,
} from './store/origin-store.ts';

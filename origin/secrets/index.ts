export {
  type AgentDataKey,
  type AgentDataKeySource,
  agentDataKeySource,
} from './agent-data-keys.ts';
export { SECRET_LOG_REDACTION } from './log-redaction.ts';
export { type SecretRouteDeps, secretRoutes } from './secret-routes.ts';
export {
  randomToken,
  registerSecretService,
  type SecretMetadata,
  SecretService,
  type SecretWrite,
  secretServiceOf,
  secretWriteSchema,
} from './secret-service.ts';
export {
  type RunningSecrets,
  type SecretsDeps,
  startSecrets,
} from './start-secrets.ts';
export { StoreSecretSource, SYSTEM_ACTORS } from './store-secret-source.ts';

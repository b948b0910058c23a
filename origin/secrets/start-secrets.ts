import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { RouteGroup } from '../http/app.ts';
import { createKeyProvider } from '../keys/create-key-provider.ts';
import { DataKeyCache } from '../keys/data-key-cache.ts';
import { DataKeyManager } from '../keys/data-key-manager.ts';
import { DataKeyRotation } from '../keys/data-key-rotation.ts';
import type { KekConfig } from '../keys/kek-settings.ts';
import type { ReplicationHub } from '../replication/index.ts';
import type { OriginStore } from '../store/origin-store.ts';
import { type AgentDataKeySource, agentDataKeySource } from './agent-data-keys.ts';
import { secretRoutes } from './secret-routes.ts';
import { registerSecretService, SecretService } from './secret-service.ts';
import { SecretsMetrics } from './secrets-metrics.ts';
import { StoreSecretSource } from './store-secret-source.ts';

/** What {@link startSecrets} needs from the origin process. */
export interface SecretsDeps {
  store: OriginStore;
  kek: KekConfig;
  dataDir: string;
  logger: Logger;
  /** The replication hub, once attached. */
  hub: () => ReplicationHub | undefined;
  /** Registry for the secrets metrics; without one, none are kept. */
  registry?: Registry;
}

/** The running secrets subsystem of an origin. */
export interface RunningSecrets {
  secrets: SecretService;
  keys: DataKeyManager;
  rotation: DataKeyRotation;
  /** Route groups to mount under `/v1`. */
  routeGroups: RouteGroup[];
  /** For the replication hub: data keys wrapped to agents. */
  agentDataKeys: AgentDataKeySource;
  close(): Promise<void>;
}

/**
 * Starts the key provider, the data key manager, resumes any data key rotation a previous
 * process left running, and schedules the sweep for overlaps and rotation schedules.
 */
export async function startSecrets(deps: SecretsDeps): Promise<RunningSecrets> {
  const log = deps.logger.child({ component: 'secrets' });
  const { provider, masterKeySource } = await createKeyProvider(deps.kek, deps.dataDir, (event) => {
    if (event.type === 'token_renew_failed' || event.type === 'login_failed') {
      log.warn({ vault: event.type, reason: event.reason }, 'vault token problem');
    } else log.info({ vault: event.type, ttlSeconds: event.ttlSeconds }, 'vault token');
  });
  log.info(
    { kek: provider.kind, kekId: provider.currentKekId, masterKeySource },
    'key provider ready',
  );

  const metrics =
    deps.registry === undefined ? undefined : new SecretsMetrics(deps.registry, provider.kind);
  const cache = new DataKeyCache({
    ttlMs: deps.kek.cacheTtlMs,
    staleIfErrorMs: deps.kek.staleIfErrorMs,
  });
  const keys = await DataKeyManager.open({
    reader: deps.store.database,
    writer: deps.store.writes,
    provider,
    cache,
    onEvent: (event) => {
      metrics?.onDataKeyEvent(event);
      if (event.type === 'stale_data_key_served') {
        log.warn({ tenant: event.tenant, dekVersion: event.version }, 'provider down: stale key');
      } else if (event.type === 'data_key_created' || event.type === 'data_key_retired') {
        log.info({ tenant: event.tenant, dekVersion: event.version }, event.type);
      }
    },
  });

  const rotation = new DataKeyRotation({
    reader: deps.store.database,
    writer: deps.store.writes,
    keys,
    secrets: new StoreSecretSource(deps.store),
    batchSize: deps.kek.reencryptBatch,
    onProgress: (status) => {
      metrics?.onRotation(status);
      const fields = { ...status, dekVersion: status.targetVersion };
      if (status.state === 'failed') log.warn(fields, 'secret re-encryption stopped');
      else if (status.state === 'done') log.info(fields, 'secret re-encryption done');
      else log.debug(fields, 'secret re-encryption progress');
    },
  });
  const resumed = await rotation.resumeAll();
  if (resumed.length > 0) log.info({ tenants: resumed }, 'secret re-encryption resumed');

  const secrets = new SecretService({ store: deps.store, keys, hub: deps.hub });
  registerSecretService(deps.store, secrets);
  const sweepMs = deps.kek.sweepIntervalMs;
  let sweeping: Promise<void> | undefined;
  const timer = setInterval(() => {
    sweeping ??= secrets
      .sweep()
      .then(
        (result) => {
          if (result.overlapsEnded + result.rotated > 0) log.info(result, 'secrets swept');
        },
        (err: unknown) =>
          log.warn({ err: { code: (err as { code?: string }).code } }, 'sweep failed'),
      )
      .finally(() => {
        sweeping = undefined;
      });
  }, sweepMs);
  timer.unref();

  return {
    secrets,
    keys,
    rotation,
    routeGroups: [secretRoutes({ secrets, keys, rotation })],
    agentDataKeys: agentDataKeySource(keys),
    async close() {
      clearInterval(timer);
      await sweeping;
      await rotation.close();
      await provider.close();
    },
  };
}

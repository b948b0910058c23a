import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import { type Logger, pino } from 'pino';
import type { AccessGrant } from './auth/token-grant.ts';
import { TokenStore } from './auth/token-store.ts';
import type { OriginConfig } from './config.ts';
import { buildOriginApp, type RouteGroup } from './http/app.ts';
import type { OriginServices } from './http/app-env.ts';
import { type KekConfig, resolveKekConfig } from './keys/index.ts';
import { OriginMetrics } from './metrics.ts';
import { attachReplication, type ReplicationHub } from './replication/index.ts';
import { SECRET_LOG_REDACTION, startSecrets } from './secrets/index.ts';
import { findRewoundTenant, readStoreState, writeStoreState } from './store/continuity.ts';
import { OriginStore } from './store/origin-store.ts';

/** A running origin. */
export interface RunningOrigin {
  /** Base URL, e.g. `http://127.0.0.1:7400`; the API is under `${url}/v1`. */
  url: string;
  port: number;
  host: string;
  store: OriginStore;
  tokens: TokenStore;
  hub: ReplicationHub;
  logger: Logger;
  metrics: OriginMetrics;
  server: Server;
  /**
   * Stops accepting, lets in-flight requests finish, closes the replication hub, waits for
   * queued writes and closes the database. Safe to call more than once.
   */
  close(): Promise<void>;
}

/** Extras for {@link startOrigin}. */
export interface StartOriginExtras {
  /** Logger to use instead of a new pino logger on stdout. */
  logger?: Logger;
  /** More `/v1` route groups, mounted after the built-in ones. */
  routeGroups?: RouteGroup[];
  /** Key provider settings; by default resolved from the environment (`LCM_KEK` ...). */
  kek?: KekConfig;
}

/** Name of the file, in the data folder, holding a generated admin token. */
export const ADMIN_TOKEN_FILE = 'admin.token';
const ADMIN_TOKEN_FILE_MODE = 0o600;

/** Opens the store, makes sure an admin can get in, and serves the origin API. */
export async function startOrigin(
  config: OriginConfig,
  extras: StartOriginExtras = {},
): Promise<RunningOrigin> {
  const logger =
    extras.logger ??
    pino({
      level: config.logLevel,
      base: { service: 'lcm-origin' },
      redact: SECRET_LOG_REDACTION,
    });
  await mkdir(config.dataDir, { recursive: true });

  const store = await OriginStore.open({
    url: config.databaseUrl,
    ...(config.databaseAuthToken !== undefined && { authToken: config.databaseAuthToken }),
    limits: { maxBytes: config.maxValueBytes, maxDepth: config.maxDepth },
    busyTimeoutMs: config.busyTimeoutMs,
    maxCommitsPerTransaction: config.groupCommitMax,
    retention: { revisions: config.retainRevisions, ageMs: config.retainAgeMs },
  });
  await guardEpoch(config, store, logger);
  const tokens = new TokenStore(store);
  await provisionAdmin(config, tokens, logger);
  let hub: ReplicationHub | undefined;
  const metrics = new OriginMetrics();
  const secrets = await startSecrets({
    store,
    kek: extras.kek ?? resolveKekConfig({}, process.env),
    dataDir: config.dataDir,
    logger,
    hub: () => hub,
    registry: metrics.registry,
  });

  for (const tenant of await store.listTenants()) {
    metrics.headRevision.set({ tenant: tenant.id }, tenant.headRevision);
  }
  store.onCommit((event) => {
    metrics.commits.inc({ tenant: event.tenant });
    metrics.headRevision.set({ tenant: event.tenant }, event.revision);
  });

  let accepting = false;
  const services: OriginServices = {
    config,
    store,
    tokens,
    metrics,
    logger,
    hub: () => hub,
    ready: () => accepting,
  };
  const app = buildOriginApp(services, [...(extras.routeGroups ?? []), ...secrets.routeGroups]);
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  try {
    await listen(server, config.port, config.host);
  } catch (error) {
    // A taken port must not leave the database open behind a failed start.
    await secrets.close();
    await store.close();
    throw error;
  }

  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  const authenticate = (token: string): Promise<AccessGrant | null> => tokens.authenticate(token);
  hub = attachReplication({
    server,
    store,
    authenticate,
    logger: logger.child({ component: 'replication' }),
    registry: metrics.registry,
    dataKeys: secrets.agentDataKeys,
    settings: { heartbeatTimeoutMs: config.heartbeatTimeoutMs, peerPollMs: config.peerPollMs },
  });
  const stopRevoking = tokens.onRevoke((tokenId) => hub?.revokeToken(tokenId));
  const stopCompaction = scheduleCompaction(config, store, logger);
  const stopNoting = scheduleStateNotes(config, store, logger);
  accepting = true;
  logger.info({ port, host: config.host, url, epoch: store.epoch }, 'origin listening');

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      accepting = false;
      stopCompaction();
      stopNoting();
      stopRevoking();
      const serverClosed = closeServer(server, config.shutdownTimeoutMs);
      await hub?.close();
      await serverClosed;
      await secrets.close();
      await store.writes.close();
      await writeStoreState(config.dataDir, store).catch(() => {});
      await store.close();
      logger.info({ port }, 'origin stopped');
    })();
    return closing;
  };

  return {
    url,
    port,
    host: config.host,
    store,
    tokens,
    hub,
    logger,
    metrics,
    server,
    close,
  };
}

async function provisionAdmin(config: OriginConfig, tokens: TokenStore, logger: Logger) {
  const { token } = await tokens.ensureAdmin(config.adminToken);
  if (config.adminToken !== undefined) {
    logger.info('admin token taken from LCM_ADMIN_TOKEN');
    return;
  }
  if (token === undefined) return;

  const path = join(config.dataDir, ADMIN_TOKEN_FILE);
  await writeFile(path, `${token}\n`, { mode: ADMIN_TOKEN_FILE_MODE });
  logger.info({ path }, 'admin token created');
}

/** How often the origin notes its tenants' heads for {@link guardEpoch}. */
const STATE_NOTE_INTERVAL_MS = 5_000;

/**
 * Renews the store epoch when asked to, or when the database is behind what this origin noted
 * under the same epoch (it was restored from a backup), so that replicas do not mistake the
 * restored revisions for the ones they hold; then notes the current heads.
 */
async function guardEpoch(config: OriginConfig, store: OriginStore, logger: Logger) {
  const previous = store.epoch;
  if (config.newEpoch) {
    await store.renewEpoch();
    logger.warn({ previous, epoch: store.epoch }, 'store epoch renewed on request');
  } else {
    const state = await readStoreState(config.dataDir);
    const rewound = state && (await findRewoundTenant(store, state));
    if (rewound) {
      await store.renewEpoch();
      logger.warn({ ...rewound, previous, epoch: store.epoch }, 'store went back in time');
    }
  }
  await writeStoreState(config.dataDir, store);
}

function scheduleStateNotes(config: OriginConfig, store: OriginStore, logger: Logger) {
  const timer = setInterval(() => {
    writeStoreState(config.dataDir, store).catch((err) =>
      logger.warn({ err }, 'could not note the store state'),
    );
  }, STATE_NOTE_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeServer(server: Server, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const cutOff = setTimeout(() => server.closeAllConnections(), timeoutMs);
    cutOff.unref();
    server.close(() => {
      clearTimeout(cutOff);
      resolve();
    });
    server.closeIdleConnections();
  });
}

function scheduleCompaction(config: OriginConfig, store: OriginStore, logger: Logger) {
  if (config.compactIntervalMs === 0) return () => {};
  const log = logger.child({ component: 'compaction' });
  const timer = setInterval(() => {
    store.compact().then(
      (horizons) => log.debug({ horizons }, 'change log compacted'),
      (err) => log.warn({ err }, 'compaction failed'),
    );
  }, config.compactIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

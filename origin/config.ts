import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_VALUE_BYTES } from '../core/index.ts';

/** Options of an origin, as given by flags; every field is optional. */
export interface OriginOptions {
  port?: number | string;
  host?: string;
  data?: string;
  databaseUrl?: string;
  logLevel?: string;
  newEpoch?: boolean;
}

/** The complete settings of one origin process. */
export interface OriginConfig {
  /** TCP port to listen on; 0 picks a free one. Flag `--port`, env `PORT`, default 7400. */
  port: number;
  /** Interface to listen on. Flag `--host`, env `LCM_HOST`, default 127.0.0.1. */
  host: string;
  /** Folder for the database file and `admin.token`. Flag `--data`, env `LCM_DATA`, `./data`. */
  dataDir: string;
  /**
   * libSQL URL of the store. Flag `--database-url`, env `LCM_DATABASE_URL`; default a file
   * `origin.db` in the data folder.
   */
  databaseUrl: string;
  /** Auth token for a remote libSQL server. Env `LCM_DATABASE_AUTH_TOKEN`. */
  databaseAuthToken?: string;
  /** The admin token's text, instead of a generated one. Env `LCM_ADMIN_TOKEN`. */
  adminToken?: string;
  /** Largest value, bytes of JSON text. Env `LCM_MAX_VALUE_BYTES`, default 8 MiB. */
  maxValueBytes: number;
  /** Deepest nesting of a value. Env `LCM_MAX_DEPTH`, default 64. */
  maxDepth: number;
  /**
   * Largest request body; a commit carries several values. Env `LCM_MAX_REQUEST_BYTES`,
   * default twice the largest value plus 64 KiB. Must be at least `maxValueBytes`.
   */
  maxRequestBytes: number;
  /**
   * Most changes in one commit; a larger commit is refused with 413 `too_large`, since it holds
   * the store's one writer (and slows every other request) while it is written. Env
   * `LCM_MAX_COMMIT_CHANGES`, default 1000.
   */
  maxCommitChanges: number;
  /** Change log revisions kept per tenant, 0 = all. Env `LCM_RETAIN_REVISIONS`, default 10000. */
  retainRevisions: number;
  /** Change log age kept, ms, 0 = any age. Env `LCM_RETAIN_AGE_MS`, default 0. */
  retainAgeMs: number;
  /** How often compaction runs, ms, 0 = never. Env `LCM_COMPACT_INTERVAL_MS`, default 60000. */
  compactIntervalMs: number;
  /** Wait for another process's database lock, ms. Env `LCM_BUSY_TIMEOUT_MS`, default 5000. */
  busyTimeoutMs: number;
  /** Most commits per transaction (group commit). Env `LCM_GROUP_COMMIT_MAX`, default 64. */
  groupCommitMax: number;
  /** Time allowed for a clean stop before connections are cut, ms. Default 10000. */
  shutdownTimeoutMs: number;
  /**
   * An agent connection silent this long is closed, ms; pings go out every third of it. Env
   * `LCM_HEARTBEAT_TIMEOUT_MS`, default 30000.
   */
  heartbeatTimeoutMs: number;
  /**
   * How often the origin reads the heads of the tenants its agents carry, to stream commits made
   * by other origin processes on the same database, ms; 0 = off. Env `LCM_PEER_POLL_MS`, default
   * 500.
   */
  peerPollMs: number;
  /** pino level. Flag `--log-level`, env `LCM_LOG_LEVEL`, default `info`. */
  logLevel: string;
  /**
   * Give the store a new epoch at start, after restoring it from a backup. Flag `--new-epoch`,
   * env `LCM_NEW_EPOCH=1`, default false. (A restore under the same data folder is also detected
   * on its own, when the database is behind what this origin saw before.)
   */
  newEpoch: boolean;
}

const DEFAULT_PORT = 7400;
const DEFAULT_RETAIN_REVISIONS = 10_000;
const DEFAULT_COMPACT_INTERVAL_MS = 60_000;
const DEFAULT_BUSY_TIMEOUT_MS = 5_000;
const DEFAULT_GROUP_COMMIT_MAX = 64;
const DEFAULT_MAX_COMMIT_CHANGES = 1000;
const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 30_000;
const MIN_HEARTBEAT_TIMEOUT_MS = 100;
const DEFAULT_PEER_POLL_MS = 500;
const REQUEST_OVERHEAD_BYTES = 64 * 1024;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Resolves flags and environment into a complete origin config: a flag wins over its variable,
 * a variable over the default. Contradictory or malformed settings throw an Error naming them.
 */
export function resolveOriginConfig(
  options: OriginOptions = {},
  env: Record<string, string | undefined> = process.env,
): OriginConfig {
  const dataDir = resolve(options.data ?? env.LCM_DATA ?? './data');
  const maxValueBytes = integer(
    'LCM_MAX_VALUE_BYTES',
    env.LCM_MAX_VALUE_BYTES,
    DEFAULT_MAX_VALUE_BYTES,
    1,
  );
  const maxRequestBytes = integer(
    'LCM_MAX_REQUEST_BYTES',
    env.LCM_MAX_REQUEST_BYTES,
    2 * maxValueBytes + REQUEST_OVERHEAD_BYTES,
    1,
  );
  if (maxRequestBytes < maxValueBytes) {
    throw new Error(
      `LCM_MAX_REQUEST_BYTES (${maxRequestBytes}) is smaller than LCM_MAX_VALUE_BYTES ` +
        `(${maxValueBytes}): no value of the largest size could be sent`,
    );
  }
  const logLevel = options.logLevel ?? env.LCM_LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new Error(`LCM_LOG_LEVEL is one of ${LOG_LEVELS.join(', ')}, not ${logLevel}`);
  }

  const config: OriginConfig = {
    port: integer('--port / PORT', options.port ?? env.PORT, DEFAULT_PORT, 0, 65_535),
    host: options.host ?? env.LCM_HOST ?? '127.0.0.1',
    dataDir,
    databaseUrl:
      options.databaseUrl ??
      env.LCM_DATABASE_URL ??
      pathToFileURL(resolve(dataDir, 'origin.db')).href,
    maxValueBytes,
    maxDepth: integer('LCM_MAX_DEPTH', env.LCM_MAX_DEPTH, DEFAULT_MAX_DEPTH, 1, 10_000),
    maxRequestBytes,
    maxCommitChanges: integer(
      'LCM_MAX_COMMIT_CHANGES',
      env.LCM_MAX_COMMIT_CHANGES,
      DEFAULT_MAX_COMMIT_CHANGES,
      1,
    ),
    retainRevisions: integer(
      'LCM_RETAIN_REVISIONS',
      env.LCM_RETAIN_REVISIONS,
      DEFAULT_RETAIN_REVISIONS,
      0,
    ),
    retainAgeMs: integer('LCM_RETAIN_AGE_MS', env.LCM_RETAIN_AGE_MS, 0, 0),
    compactIntervalMs: integer(
      'LCM_COMPACT_INTERVAL_MS',
      env.LCM_COMPACT_INTERVAL_MS,
      DEFAULT_COMPACT_INTERVAL_MS,
      0,
    ),
    busyTimeoutMs: integer(
      'LCM_BUSY_TIMEOUT_MS',
      env.LCM_BUSY_TIMEOUT_MS,
      DEFAULT_BUSY_TIMEOUT_MS,
      0,
    ),
    groupCommitMax: integer(
      'LCM_GROUP_COMMIT_MAX',
      env.LCM_GROUP_COMMIT_MAX,
      DEFAULT_GROUP_COMMIT_MAX,
      1,
    ),
    shutdownTimeoutMs: integer(
      'LCM_SHUTDOWN_TIMEOUT_MS',
      env.LCM_SHUTDOWN_TIMEOUT_MS,
      DEFAULT_SHUTDOWN_TIMEOUT_MS,
      0,
    ),
    heartbeatTimeoutMs: integer(
      'LCM_HEARTBEAT_TIMEOUT_MS',
      env.LCM_HEARTBEAT_TIMEOUT_MS,
      DEFAULT_HEARTBEAT_TIMEOUT_MS,
      MIN_HEARTBEAT_TIMEOUT_MS,
    ),
    peerPollMs: integer('LCM_PEER_POLL_MS', env.LCM_PEER_POLL_MS, DEFAULT_PEER_POLL_MS, 0),
    logLevel,
    newEpoch: options.newEpoch ?? flag('LCM_NEW_EPOCH', env.LCM_NEW_EPOCH),
  };
  if (env.LCM_DATABASE_AUTH_TOKEN) config.databaseAuthToken = env.LCM_DATABASE_AUTH_TOKEN;
  if (env.LCM_ADMIN_TOKEN !== undefined) {
    if (env.LCM_ADMIN_TOKEN.length < 16) {
      throw new Error('LCM_ADMIN_TOKEN must be at least 16 characters long');
    }
    config.adminToken = env.LCM_ADMIN_TOKEN;
  }
  return config;
}

function flag(name: string, raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new Error(`${name} is 1 or 0, not ${JSON.stringify(raw)}`);
}

function integer(
  name: string,
  raw: number | string | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (raw === undefined || raw === '') return fallback;
  const value = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

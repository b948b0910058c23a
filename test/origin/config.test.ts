import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolveOriginConfig } from '../../origin/index.ts';

describe('resolveOriginConfig', () => {
  it('fills every setting with its documented default', () => {
    const config = resolveOriginConfig({}, {});
    expect(config).toEqual({
      port: 7400,
      host: '127.0.0.1',
      dataDir: resolve('./data'),
      databaseUrl: pathToFileURL(resolve('./data/origin.db')).href,
      maxValueBytes: 8 * 1024 * 1024,
      maxDepth: 64,
      maxRequestBytes: 2 * 8 * 1024 * 1024 + 64 * 1024,
      maxCommitChanges: 1000,
      retainRevisions: 10_000,
      retainAgeMs: 0,
      compactIntervalMs: 60_000,
      busyTimeoutMs: 5_000,
      groupCommitMax: 64,
      shutdownTimeoutMs: 10_000,
      heartbeatTimeoutMs: 30_000,
      peerPollMs: 500,
      logLevel: 'info',
      newEpoch: false,
    });
  });

  it('takes the environment, and flags over the environment', () => {
    const env = {
      PORT: '9000',
      LCM_HOST: '0.0.0.0',
      LCM_DATA: '/tmp/lcm-env-data',
      LCM_DATABASE_URL: 'http://127.0.0.1:8080',
      LCM_DATABASE_AUTH_TOKEN: 'db-token',
      LCM_ADMIN_TOKEN: 'an-admin-token-long-enough',
      LCM_MAX_VALUE_BYTES: '1024',
      LCM_RETAIN_AGE_MS: '3600000',
      LCM_HEARTBEAT_TIMEOUT_MS: '5000',
      LCM_MAX_COMMIT_CHANGES: '50',
      LCM_PEER_POLL_MS: '0',
    };
    const fromEnv = resolveOriginConfig({}, env);
    expect(fromEnv).toMatchObject({
      port: 9000,
      host: '0.0.0.0',
      dataDir: '/tmp/lcm-env-data',
      databaseUrl: 'http://127.0.0.1:8080',
      databaseAuthToken: 'db-token',
      adminToken: 'an-admin-token-long-enough',
      maxValueBytes: 1024,
      maxRequestBytes: 2048 + 64 * 1024,
      retainAgeMs: 3_600_000,
      heartbeatTimeoutMs: 5_000,
      maxCommitChanges: 50,
      peerPollMs: 0,
    });

    const fromFlags = resolveOriginConfig({ port: '0', host: '::1', data: 'here' }, env);
    expect(fromFlags).toMatchObject({ port: 0, host: '::1', dataDir: resolve('here') });
  });

  it.each([
    [{ PORT: '70000' }, /--port \/ PORT/],
    [{ PORT: 'abc' }, /--port \/ PORT/],
    [{ LCM_MAX_VALUE_BYTES: '0' }, /LCM_MAX_VALUE_BYTES/],
    [{ LCM_MAX_DEPTH: '-1' }, /LCM_MAX_DEPTH/],
    [{ LCM_LOG_LEVEL: 'loud' }, /LCM_LOG_LEVEL/],
    [{ LCM_ADMIN_TOKEN: 'short' }, /LCM_ADMIN_TOKEN/],
    [{ LCM_NEW_EPOCH: 'yes' }, /LCM_NEW_EPOCH/],
    [{ LCM_MAX_COMMIT_CHANGES: '0' }, /LCM_MAX_COMMIT_CHANGES/],
  ])('refuses %j with a message naming the setting', (env, message) => {
    expect(() => resolveOriginConfig({}, env)).toThrow(message);
  });

  it('refuses a request limit below the value limit, naming both', () => {
    const env = { LCM_MAX_VALUE_BYTES: '2000', LCM_MAX_REQUEST_BYTES: '1000' };
    expect(() => resolveOriginConfig({}, env)).toThrow(
      /LCM_MAX_REQUEST_BYTES.*LCM_MAX_VALUE_BYTES/,
    );
  });
});

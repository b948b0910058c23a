import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createClient } from '@libsql/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { type ApiResponse, errorCode, originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { filesUnder, findLeaks } from '../support/secret-scan.ts';
import {
  startVaultTransitServer,
  type VaultTransitServer,
} from '../support/vault-transit-server.ts';

// Known secrets go through every path: write, reveal, value rotation, data key rotation,
// replication to an agent, provider failures (5xx, timeout, garbage) and bad requests. Then every
// log line, every error body, and every file of the origin and the agent is searched for them,
// as they are and in base64 and hex. The origin uses the Vault provider against the local
// Vault Transit server, whose requests show the data keys, so those are searched for too.

const VAULT_TOKEN = 'hvs.never-leak-root-token-0001';
const SECRET_TOKEN = 'never-leak-local-secret-token-01';
const SECRETS = [
  'leak-canary-first-3b9f7a1c',
  'leak-canary-rotated-8e2d4c6a',
  'leak-canary-scheduled-5f1a9b3e',
  'leak-canary-bad-request-0c7e2d4f',
  'leak-canary-failed-write-6a3b8c1d',
];

let vault: VaultTransitServer;
let origin: OriginProcess;
let agent: AgentProcess;
let api: ReturnType<typeof originApi>;
const answers: ApiResponse[] = [];

async function call(method: string, path: string, body?: unknown, raw?: string) {
  const answer = await api(method, path, raw === undefined ? { body } : { raw });
  answers.push(answer);
  return answer;
}

beforeAll(async () => {
  vault = await startVaultTransitServer({ rootToken: VAULT_TOKEN });
  origin = await startOriginProcess({
    env: {
      LCM_KEK: 'vault',
      VAULT_ADDR: vault.url,
      VAULT_TOKEN,
      LCM_KEK_TIMEOUT_MS: '300',
      LCM_DEK_CACHE_TTL_MS: '1',
      LCM_SECRET_SWEEP_MS: '100',
      LCM_LOG_LEVEL: 'debug',
    },
  });
  api = originApi(origin);
});

afterAll(async () => {
  await agent?.dispose();
  await origin?.dispose();
  await vault?.close();
});

describe('secrets never leak', () => {
  it('writes, reveals and rotates through the Vault provider', async () => {
    expect((await call('PUT', '/v1/tenants/leak/secrets/a', { value: SECRETS[0] })).status).toBe(
      200,
    );
    const revealed = await call('GET', '/v1/tenants/leak/secrets/a?reveal=true');
    expect((revealed.body as { value: string }).value).toBe(SECRETS[0]);
    answers.pop(); // the one answer that is meant to hold the plaintext

    const rotated = await call('PUT', '/v1/tenants/leak/secrets/a', {
      value: SECRETS[1],
      rotate: { overlapSeconds: 3600 },
    });
    expect(rotated.status).toBe(200);
    await call('PUT', '/v1/tenants/leak/secrets/b', {
      value: SECRETS[2],
      rotation: { everySeconds: 1, generator: 'random-token', overlapSeconds: 1 },
    });
    expect((await call('POST', '/v1/tenants/leak/keys/rotate')).status).toBe(202);
    await expect
      .poll(async () => (await api('GET', '/v1/tenants/leak/keys')).body, { timeout: 10_000 })
      .toMatchObject({ rotation: { state: 'done' } });
    expect(vault.requests.some((r) => r.path === '/v1/transit/encrypt/lcm')).toBe(true);
  });

  it('replicates to an agent that opens the secret with its local token', async () => {
    const token = await call('POST', '/v1/tokens', { role: 'agent', tenants: ['leak'] });
    agent = await startAgentProcess({
      origin: origin.url,
      token: (token.body as { token: string }).token,
      tenants: ['leak'],
      env: { LCM_AGENT_SECRET_TOKEN: SECRET_TOKEN },
    });
    await expect
      .poll(
        async () => {
          const response = await fetch(`${agent.url}/v1/tenants/leak/secrets/a?reveal=true`, {
            headers: { authorization: `Bearer ${SECRET_TOKEN}` },
          });
          return ((await response.json()) as { value?: string }).value;
        },
        { timeout: 15_000, interval: 100 },
      )
      .toBe(SECRETS[1]);
  });

  it('answers kek_unavailable for 5xx, timeouts and garbage, and writes nothing', async () => {
    for (const fault of [{ status: 503 }, { delayMs: 1000 }, { garbage: true }]) {
      vault.faults.add(fault, 5);
      const failed = await call('PUT', '/v1/tenants/fresh/secrets/x', { value: SECRETS[4] });
      expect(failed.status).toBe(503);
      expect(errorCode(failed)).toBe('kek_unavailable');
      vault.faults.clear();
    }
    const tenant = await call('GET', '/v1/tenants/fresh');
    expect(tenant.status).toBe(404);
  });

  it('keeps reads working from data keys already unwrapped while Vault is down', async () => {
    vault.faults.add({ status: 500 }, 100);
    const read = await api('GET', '/v1/tenants/leak/secrets/a?reveal=true');
    expect(read.status).toBe(200);
    expect((read.body as { value: string }).value).toBe(SECRETS[1]);
    vault.faults.clear();
    expect(origin.logs.join('\n')).toContain('provider down: stale key');
  });

  it('answers bad requests without echoing their values', async () => {
    await call('PUT', '/v1/tenants/leak/secrets/c', { value: SECRETS[3], extra: SECRETS[3] });
    await call('PUT', '/v1/tenants/leak/secrets/c', undefined, `{"value": "${SECRETS[3]}"`);
    await call('PUT', '/v1/tenants/leak/secrets/c', {
      value: SECRETS[3],
      rotate: { overlapSeconds: SECRETS[3] },
    });
    await call('PUT', '/v1/tenants/leak/secrets/..', { value: SECRETS[3] });
    await call('GET', `/v1/tenants/leak/secrets/a?reveal=true&version=${SECRETS[3]}`);
    for (const answer of answers.slice(-5)) expect(answer.status).toBeGreaterThanOrEqual(400);
  });

  it('finds no secret, token or data key in any log, error body or file', async () => {
    const dataKeys = vault.requests
      .filter((r) => r.path.startsWith('/v1/transit/encrypt/'))
      .map((r) => Buffer.from(String(r.body?.plaintext), 'base64').toString('latin1'));
    expect(dataKeys.length).toBeGreaterThan(0);
    const adminToken = origin.adminToken;

    const metrics = await (await fetch(`${origin.url}/metrics`)).text();
    expect(metrics).toMatch(
      /lcm_origin_kek_requests_total\{provider="vault",operation="unwrap",outcome="error"\} [1-9]/,
    );
    expect(metrics).toMatch(/lcm_origin_dek_stale_served_total\{tenant="leak"\} [1-9]/);
    // Stored versions are gzip-compressed: search them unpacked as well.
    const database = createClient({ url: `file:${join(origin.dataDir, 'origin.db')}` });
    const versions = await database.execute('SELECT value FROM versions WHERE value IS NOT NULL');
    database.close();
    const unpacked = versions.rows
      .map((row) => gunzipSync(new Uint8Array(row[0] as ArrayBuffer)).toString('utf8'))
      .join('\n');
    expect(unpacked).toContain('"alg":"A256GCM"');

    const texts: Record<string, string> = {
      storedVersions: unpacked,
      metrics,
      originLogs: origin.logs.join('\n'),
      agentLogs: agent.logs.join('\n'),
      answers: answers.map((a) => a.text).join('\n'),
    };
    const files = [...filesUnder(origin.dataDir), ...filesUnder(agent.dataDir)].filter(
      (file) => !file.endsWith('admin.token'),
    );
    expect(findLeaks([...SECRETS, VAULT_TOKEN, SECRET_TOKEN], texts, files)).toEqual([]);
    expect(findLeaks([adminToken], { ...texts }, [])).toEqual([]);

    // Data keys are binary: search their raw bytes, base64 and hex.
    for (const dataKey of dataKeys) {
      const bytes = Buffer.from(dataKey, 'latin1');
      for (const form of [bytes.toString('base64'), bytes.toString('hex')]) {
        for (const text of Object.values(texts)) expect(text.includes(form)).toBe(false);
      }
      for (const file of files) expect(readFileSync(file).includes(bytes)).toBe(false);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import {
  startVaultTransitServer,
  type VaultTransitServer,
} from '../support/vault-transit-server.ts';

// An agent that connects while the key provider is down still replicates configs at once, and
// gets its data keys once the provider is back. Vault is the local Transit server.

const VAULT_TOKEN = 'hvs.outage-root-token-000001';
const SECRET_TOKEN = 'outage-local-secret-token-0001';

let vault: VaultTransitServer;
let origin: OriginProcess;
let agent: AgentProcess | undefined;
let api: ReturnType<typeof originApi>;

beforeAll(async () => {
  vault = await startVaultTransitServer({ rootToken: VAULT_TOKEN });
  origin = await startOriginProcess({
    env: {
      LCM_KEK: 'vault',
      VAULT_ADDR: vault.url,
      VAULT_TOKEN,
      LCM_KEK_TIMEOUT_MS: '300',
      LCM_DEK_CACHE_TTL_MS: '1',
      LCM_DEK_STALE_IF_ERROR_MS: '0',
    },
  });
  api = originApi(origin);
  await api('PUT', '/v1/tenants/out/secrets/db', { body: { value: 'outage-secret' } });
  await api('PUT', '/v1/tenants/out/entries/app', { body: { replicas: 3 } });
});

afterAll(async () => {
  await agent?.dispose();
  await origin?.dispose();
  await vault?.close();
});

describe('an agent connecting during a key provider outage', () => {
  it('replicates configs at once and opens secrets once the provider is back', async () => {
    vault.faults.add({ status: 503 }, 10_000);
    const token = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants: ['out'] } });
    agent = await startAgentProcess({
      origin: origin.url,
      token: (token.body as { token: string }).token,
      tenants: ['out'],
      env: { LCM_AGENT_SECRET_TOKEN: SECRET_TOKEN },
    });
    const read = async (path: string, auth = false) => {
      const headers: Record<string, string> = auth
        ? { authorization: `Bearer ${SECRET_TOKEN}` }
        : {};
      const response = await fetch(`${agent!.url}${path}`, { headers });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };

    await expect
      .poll(async () => (await read('/v1/tenants/out/entries/app')).body, { timeout: 15_000 })
      .toEqual({ replicas: 3 });
    const locked = await read('/v1/tenants/out/secrets/db?reveal=true', true);
    expect(locked.status).toBe(503);
    expect(JSON.stringify(locked.body)).not.toContain('outage-secret');

    vault.faults.clear();
    await expect
      .poll(async () => (await read('/v1/tenants/out/secrets/db?reveal=true', true)).body.value, {
        timeout: 20_000,
        interval: 200,
      })
      .toBe('outage-secret');
    expect(origin.logs.join('\n')).toContain('data keys not sent');
  });
});

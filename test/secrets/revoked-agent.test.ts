import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

// A revoked agent token gets no new data keys, and a data key rotation then cuts the agent off
// from every later secret, while an agent with a valid token carries on.

const SECRET_TOKEN = 'revoked-agent-secret-token-0001';

let origin: OriginProcess;
let kept: AgentProcess;
let revoked: AgentProcess;
let api: ReturnType<typeof originApi>;
let revokedTokenId: string;

async function revealAt(agent: AgentProcess): Promise<unknown> {
  const response = await fetch(`${agent.url}/v1/tenants/rev/secrets/svc/key?reveal=true`, {
    headers: { authorization: `Bearer ${SECRET_TOKEN}` },
  });
  return ((await response.json()) as { value?: unknown }).value;
}

async function agentWithNewToken(): Promise<{ agent: AgentProcess; tokenId: string }> {
  const created = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants: ['rev'] } });
  const { id, token } = created.body as { id: string; token: string };
  const agent = await startAgentProcess({
    origin: origin.url,
    token,
    tenants: ['rev'],
    env: { LCM_AGENT_SECRET_TOKEN: SECRET_TOKEN },
  });
  return { agent, tokenId: id };
}

beforeAll(async () => {
  origin = await startOriginProcess();
  api = originApi(origin);
  await api('PUT', '/v1/tenants/rev/secrets/svc/key', { body: { value: 'before-revocation' } });
  kept = (await agentWithNewToken()).agent;
  const second = await agentWithNewToken();
  revoked = second.agent;
  revokedTokenId = second.tokenId;
});

afterAll(async () => {
  await kept?.dispose();
  await revoked?.dispose();
  await origin?.dispose();
});

describe('a revoked agent token', () => {
  it('gets no new data key, and a rotation cuts it off from later secrets', async () => {
    for (const agent of [kept, revoked]) {
      await expect
        .poll(() => revealAt(agent), { timeout: 15_000, interval: 100 })
        .toBe('before-revocation');
    }

    expect((await api('DELETE', `/v1/tokens/${revokedTokenId}`)).status).toBeLessThan(300);
    expect((await api('POST', '/v1/tenants/rev/keys/rotate')).status).toBe(202);
    await api('PUT', '/v1/tenants/rev/secrets/svc/key', { body: { value: 'after-rotation' } });

    await expect
      .poll(() => revealAt(kept), { timeout: 15_000, interval: 100 })
      .toBe('after-rotation');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await revealAt(revoked)).not.toBe('after-rotation');

    const held = JSON.parse(
      readFileSync(join(revoked.dataDir, 'data-keys.json'), 'utf8'),
    ) as Array<{
      version: number;
    }>;
    expect(held.map((key) => key.version)).toEqual([1]);
    const keptKeys = JSON.parse(
      readFileSync(join(kept.dataDir, 'data-keys.json'), 'utf8'),
    ) as Array<{
      version: number;
    }>;
    expect(keptKeys.map((key) => key.version).sort()).toEqual([1, 2]);
  });
});

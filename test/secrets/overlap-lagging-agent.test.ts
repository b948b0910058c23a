import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

// The end of a value rotation's overlap waits for every connected agent of the tenant to
// acknowledge the new value; meanwhile the origin shows which agents lag. The lagging agent is
// a real process stopped with SIGSTOP, and let go with SIGCONT.

let origin: OriginProcess;
let agent: AgentProcess;
let api: ReturnType<typeof originApi>;

interface Metadata {
  version: number;
  previous: { version: number } | null;
  laggingAgents?: string[];
}

beforeAll(async () => {
  origin = await startOriginProcess({ env: { LCM_SECRET_SWEEP_MS: '100' } });
  api = originApi(origin);
  await api('PUT', '/v1/tenants/lag/secrets/k', { body: { value: 'first' } });
  const token = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants: ['lag'] } });
  agent = await startAgentProcess({
    origin: origin.url,
    token: (token.body as { token: string }).token,
    tenants: ['lag'],
  });
  const deadline = Date.now() + 15_000;
  while ((await fetch(`${agent.url}/v1/tenants/lag/secrets/k`)).status !== 200) {
    if (Date.now() > deadline) throw new Error('the agent never had the secret');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  await agent?.dispose();
  await origin?.dispose();
});

describe('overlap held for a lagging agent', () => {
  it('keeps the previous value until the agent acknowledges the new one', async () => {
    const agents = (await api('GET', '/v1/agents')).body as Array<{ agentId: string }>;
    const agentId = agents[0]!.agentId;
    const pid = Number(agent.logRecords().find((r) => typeof r.pid === 'number')?.pid);
    expect(pid).toBeGreaterThan(0);

    process.kill(pid, 'SIGSTOP');
    try {
      const write = await api('PUT', '/v1/tenants/lag/secrets/k', {
        body: { value: 'second', rotate: { overlapSeconds: 1 } },
      });
      expect(write.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1500));

      const held = (await api('GET', '/v1/tenants/lag/secrets/k')).body as Metadata;
      expect(held.previous?.version).toBe(1);
      expect(held.laggingAgents).toEqual([agentId]);
    } finally {
      process.kill(pid, 'SIGCONT');
    }

    await expect
      .poll(async () => (await api('GET', '/v1/tenants/lag/secrets/k')).body, {
        timeout: 10_000,
        interval: 100,
      })
      .toMatchObject({ version: 2, previous: null });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { eventually, readEntry } from './fixture.ts';

const TENANT = 'not-yet-created';

describe('an agent of a tenant that does not exist yet', () => {
  let origin: OriginProcess;
  let agent: AgentProcess;
  let api: ReturnType<typeof originApi>;

  beforeAll(async () => {
    origin = await startOriginProcess();
    api = originApi(origin);
    const token = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants: [TENANT] } });
    expect(token.status).toBe(201);
    agent = await startAgentProcess({
      origin: origin.url,
      token: (token.body as { token: string }).token,
      tenants: [TENANT],
    });
  });

  afterAll(async () => {
    await agent?.dispose();
    await origin?.dispose();
  });

  it('leaves the origin serving, and gets the first commit once the tenant is made', async () => {
    await eventually(async () => {
      const status = await fetch(`${agent.url}/v1/status`);
      expect(((await status.json()) as { connected: boolean }).connected).toBe(true);
    }, 15_000);

    const health = await fetch(`${origin.url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    expect(health.status).toBe(200);

    expect((await api('PUT', `/v1/tenants/${TENANT}`)).status).toBe(201);
    const written = await api('PUT', `/v1/tenants/${TENANT}/entries/routers/prod`, {
      body: { model: 'llama-3.1-8b' },
    });
    expect(written.status).toBe(200);

    await eventually(async () => {
      const read = await readEntry(agent.url, TENANT, 'routers/prod');
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ model: 'llama-3.1-8b' });
    }, 15_000);

    const metrics = await (await fetch(`${origin.url}/metrics`)).text();
    const snapshots = metrics
      .split('\n')
      .filter((line) => line.startsWith('lcm_replication_snapshots_sent_total{'))
      .map((line) => Number(line.split(' ').at(-1)));
    expect(snapshots.reduce((sum, count) => sum + count, 0)).toBeLessThanOrEqual(2);
  });
});

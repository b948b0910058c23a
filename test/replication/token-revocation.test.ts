import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { agentStatus, eventually, readEntry } from './fixture.ts';

const TENANT = 'acme';

/** The agent refuses to come back sooner than this after its token was refused. */
const AUTH_REFUSED_RETRY_MS = 5_000;

describe('revoking the token of a connected agent', () => {
  let origin: OriginProcess;
  let agent: AgentProcess;
  let api: ReturnType<typeof originApi>;
  let tokenId: string;

  beforeAll(async () => {
    origin = await startOriginProcess();
    api = originApi(origin);
    expect((await api('PUT', `/v1/tenants/${TENANT}`)).status).toBe(201);
    const created = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants: [TENANT] } });
    expect(created.status).toBe(201);
    const { id, token } = created.body as { id: string; token: string };
    tokenId = id;
    agent = await startAgentProcess({ origin: origin.url, token, tenants: [TENANT] });
  });

  afterAll(async () => {
    await agent?.dispose();
    await origin?.dispose();
  });

  const agentsListed = async () => (await api('GET', '/v1/agents')).body as unknown[];

  const originErrors = () =>
    agent.logRecords().filter((r) => r.msg === 'origin error' && r.code === 'unauthorized');

  it('disconnects the agent at once, sends it no more writes, and refuses its reconnect', async () => {
    expect((await api('PUT', `/v1/tenants/${TENANT}/entries/k`, { body: 'v1' })).status).toBe(200);
    await eventually(async () => expect((await readEntry(agent.url, TENANT, 'k')).body).toBe('v1'));
    expect(await agentsListed()).toHaveLength(1);

    const revoked = await api('DELETE', `/v1/tokens/${tokenId}`);
    expect(revoked.status).toBe(200);
    await eventually(async () => expect(await agentsListed()).toHaveLength(0), 2_000);
    await eventually(async () => expect((await agentStatus(agent)).connected).toBe(false), 2_000);
    // The agent's log lines come through a pipe and may trail its status.
    await eventually(() => {
      expect(originErrors().length).toBeGreaterThanOrEqual(1);
      const lost = agent.logRecords().find((r) => r.msg === 'origin lost');
      expect(lost?.retryInMs).toBeGreaterThanOrEqual(AUTH_REFUSED_RETRY_MS);
    }, 2_000);

    expect((await api('PUT', `/v1/tenants/${TENANT}/entries/k`, { body: 'v2' })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await readEntry(agent.url, TENANT, 'k')).body).toBe('v1');

    // The next try is refused at the upgrade (HTTP 401), and the agent backs off again.
    await eventually(() => expect(originErrors().length).toBeGreaterThanOrEqual(2), 15_000);
    await eventually(() => {
      const losses = agent.logRecords().filter((r) => r.msg === 'origin lost');
      expect(losses.length).toBeGreaterThanOrEqual(2);
      expect(losses.at(-1)?.retryInMs).toBeGreaterThanOrEqual(AUTH_REFUSED_RETRY_MS);
    });
    expect(await agentsListed()).toHaveLength(0);
    expect((await readEntry(agent.url, TENANT, 'k')).body).toBe('v1');
  }, 40_000);
});

/** The hub checks the tokens of its agents again this often (its default). */
const TOKEN_RECHECK_MS = 5_000;

describe('revoking an agent token through another origin on the same database', () => {
  let first: OriginProcess;
  let second: OriginProcess;
  let agent: AgentProcess;
  let tokenId: string;

  beforeAll(async () => {
    first = await startOriginProcess();
    const api = originApi(first);
    expect((await api('PUT', `/v1/tenants/${TENANT}`)).status).toBe(201);
    const created = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants: [TENANT] } });
    const { id, token } = created.body as { id: string; token: string };
    tokenId = id;
    agent = await startAgentProcess({ origin: first.url, token, tenants: [TENANT] });
    second = await startOriginProcess({ dataDir: first.dataDir });
  }, 60_000);

  afterAll(async () => {
    await agent?.dispose();
    await second?.dispose();
    await first?.dispose();
  });

  it("disconnects the first origin's agent within the token recheck interval", async () => {
    const viaFirst = originApi(first);
    await eventually(async () => expect((await agentStatus(agent)).connected).toBe(true));
    expect((await viaFirst('GET', '/v1/agents')).body).toHaveLength(1);

    expect((await originApi(second)('DELETE', `/v1/tokens/${tokenId}`)).status).toBe(200);
    await eventually(
      async () => expect((await viaFirst('GET', '/v1/agents')).body).toHaveLength(0),
      TOKEN_RECHECK_MS * 2,
    );
    await eventually(() =>
      expect(
        agent.logRecords().some((r) => r.msg === 'origin error' && r.code === 'unauthorized'),
      ).toBe(true),
    );
  }, 40_000);
});

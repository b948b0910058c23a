import { expect } from 'vitest';
import type { AgentProcess } from '../support/agent-process.ts';
import { eventually } from '../support/eventually.ts';
import { originApi } from '../support/origin-api.ts';
import type { OriginProcess } from '../support/origin-process.ts';

export { eventually };

/** Creates the tenants and an agent-role token for them; returns the token. */
export async function agentTokenFor(
  origin: Pick<OriginProcess, 'url' | 'adminToken'>,
  tenants: string[],
): Promise<string> {
  const api = originApi(origin);
  for (const tenant of tenants) {
    const created = await api('PUT', `/v1/tenants/${tenant}`);
    expect(created.status).toBeLessThan(300);
  }
  const token = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants } });
  expect(token.status).toBe(201);
  return (token.body as { token: string }).token;
}

/** An entry read from an agent (or an origin): status, parsed body and the headers we use. */
export async function readEntry(baseUrl: string, tenant: string, key: string, init?: RequestInit) {
  const response = await fetch(`${baseUrl}/v1/tenants/${tenant}/entries/${key}`, init);
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
    etag: response.headers.get('etag'),
    revision: Number(response.headers.get('x-config-revision')),
    stalenessMs: Number(response.headers.get('x-config-staleness-ms')),
  };
}

/** The agent's `/v1/status`. */
export async function agentStatus(agent: Pick<AgentProcess, 'url'>) {
  return (await (await fetch(`${agent.url}/v1/status`)).json()) as {
    connected: boolean;
    origin: string;
    tenants: Record<
      string,
      { revision: number; epoch: string | null; lastSyncAt: string | null; stalenessMs: number }
    >;
  };
}

/** Waits until the agent holds `revision` of `tenant`. */
export async function waitForRevision(
  agent: Pick<AgentProcess, 'url'>,
  tenant: string,
  revision: number,
  timeoutMs = 15_000,
): Promise<void> {
  await eventually(async () => {
    const status = await agentStatus(agent);
    expect(status.tenants[tenant]?.revision).toBeGreaterThanOrEqual(revision);
  }, timeoutMs);
}

/** The value of one sample of a Prometheus text exposition, 0 when absent. */
export function metricValue(text: string, name: string, labels = ''): number {
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith(`${name}${labels === '' ? ' ' : `{${labels}}`}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

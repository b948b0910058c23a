import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { requestPathAsIs } from '../support/raw-http.ts';

// A real origin and a real agent of tenant t with a local secret token: what the agent's HTTP
// API answers to odd requests.

const TENANT = 't';
const SECRET_TOKEN = 'local-secret-token-for-agent-http-01';
const SYNC_TIMEOUT_MS = 20_000;

let origin: OriginProcess;
let agent: AgentProcess;

beforeAll(async () => {
  origin = await startOriginProcess();
  const api = originApi(origin);
  expect((await api('PUT', `/v1/tenants/${TENANT}`)).status).toBeLessThan(300);
  await api('PUT', `/v1/tenants/${TENANT}/entries/t/a`, { body: { at: 't/a' } });
  await api('PUT', `/v1/tenants/${TENANT}/secrets/db/password`, { body: { value: 'pw-1' } });
  const created = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants: [TENANT] } });
  agent = await startAgentProcess({
    origin: origin.url,
    token: (created.body as { token: string }).token,
    tenants: [TENANT],
    env: { LCM_AGENT_SECRET_TOKEN: SECRET_TOKEN },
  });
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  while ((await fetch(`${agent.url}/v1/tenants/${TENANT}/entries/t/a`)).status !== 200) {
    if (Date.now() > deadline) throw new Error('the agent did not sync tenant t in time');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
});

afterAll(async () => {
  await agent?.dispose();
  await origin?.dispose();
});

describe('dot segments in the path', () => {
  it.each([
    `/v1/tenants/${TENANT}/entries/x/../t/a`,
    `/v1/tenants/${TENANT}/entries/t/./a`,
    `/v1/tenants/${TENANT}/entries/x/%2e%2E/t/a`,
    `/v1/tenants/${TENANT}/entries/t/%2e/a`,
    `/v1/tenants/${TENANT}/secrets/x/../db/password`,
    `/v1/tenants/${TENANT}/x/../entries/t/a?prefix=t`,
  ])('refuses %s with 400 bad_key instead of resolving it', async (path) => {
    const answer = await requestPathAsIs(agent.url, 'GET', path);
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: { code: 'bad_key', requestId: expect.any(String) },
    });
  });

  it('still answers the same key asked for without dot segments', async () => {
    const answer = await requestPathAsIs(agent.url, 'GET', `/v1/tenants/${TENANT}/entries/t/a`);
    expect(answer).toMatchObject({ status: 200, body: { at: 't/a' } });
  });
});

describe('error answers of the secret reads', () => {
  const secretPath = `/v1/tenants/${TENANT}/secrets/db/password`;

  it.each([
    ['an unknown tenant', '/v1/tenants/other/secrets/db/password', {}, 404, 'not_found'],
    ['a missing secret', `/v1/tenants/${TENANT}/secrets/db/none`, {}, 404, 'not_found'],
    ['a config entry', `/v1/tenants/${TENANT}/secrets/t/a`, {}, 409, 'conflict'],
    ['a bad key', `/v1/tenants/${TENANT}/secrets/a~b`, {}, 400, 'bad_key'],
    ['a bad version', `${secretPath}?version=oldest`, {}, 400, 'bad_request'],
    ['reveal without the token', `${secretPath}?reveal=true`, {}, 401, 'unauthorized'],
    [
      'reveal with a wrong token',
      `${secretPath}?reveal=true`,
      { authorization: 'Bearer wrong' },
      401,
      'unauthorized',
    ],
  ])(
    'answers %s with the error code and a request id',
    async (_what, path, headers, status, code) => {
      const response = await fetch(`${agent.url}${path}`, { headers });
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({
        error: { code, message: expect.any(String), requestId: expect.any(String) },
      });
    },
  );

  it("echoes the caller's X-Request-Id in a secret error", async () => {
    const response = await fetch(`${agent.url}${secretPath}?reveal=true`, {
      headers: { 'x-request-id': 'trace-42' },
    });
    expect(await response.json()).toMatchObject({ error: { requestId: 'trace-42' } });
  });
});

describe('the reveal parameter of secret reads', () => {
  const secretPath = `/v1/tenants/${TENANT}/secrets/db/password`;
  const withToken = { authorization: `Bearer ${SECRET_TOKEN}` };

  it.each(['true', '1'])('reveals the plaintext with reveal=%s', async (flag) => {
    const response = await fetch(`${agent.url}${secretPath}?reveal=${flag}`, {
      headers: withToken,
    });
    expect(await response.json()).toMatchObject({ value: 'pw-1' });
  });

  it.each(['false', '0'])('answers metadata only with reveal=%s', async (flag) => {
    const response = await fetch(`${agent.url}${secretPath}?reveal=${flag}`, {
      headers: withToken,
    });
    expect(response.status).toBe(200);
    expect(await response.text()).not.toContain('pw-1');
  });

  it.each(['yes', 'TRUE', ''])('refuses reveal=%j with 400 bad_request', async (flag) => {
    const response = await fetch(`${agent.url}${secretPath}?reveal=${flag}`, {
      headers: withToken,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { code: 'bad_request', requestId: expect.any(String) },
    });
  });
});

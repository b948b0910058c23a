import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { filesUnder, findLeaks } from '../support/secret-scan.ts';

// End to end with real processes: an origin, an agent of tenant acme with a local secret token,
// and an agent of tenant globex. Secrets are written at the origin and read at the agents.

const SECRET_TOKEN = 'local-secret-token-for-tests-0001';
const PLAINTEXT = 'pg-password-7c1e5d93a0b2-never-on-disk';
const OTHER_PLAINTEXT = 'globex-api-key-21d8f0e6b5a4-never-on-disk';

let origin: OriginProcess;
let acmeAgent: AgentProcess;
let globexAgent: AgentProcess;
let api: ReturnType<typeof originApi>;
let acmeToken: string;
let globexToken: string;

async function agentToken(tenants: string[]): Promise<{ id: string; token: string }> {
  const created = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants } });
  expect(created.status).toBe(201);
  return created.body as { id: string; token: string };
}

async function readAtAgent(agent: AgentProcess, path: string, token?: string) {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const response = await fetch(`${agent.url}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: safeJson(text) };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  origin = await startOriginProcess();
  api = originApi(origin);
  await api('PUT', '/v1/tenants/acme/secrets/db/password', { body: { value: PLAINTEXT } });
  await api('PUT', '/v1/tenants/acme/entries/app/config', { body: { pool: 5 } });
  await api('PUT', '/v1/tenants/globex/secrets/llm/key', { body: { value: OTHER_PLAINTEXT } });
  acmeToken = (await agentToken(['acme'])).token;
  globexToken = (await agentToken(['globex'])).token;

  acmeAgent = await startAgentProcess({
    origin: origin.url,
    token: acmeToken,
    tenants: ['acme'],
    env: { LCM_AGENT_SECRET_TOKEN: SECRET_TOKEN },
  });
  globexAgent = await startAgentProcess({
    origin: origin.url,
    token: globexToken,
    tenants: ['globex'],
    env: { LCM_AGENT_SECRET_TOKEN: SECRET_TOKEN },
  });
});

afterAll(async () => {
  await acmeAgent?.dispose();
  await globexAgent?.dispose();
  await origin?.dispose();
});

describe('secrets at the edge', () => {
  it('reads a secret written at the origin in plaintext with the local secret token', async () => {
    await expect
      .poll(
        async () =>
          (
            await readAtAgent(
              acmeAgent,
              '/v1/tenants/acme/secrets/db/password?reveal=true',
              SECRET_TOKEN,
            )
          ).body,
        { timeout: 15_000, interval: 100 },
      )
      .toMatchObject({ value: PLAINTEXT, version: 1 });

    const answer = await readAtAgent(
      acmeAgent,
      '/v1/tenants/acme/secrets/db/password?reveal=true',
      SECRET_TOKEN,
    );
    expect(answer.headers.get('x-config-revision')).toMatch(/^\d+$/);
    expect(answer.headers.get('x-config-staleness-ms')).toMatch(/^\d+$/);
    expect(answer.headers.get('etag')).toMatch(/^"\d+"$/);
    expect(acmeAgent.logs.join('\n')).toContain('data keys received');
  });

  it('answers metadata only without the token, and refuses a wrong token', async () => {
    const metadata = await readAtAgent(acmeAgent, '/v1/tenants/acme/secrets/db/password');
    expect(metadata.status).toBe(200);
    expect(metadata.body).toMatchObject({ key: 'db/password', version: 1, dekVersion: 1 });
    expect(metadata.text).not.toContain(PLAINTEXT);

    const noToken = await readAtAgent(
      acmeAgent,
      '/v1/tenants/acme/secrets/db/password?reveal=true',
    );
    expect(noToken.status).toBe(401);
    const wrong = await readAtAgent(
      acmeAgent,
      '/v1/tenants/acme/secrets/db/password?reveal=true',
      `${SECRET_TOKEN}x`,
    );
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain(PLAINTEXT);

    const config = await readAtAgent(acmeAgent, '/v1/tenants/acme/entries/app/config');
    expect(config.body).toEqual({ pool: 5 });
  });

  it('gives an agent of another tenant nothing of it', async () => {
    await expect
      .poll(
        async () =>
          (
            await readAtAgent(
              globexAgent,
              '/v1/tenants/globex/secrets/llm/key?reveal=true',
              SECRET_TOKEN,
            )
          ).body,
        { timeout: 15_000, interval: 100 },
      )
      .toMatchObject({ value: OTHER_PLAINTEXT });

    const acmeAtGlobex = await readAtAgent(
      globexAgent,
      '/v1/tenants/acme/secrets/db/password?reveal=true',
      SECRET_TOKEN,
    );
    expect(acmeAtGlobex.status).toBe(404);
    expect(findLeaks([PLAINTEXT], {}, filesUnder(globexAgent.dataDir))).toEqual([]);
    const sawAcme = globexAgent.logs.join('\n');
    expect(sawAcme).not.toContain('db/password');
  });

  it('refuses an agent asking for a tenant outside its token: neither entries nor keys', async () => {
    const intruder = await startAgentProcess({
      origin: origin.url,
      token: globexToken,
      tenants: ['acme'],
      env: { LCM_AGENT_SECRET_TOKEN: SECRET_TOKEN },
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const read = await readAtAgent(
        intruder,
        '/v1/tenants/acme/secrets/db/password?reveal=true',
        SECRET_TOKEN,
      );
      expect(read.status).toBe(503);
      expect(read.text).not.toContain(PLAINTEXT);
      expect(findLeaks([PLAINTEXT], {}, filesUnder(intruder.dataDir))).toEqual([]);
      const keysFile = filesUnder(intruder.dataDir).filter((f) => f.endsWith('data-keys.json'));
      expect(keysFile).toEqual([]);
    } finally {
      await intruder.dispose();
    }
  });

  it('keeps only ciphertext in both libSQL files and out of every log', async () => {
    const files = [...filesUnder(origin.dataDir), ...filesUnder(acmeAgent.dataDir)];
    expect(files.some((file) => /\.db$/.test(file) || file.includes('replica'))).toBe(true);
    const logs = {
      origin: origin.logs.join('\n'),
      acmeAgent: acmeAgent.logs.join('\n'),
      globexAgent: globexAgent.logs.join('\n'),
    };
    expect(findLeaks([PLAINTEXT, OTHER_PLAINTEXT, SECRET_TOKEN], logs, files)).toEqual([]);
  });

  it('sends a new data key version to the agent before the secrets sealed under it', async () => {
    const rotate = await api('POST', '/v1/tenants/acme/keys/rotate');
    expect(rotate.status).toBe(202);
    await api('PUT', '/v1/tenants/acme/secrets/db/password', { body: { value: `${PLAINTEXT}-2` } });

    await expect
      .poll(
        async () =>
          (
            await readAtAgent(
              acmeAgent,
              '/v1/tenants/acme/secrets/db/password?reveal=true',
              SECRET_TOKEN,
            )
          ).body,
        { timeout: 15_000, interval: 100 },
      )
      .toMatchObject({ value: `${PLAINTEXT}-2`, dekVersion: 2 });
  });

  it('opens secrets after a restart while the origin is down', async () => {
    await origin.stop();
    await acmeAgent.restart();
    const answer = await readAtAgent(
      acmeAgent,
      '/v1/tenants/acme/secrets/db/password?reveal=true',
      SECRET_TOKEN,
    );
    expect(answer.body).toMatchObject({ value: `${PLAINTEXT}-2` });
    await origin.restart();
  });
});

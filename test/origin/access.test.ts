import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

let origin: OriginProcess;
let api: ReturnType<typeof originApi>;

beforeAll(async () => {
  origin = await startOriginProcess();
  api = originApi(origin);
  for (const tenant of ['red', 'blue']) {
    await api('PUT', `/v1/tenants/${tenant}`);
    await api('PUT', `/v1/tenants/${tenant}/entries/app/config`, { body: { tenant } });
    await api('PUT', `/v1/tenants/${tenant}/entries/infra/db`, { body: { tenant } });
  }
});
afterAll(() => origin?.dispose());

async function newToken(scope: Record<string, unknown>) {
  const response = await api('POST', '/v1/tokens', { body: scope });
  expect(response.status).toBe(201);
  return response.body as { id: string; token: string };
}

describe('the admin token', () => {
  it('is written to DATA/admin.token with mode 0600, and its path is logged, not its text', () => {
    const path = join(origin.dataDir, 'admin.token');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const record = origin.logRecords().find((line) => line.msg === 'admin token created');
    expect(record?.path).toBe(path);
    expect(origin.logs.join('\n')).not.toContain(origin.adminToken);
  });

  it('comes from LCM_ADMIN_TOKEN when it is set, and no file is written', async () => {
    const adminToken = 'a-very-secret-admin-token-from-env';
    const other = await startOriginProcess({ env: { LCM_ADMIN_TOKEN: adminToken } });
    try {
      const otherApi = originApi(other);
      expect((await otherApi('GET', '/v1/tenants')).status).toBe(200);
      expect(() => statSync(join(other.dataDir, 'admin.token'))).toThrow();
      expect(other.logs.join('\n')).not.toContain(adminToken);
    } finally {
      await other.dispose();
    }
  });
});

describe('authentication', () => {
  it('denies a request without a token, with a malformed header, or an unknown token (401)', async () => {
    expect(errorCode(await api('GET', '/v1/tenants', { token: null }))).toBe('unauthorized');
    const basic = await api('GET', '/v1/tenants', {
      token: null,
      headers: { authorization: 'Basic abc' },
    });
    expect(basic.status).toBe(401);
    const forged = await api('GET', '/v1/tenants', {
      token: `lcm_0123456789abcdef_${'A'.repeat(43)}`,
    });
    expect(forged.status).toBe(401);
    expect((await api('GET', '/v1/tenants', { token: 'guess' })).status).toBe(401);
  });
});

describe('tokens', () => {
  it('creates a token shown once, lists it without its text, and revokes it at once', async () => {
    const { id, token } = await newToken({ role: 'reader', tenants: ['red'] });
    expect(token).toMatch(/^lcm_[0-9a-f]{16}_/);
    expect((await api('GET', '/v1/tenants/red/entries/app/config', { token })).status).toBe(200);

    const list = await api('GET', '/v1/tokens');
    expect(list.text).not.toContain(token);
    const listed = (list.body as Array<Record<string, unknown>>).find((t) => t.id === id);
    expect(listed).toMatchObject({ id, role: 'reader', tenants: ['red'], reveal: false });

    expect((await api('DELETE', `/v1/tokens/${id}`)).status).toBe(200);
    const after = await api('GET', '/v1/tenants/red/entries/app/config', { token });
    expect(after.status).toBe(401);
    expect((await api('DELETE', `/v1/tokens/${id}`)).status).toBe(404);
  });

  it('lets only admins manage tokens (403)', async () => {
    const { token } = await newToken({ role: 'writer', tenants: ['*'] });
    const response = await api('POST', '/v1/tokens', {
      token,
      body: { role: 'admin', tenants: ['*'] },
    });
    expect(response.status).toBe(403);
    expect(errorCode(response)).toBe('forbidden');
    expect((await api('GET', '/v1/tokens', { token })).status).toBe(403);
  });

  it('refuses a token body with an unknown role or a bad tenant', async () => {
    const role = await api('POST', '/v1/tokens', { body: { role: 'root', tenants: ['red'] } });
    expect(errorCode(role)).toBe('bad_request');
    const tenant = await api('POST', '/v1/tokens', { body: { role: 'reader', tenants: ['Red!'] } });
    expect(errorCode(tenant)).toBe('bad_tenant');
  });

  it('gives admins the reveal permission and others only when asked', async () => {
    await newToken({ role: 'reader', tenants: ['red'], reveal: true });
    const list = (await api('GET', '/v1/tokens')).body as Array<Record<string, unknown>>;
    expect(list.filter((t) => t.role === 'admin').every((t) => t.reveal === true)).toBe(true);
    expect(list.some((t) => t.role === 'reader' && t.reveal === true)).toBe(true);
  });
});

describe('scopes', () => {
  it('hides other tenants: 404, not 403, and absent from the tenant list', async () => {
    const { token } = await newToken({ role: 'writer', tenants: ['red'] });
    const blue = await api('GET', '/v1/tenants/blue/entries/app/config', { token });
    expect(blue.status).toBe(404);
    expect(errorCode(blue)).toBe('not_found');
    expect((await api('PUT', '/v1/tenants/blue/entries/x', { token, body: 1 })).status).toBe(404);
    expect((await api('GET', '/v1/tenants/blue/history/app/config', { token })).status).toBe(404);
    expect((await api('GET', '/v1/tenants/blue/changes', { token })).status).toBe(404);
    expect((await api('PUT', '/v1/tenants/blue', { token })).status).toBe(404);

    const missing = await api('GET', '/v1/tenants/nowhere/entries/app/config', { token });
    const message = (response: typeof blue) =>
      (response.body as { error: { message: string } }).error.message;
    expect(message(missing)).toBe(message(blue));

    const tenants = (await api('GET', '/v1/tenants', { token })).body as Array<{ id: string }>;
    expect(tenants.map((t) => t.id)).toEqual(['red']);
  });

  it('lets readers read but not write (403 inside their scope)', async () => {
    const { token } = await newToken({ role: 'reader', tenants: ['red'] });
    expect((await api('GET', '/v1/tenants/red/entries/app/config', { token })).status).toBe(200);
    const write = await api('PUT', '/v1/tenants/red/entries/app/config', { token, body: 1 });
    expect(write.status).toBe(403);
    expect(errorCode(write)).toBe('forbidden');
    expect((await api('GET', '/v1/tenants/red/entries/app/config')).body).toEqual({
      tenant: 'red',
    });
  });

  it('limits a token with prefixes to those keys, hiding the others', async () => {
    const { token } = await newToken({ role: 'writer', tenants: ['red'], prefixes: ['app/'] });
    expect((await api('GET', '/v1/tenants/red/entries/app/config', { token })).status).toBe(200);
    expect((await api('GET', '/v1/tenants/red/entries/infra/db', { token })).status).toBe(404);
    expect((await api('PUT', '/v1/tenants/red/entries/infra/x', { token, body: 1 })).status).toBe(
      404,
    );
    const commit = await api('POST', '/v1/tenants/red/commits', {
      token,
      body: {
        changes: [
          { op: 'put', key: 'app/new', value: 1 },
          { op: 'put', key: 'infra/new', value: 1 },
        ],
      },
    });
    expect(commit.status).toBe(404);
    expect((await api('GET', '/v1/tenants/red/entries/app/new')).status).toBe(404);

    const list = await api('GET', '/v1/tenants/red/entries', { token });
    const keys = (list.body as { items: Array<{ key: string }> }).items.map((item) => item.key);
    expect(keys).toEqual(['app/config']);
  });

  it('records the token id of the writer as the actor of each commit', async () => {
    const { id, token } = await newToken({ role: 'writer', tenants: ['red'] });
    await api('PUT', '/v1/tenants/red/entries/app/actor', { token, body: 1 });
    const history = await api('GET', '/v1/tenants/red/history/app/actor');
    expect((history.body as Array<{ actor: string }>)[0]?.actor).toBe(id);

    const changes = await api('GET', '/v1/tenants/red/changes?after=0&limit=1000');
    const records = (changes.body as { changes: Array<{ key: string; actor: string }> }).changes;
    expect(records.find((record) => record.key === 'app/actor')?.actor).toBe(id);
  });

  it('lets only admins list agents', async () => {
    expect((await api('GET', '/v1/agents')).status).toBe(200);
    expect(Array.isArray((await api('GET', '/v1/agents')).body)).toBe(true);
    const { token } = await newToken({ role: 'agent', tenants: ['red'] });
    expect((await api('GET', '/v1/agents', { token })).status).toBe(403);
  });

  it('names the role with the right article when it refuses a write', async () => {
    const message = async (role: string) => {
      const { token } = await newToken({ role, tenants: ['red'] });
      const write = await api('PUT', '/v1/tenants/red/entries/app/config', { token, body: 1 });
      expect(errorCode(write)).toBe('forbidden');
      return (write.body as { error: { message: string } }).error.message;
    };
    expect(await message('agent')).toBe('an agent token may not write');
    expect(await message('reader')).toBe('a reader token may not write');
  });
});

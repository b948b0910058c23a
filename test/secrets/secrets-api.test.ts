import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

const SECRET = 'sk-live-4f1c9a7e2b8d-do-not-leak';

let origin: OriginProcess;
let api: ReturnType<typeof originApi>;

async function token(scope: Record<string, unknown>): Promise<string> {
  const created = await api('POST', '/v1/tokens', { body: scope });
  expect(created.status).toBe(201);
  return (created.body as { token: string }).token;
}

beforeAll(async () => {
  origin = await startOriginProcess({ env: { LCM_SECRET_SWEEP_MS: '100' } });
  api = originApi(origin);
});

afterAll(async () => {
  await origin?.dispose();
});

describe('secrets API at the origin', () => {
  it('writes a secret and answers metadata without the value', async () => {
    const put = await api('PUT', '/v1/tenants/acme/secrets/llm/openai', {
      body: { value: { apiKey: SECRET } },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ key: 'llm/openai', version: 1 });

    const get = await api('GET', '/v1/tenants/acme/secrets/llm/openai');
    expect(get.status).toBe(200);
    expect(get.body).toMatchObject({
      key: 'llm/openai',
      version: 1,
      dekVersion: 1,
      revision: (put.body as { revision: number }).revision,
      rotatesAt: null,
    });
    expect(get.text).not.toContain(SECRET);
    expect(get.headers.get('x-config-revision')).not.toBeNull();
  });

  it('reveals the plaintext only with reveal=true and a token allowed to reveal', async () => {
    await api('PUT', '/v1/tenants/acme/secrets/db/password', { body: { value: SECRET } });
    const reader = await token({ role: 'reader', tenants: ['acme'] });
    const revealer = await token({ role: 'reader', tenants: ['acme'], reveal: true });

    const admin = await api('GET', '/v1/tenants/acme/secrets/db/password?reveal=true');
    expect(admin.body).toMatchObject({ value: SECRET, version: 1 });

    const refused = await api('GET', '/v1/tenants/acme/secrets/db/password?reveal=true', {
      token: reader,
    });
    expect(refused.status).toBe(403);
    expect(errorCode(refused)).toBe('forbidden');
    expect(refused.text).not.toContain(SECRET);

    const allowed = await api('GET', '/v1/tenants/acme/secrets/db/password?reveal=true', {
      token: revealer,
    });
    expect((allowed.body as { value: string }).value).toBe(SECRET);
  });

  it('reads reveal=1 as reveal, reveal=0 or false as metadata, and refuses reveal=yes (400)', async () => {
    await api('PUT', '/v1/tenants/acme/secrets/db/password', { body: { value: SECRET } });
    const path = '/v1/tenants/acme/secrets/db/password';

    expect((await api('GET', `${path}?reveal=1`)).body).toMatchObject({ value: SECRET });
    for (const no of ['0', 'false']) {
      const metadata = await api('GET', `${path}?reveal=${no}`);
      expect(metadata.status).toBe(200);
      expect(metadata.text).not.toContain(SECRET);
    }
    for (const unclear of ['yes', 'TRUE', '']) {
      const refused = await api('GET', `${path}?reveal=${unclear}`);
      expect(refused.status, unclear).toBe(400);
      expect(errorCode(refused)).toBe('bad_request');
      expect(refused.text).not.toContain(SECRET);
    }
  });

  it('keeps a token of another tenant from learning anything', async () => {
    const other = await token({ role: 'admin', tenants: ['globex'] });
    const answer = await api('GET', '/v1/tenants/acme/secrets/db/password?reveal=true', {
      token: other,
    });
    expect(answer.status).toBe(404);
    expect(answer.text).not.toContain(SECRET);
  });

  it('does not serve a secret through the config entries API, nor its plaintext in history or diff', async () => {
    const first = await api('PUT', '/v1/tenants/acme/secrets/hist/key', {
      body: { value: `${SECRET}-1` },
    });
    const second = await api('PUT', '/v1/tenants/acme/secrets/hist/key', {
      body: { value: `${SECRET}-2` },
    });
    const from = (first.body as { revision: number }).revision;
    const to = (second.body as { revision: number }).revision;

    const asConfig = await api('GET', '/v1/tenants/acme/entries/hist/key');
    expect(asConfig.status).toBe(409);
    const history = await api('GET', '/v1/tenants/acme/history/hist/key');
    expect(history.status).toBe(200);
    expect(history.text).not.toContain(SECRET);
    const diff = await api('GET', `/v1/tenants/acme/diff/hist/key?from=${from}&to=${to}`);
    // The store diffs configs only; a secret's diff is refused, and never shows its value.
    expect([200, 409]).toContain(diff.status);
    expect(diff.text).not.toContain(SECRET);
  });

  it('rotates a value with an overlap: both readable, previous on ?version=previous', async () => {
    await api('PUT', '/v1/tenants/acme/secrets/rot/token', { body: { value: 'old-token-value' } });
    const rotated = await api('PUT', '/v1/tenants/acme/secrets/rot/token', {
      body: { value: 'new-token-value', rotate: { overlapSeconds: 3600 } },
    });
    expect(rotated.body).toMatchObject({ version: 2 });

    const current = await api('GET', '/v1/tenants/acme/secrets/rot/token?reveal=true');
    const previous = await api(
      'GET',
      '/v1/tenants/acme/secrets/rot/token?reveal=true&version=previous',
    );
    expect(current.body).toMatchObject({ value: 'new-token-value', version: 2 });
    expect(previous.body).toMatchObject({ value: 'old-token-value', revealedVersion: 1 });
    expect((current.body as { previous: { version: number } }).previous.version).toBe(1);
    expect((current.body as { laggingAgents: string[] }).laggingAgents).toEqual([]);
  });

  it('ends an overlap once its time is over and no agent lags', async () => {
    await api('PUT', '/v1/tenants/acme/secrets/rot/short', { body: { value: 'a-1' } });
    await api('PUT', '/v1/tenants/acme/secrets/rot/short', {
      body: { value: 'a-2', rotate: { overlapSeconds: 1 } },
    });

    await expect
      .poll(async () => (await api('GET', '/v1/tenants/acme/secrets/rot/short')).body, {
        timeout: 5000,
        interval: 100,
      })
      .toMatchObject({ previous: null, version: 2 });
    const previous = await api(
      'GET',
      '/v1/tenants/acme/secrets/rot/short?reveal=true&version=previous',
    );
    expect(previous.status).toBe(404);
  });

  it('rotates on a schedule with random tokens', async () => {
    const put = await api('PUT', '/v1/tenants/acme/secrets/sched/token', {
      body: {
        value: 'first',
        rotation: { everySeconds: 1, generator: 'random-token', overlapSeconds: 60 },
      },
    });
    expect(put.status).toBe(200);

    await expect
      .poll(async () => (await api('GET', '/v1/tenants/acme/secrets/sched/token')).body, {
        timeout: 5000,
        interval: 100,
      })
      .toMatchObject({ version: 2, previous: { version: 1 } });
    const revealed = await api('GET', '/v1/tenants/acme/secrets/sched/token?reveal=true');
    expect((revealed.body as { value: string }).value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('rotates the data key: new writes use the new version and old secrets are re-sealed', async () => {
    await api('PUT', '/v1/tenants/dek/secrets/a', { body: { value: 'value-a' } });
    await api('PUT', '/v1/tenants/dek/secrets/b', { body: { value: 'value-b' } });

    const rotate = await api('POST', '/v1/tenants/dek/keys/rotate');
    expect(rotate.status).toBe(202);
    expect(rotate.body).toMatchObject({ targetVersion: 2, total: 2 });

    await expect
      .poll(async () => (await api('GET', '/v1/tenants/dek/keys')).body, { timeout: 5000 })
      .toMatchObject({ rotation: { state: 'done', done: 2 } });
    const keys = (await api('GET', '/v1/tenants/dek/keys')).body as {
      versions: Array<{ version: number; state: string }>;
    };
    expect(keys.versions.map((v) => [v.version, v.state])).toEqual([
      [2, 'active'],
      [1, 'retired'],
    ]);
    const a = await api('GET', '/v1/tenants/dek/secrets/a?reveal=true');
    expect(a.body).toMatchObject({ value: 'value-a', dekVersion: 2, version: 1 });
  });

  it('rewraps every data key under the current key-encryption key', async () => {
    const rewrap = await api('POST', '/v1/keys/rewrap');
    expect(rewrap.status).toBe(200);
    expect((rewrap.body as { rewrapped: number }).rewrapped).toBeGreaterThanOrEqual(2);
    const a = await api('GET', '/v1/tenants/dek/secrets/a?reveal=true');
    expect((a.body as { value: string }).value).toBe('value-a');
  });

  it('refuses bad bodies with clear codes and no echo of the value', async () => {
    const extra = await api('PUT', '/v1/tenants/acme/secrets/bad', {
      body: { value: SECRET, unknown: true },
    });
    expect(extra.status).toBe(400);
    expect(extra.text).not.toContain(SECRET);
    const noValue = await api('PUT', '/v1/tenants/acme/secrets/bad', { body: {} });
    expect(noValue.status).toBe(400);
    const broken = await api('PUT', '/v1/tenants/acme/secrets/bad', {
      raw: `{"value": "${SECRET}"`,
    });
    expect(errorCode(broken)).toBe('bad_json');
    expect(broken.text).not.toContain(SECRET);
    const onConfig = await api('PUT', '/v1/tenants/acme/entries/plain', { body: { a: 1 } });
    expect(onConfig.status).toBe(200);
    const conflict = await api('PUT', '/v1/tenants/acme/secrets/plain', { body: { value: 1 } });
    expect(errorCode(conflict)).toBe('conflict');
  });

  it('created DATA/master.key with mode 0600 and keeps it out of the logs', async () => {
    const path = join(origin.dataDir, 'master.key');
    const masterKey = readFileSync(path, 'utf8').trim();
    expect(masterKey).toHaveLength(44);
    expect(origin.logs.join('\n')).not.toContain(masterKey);
    expect(origin.logs.join('\n')).not.toContain(SECRET);
  });
});

describe('secrets in multi-key commits', () => {
  it('seals a secret and writes a config in one commit, at one revision', async () => {
    const commit = await api('POST', '/v1/tenants/mixed/commits', {
      body: {
        changes: [
          { op: 'put', key: 'app/settings', value: { model: 'gpt-x', timeoutMs: 3000 } },
          { op: 'put', key: 'app/api-key', kind: 'secret', value: SECRET },
        ],
      },
    });
    expect(commit.status).toBe(200);
    const revision = (commit.body as { revision: number }).revision;
    expect(commit.text).not.toContain(SECRET);

    const secret = await api('GET', '/v1/tenants/mixed/secrets/app/api-key?reveal=true');
    expect(secret.body).toMatchObject({ value: SECRET, revision, version: 1 });
    const config = await api('GET', '/v1/tenants/mixed/entries/app/settings');
    expect(config.headers.get('etag')).toBe(`"${revision}"`);

    const second = await api('POST', '/v1/tenants/mixed/commits', {
      body: {
        changes: [{ op: 'put', key: 'app/api-key', kind: 'secret', value: `${SECRET}-2` }],
        expect: { 'app/api-key': revision },
      },
    });
    expect(second.status).toBe(200);
    const stale = await api('POST', '/v1/tenants/mixed/commits', {
      body: {
        changes: [{ op: 'put', key: 'app/api-key', kind: 'secret', value: `${SECRET}-3` }],
        expect: { 'app/api-key': revision },
      },
    });
    expect(errorCode(stale)).toBe('revision_mismatch');
    const latest = await api('GET', '/v1/tenants/mixed/secrets/app/api-key?reveal=true');
    expect(latest.body).toMatchObject({ value: `${SECRET}-2`, version: 2 });
  });
});

describe('secret history, rollback and snapshots', () => {
  it('restores an earlier value as a new version and reads a snapshot', async () => {
    const first = await api('PUT', '/v1/tenants/hist/secrets/svc/token', {
      body: { value: 'token-one' },
    });
    const firstRevision = (first.body as { revision: number }).revision;
    const snapshot = await api('POST', '/v1/tenants/hist/snapshots', {
      body: { name: 'before-change' },
    });
    expect(snapshot.status).toBeLessThan(300);
    await api('PUT', '/v1/tenants/hist/secrets/svc/token', { body: { value: 'token-two' } });

    const restored = await api('POST', '/v1/tenants/hist/rollback/svc/token', {
      body: { revision: firstRevision },
    });
    expect(restored.status).toBe(200);
    expect(restored.body).toMatchObject({ version: 3 });
    expect(restored.text).not.toContain('token-one');

    const current = await api('GET', '/v1/tenants/hist/secrets/svc/token?reveal=true');
    expect(current.body).toMatchObject({ value: 'token-one', version: 3 });
    const atSnapshot = await api(
      'GET',
      '/v1/tenants/hist/secrets/svc/token?reveal=true&snapshot=before-change',
    );
    expect(atSnapshot.body).toMatchObject({ value: 'token-one', version: 1 });
    const history = await api('GET', '/v1/tenants/hist/history/svc/token');
    expect((history.body as unknown[]).length).toBe(3);
    expect(history.text).not.toMatch(/token-(one|two)/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { makeTempDir } from '../support/temp-dir.ts';
import { runLcm } from './run-lcm.ts';

const TENANT = 'team-a';
const KEY = 'routers/prod/default';

let origin: OriginProcess;

function lcm(args: string[], input?: string) {
  return runLcm(args, { env: { LCM_ORIGIN: origin.url, LCM_TOKEN: origin.adminToken }, input });
}

beforeAll(async () => {
  origin = await startOriginProcess();
});

afterAll(async () => {
  await origin?.dispose();
});

describe('lcm entry commands against a real origin', () => {
  it('creates a tenant, writes from an argument and stdin, patches, lists and reads back', async () => {
    expect((await lcm(['tenant', 'create', TENANT])).stdout).toContain(`created tenant ${TENANT}`);

    const put = await lcm(['put', '--tenant', TENANT, KEY, '{"model":"llama-3.1-8b","weight":80}']);
    expect(put.stdout.trim()).toBe(`wrote ${TENANT}/${KEY} at revision 1`);

    const fromStdin = await lcm(['put', '--tenant', TENANT, 'plugins', '--json'], '["cache"]');
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ key: 'plugins', revision: 2 });

    // A value that is a JSON string travels as JSON text, quotes and all.
    await lcm(['put', '--tenant', TENANT, 'banner', '"maintenance at 02:00"']);
    const banner = await lcm(['get', '--tenant', TENANT, 'banner']);
    expect(banner.stdout.trim()).toBe('"maintenance at 02:00"');

    const merge = await lcm(['patch', '--tenant', TENANT, KEY, '{"weight":90}']);
    expect(merge.stdout).toContain('revision 4');
    const jsonPatch = await lcm([
      'patch',
      '--tenant',
      TENANT,
      KEY,
      '[{"op":"add","path":"/fallback","value":"gpt-4o-mini"}]',
    ]);
    expect(jsonPatch.stdout).toContain('revision 5');

    const read = await lcm(['get', '--tenant', TENANT, KEY]);
    expect(JSON.parse(read.stdout)).toEqual({
      model: 'llama-3.1-8b',
      weight: 90,
      fallback: 'gpt-4o-mini',
    });

    const listing = await lcm(['ls', '--tenant', TENANT, '--prefix', 'routers/', '--json']);
    expect(JSON.parse(listing.stdout).items).toEqual([
      expect.objectContaining({ key: KEY, revision: 5 }),
    ]);
  });

  it('shows history, a diff between revisions, and rolls back as a new revision', async () => {
    const history = JSON.parse((await lcm(['history', '--tenant', TENANT, KEY, '--json'])).stdout);
    expect(history.history.map((record: { revision: number }) => record.revision)).toEqual([
      5, 4, 1,
    ]);

    const diff = await lcm(['diff', '--tenant', TENANT, KEY, '--from', '1', '--to', '4']);
    expect(diff.stdout).toContain('revision 1 -> 4');
    expect(diff.stdout).toContain('~ /weight: 80 -> 90');

    const latest = await lcm(['diff', '--tenant', TENANT, KEY, '--json']);
    expect(JSON.parse(latest.stdout)).toMatchObject({
      from: 4,
      to: 5,
      patch: [{ op: 'add', path: '/fallback', value: 'gpt-4o-mini' }],
    });

    const rollback = await lcm(['rollback', '--tenant', TENANT, KEY, '--to', '1']);
    expect(rollback.stdout).toContain('as revision 6');
    const read = await lcm(['get', '--tenant', TENANT, KEY]);
    expect(JSON.parse(read.stdout)).toEqual({ model: 'llama-3.1-8b', weight: 80 });

    const snapshot = await lcm(['snapshot', 'create', '--tenant', TENANT, 'before-canary']);
    expect(snapshot.stdout).toContain('names revision 6');
    const atSnapshot = await lcm(['get', '--tenant', TENANT, KEY, '--snapshot', 'before-canary']);
    expect(JSON.parse(atSnapshot.stdout)).toEqual({ model: 'llama-3.1-8b', weight: 80 });
  });

  it('tells failures apart by exit code', async () => {
    const usage = await lcm(['get', KEY]);
    expect(usage.code).toBe(2);

    const badJson = await lcm(['put', '--tenant', TENANT, 'x', '{"a": }']);
    expect(badJson.code).toBe(3);
    expect(badJson.stderr).toContain('the value:1:7');

    const badKey = await lcm(['get', '--tenant', TENANT, '../etc']);
    expect(badKey.code).toBe(3);

    const missing = await lcm(['get', '--tenant', TENANT, 'no/such/key']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('[not_found]');

    const stale = await lcm(['put', '--tenant', TENANT, KEY, '{}', '--if-revision', '1']);
    expect(stale.code).toBe(5);
    expect(stale.stderr).toContain('[revision_mismatch]');

    const wrongToken = await runLcm(['ls', '--tenant', TENANT], {
      env: { LCM_ORIGIN: origin.url, LCM_TOKEN: 'lcm_wrong' },
    });
    expect(wrongToken.code).toBe(6);

    const nowhere = await runLcm(['ls', '--tenant', TENANT, '--json'], {
      env: { LCM_ORIGIN: 'http://127.0.0.1:9', LCM_TOKEN: 'x' },
    });
    expect(nowhere.code).toBe(7);
    expect(JSON.parse(nowhere.stderr).error).toMatchObject({ kind: 'server', exitCode: 7 });
  });

  it('finds no token outside a folder with data/admin.token, and says where to put one', async () => {
    const elsewhere = makeTempDir('lcm-no-token');
    try {
      const run = await runLcm(['ls', '--tenant', TENANT], {
        env: { LCM_ORIGIN: origin.url },
        cwd: elsewhere.path,
      });
      expect(run.code).toBe(6);
      expect(run.stderr).toContain('LCM_TOKEN');
    } finally {
      elsewhere.remove();
    }
  });

  it('creates, lists and revokes tokens; a revoked token is refused', async () => {
    const created = JSON.parse(
      (await lcm(['token', 'create', '--role', 'reader', '--tenants', TENANT, '--json'])).stdout,
    );
    const asReader = (args: string[]) =>
      runLcm(args, { env: { LCM_ORIGIN: origin.url, LCM_TOKEN: created.token } });

    expect((await asReader(['get', '--tenant', TENANT, KEY])).code).toBe(0);
    expect((await asReader(['put', '--tenant', TENANT, KEY, '1'])).code).toBe(6);

    const listing = JSON.parse((await lcm(['token', 'ls', '--json'])).stdout);
    expect(listing.tokens.map((token: { id: string }) => token.id)).toContain(created.id);
    expect((await lcm(['token', 'revoke', created.id])).code).toBe(0);
    expect((await asReader(['get', '--tenant', TENANT, KEY])).code).toBe(6);
  });
});

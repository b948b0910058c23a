import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { runLcm } from './run-lcm.ts';

const TENANT = 'vault';
const EXIT_INVALID = 3;

let origin: OriginProcess;
let files: TempDir;

function lcm(args: string[], input?: string) {
  return runLcm(args, { env: { LCM_ORIGIN: origin.url, LCM_TOKEN: origin.adminToken }, input });
}

async function revealed(key: string): Promise<unknown> {
  const read = await lcm(['secret', 'get', '--tenant', TENANT, key, '--reveal']);
  expect(read.code, read.stderr).toBe(0);
  return JSON.parse(read.stdout);
}

beforeAll(async () => {
  origin = await startOriginProcess();
  files = makeTempDir('lcm-secret-cli');
  await lcm(['tenant', 'create', TENANT]);
});

afterAll(async () => {
  files?.remove();
  await origin?.dispose();
});

describe('lcm secret put', () => {
  it('stores a bare argument that is not JSON as a string', async () => {
    const put = await lcm(['secret', 'put', '--tenant', TENANT, 'api/key', 'sk-live-4f9a2b7c']);
    expect(put.code, put.stderr).toBe(0);
    expect(await revealed('api/key')).toBe('sk-live-4f9a2b7c');
  });

  it('stores a bare value from stdin or a file as a string without its last line break', async () => {
    const fromStdin = await lcm(['secret', 'put', '--tenant', TENANT, 'stdin/key'], 'tok-1\n');
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(await revealed('stdin/key')).toBe('tok-1');

    const path = join(files.path, 'token.txt');
    writeFileSync(path, 'tok-2\r\n');
    const fromFile = await lcm(['secret', 'put', '--tenant', TENANT, 'file/key', '--file', path]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(await revealed('file/key')).toBe('tok-2');
  });

  it('keeps JSON values as JSON: objects, numbers and quoted strings', async () => {
    await lcm(['secret', 'put', '--tenant', TENANT, 'json/object', '{"user":"u","pass":"p"}']);
    await lcm(['secret', 'put', '--tenant', TENANT, 'json/number', '42']);
    await lcm(['secret', 'put', '--tenant', TENANT, 'json/string', '"quoted"']);
    expect(await revealed('json/object')).toEqual({ user: 'u', pass: 'p' });
    expect(await revealed('json/number')).toBe(42);
    expect(await revealed('json/string')).toBe('quoted');
  });

  it('still refuses broken JSON that starts like an object, array or string (exit 3)', async () => {
    for (const broken of ['{"user": "u"', '[1, 2', '"unclosed']) {
      const put = await lcm(['secret', 'put', '--tenant', TENANT, 'json/broken', broken]);
      expect(put.code, broken).toBe(EXIT_INVALID);
      expect(put.stderr).toContain('bad_json');
    }
  });

  it('leaves plain put strict: a bare string is not JSON there', async () => {
    const put = await lcm(['put', '--tenant', TENANT, 'plain/key', 'sk-live-4f9a2b7c']);
    expect(put.code).toBe(EXIT_INVALID);
  });
});

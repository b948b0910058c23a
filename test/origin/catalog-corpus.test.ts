import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, contentHash, type JsonValue } from '../../core/index.ts';
import {
  CORPUS_SKIP_REASON,
  catalogVersionFiles,
  hasCatalog,
  releaseCatalog,
  unpackCatalog,
} from '../support/corpus.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';

/** Versions written in the regular suite; LCM_CORPUS_FULL=1 writes all 450. */
const SUITE_VERSIONS = 40;
const FULL = process.env.LCM_CORPUS_FULL === '1';
const KEY = '/v1/tenants/catalog/entries/litellm/model-prices';

const title = hasCatalog()
  ? `the model catalog history (${FULL ? 'all versions' : `${SUITE_VERSIONS} versions`})`
  : `the model catalog history (${CORPUS_SKIP_REASON})`;

describe.skipIf(!hasCatalog())(title, () => {
  let origin: OriginProcess;
  let api: ReturnType<typeof originApi>;
  let files: string[];

  beforeAll(async () => {
    const all = catalogVersionFiles(unpackCatalog());
    const step = Math.max(1, Math.floor(all.length / SUITE_VERSIONS));
    // Consecutive runs at the start keep small diffs in the sample, the stride reaches the end.
    files = FULL ? all : all.filter((_, index) => index < 10 || index % step === 0);
    files = files.slice(0, FULL ? all.length : SUITE_VERSIONS);
    origin = await startOriginProcess();
    api = originApi(origin);
    await api('PUT', '/v1/tenants/catalog');
  });
  afterAll(async () => {
    await origin?.dispose();
    releaseCatalog();
  });

  it('stores each version as an ordinary value and reads samples back exactly by revision', async () => {
    const started = performance.now();
    const hashes: string[] = [];
    for (const [index, file] of files.entries()) {
      const put = await api('PUT', KEY, { raw: readFileSync(file) });
      expect(put.status, file).toBe(200);
      const body = put.body as { revision: number; hash: string };
      expect(body.revision).toBe(index + 1);
      hashes.push(body.hash);
    }
    const writeMs = performance.now() - started;

    const database = join(origin.dataDir, 'origin.db');
    const bytes =
      statSync(database).size + (statSync(`${database}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    console.info(
      `catalog: ${files.length} versions written in ${Math.round(writeMs)} ms, database ${(bytes / 1e6).toFixed(1)} MB`,
    );

    const sample = [0, 1, 2, Math.floor(files.length / 2), files.length - 2, files.length - 1];
    for (const index of sample) {
      const file = files[index]!;
      const read = await api('GET', `${KEY}?revision=${index + 1}`);
      expect(read.status).toBe(200);
      const original = JSON.parse(readFileSync(file, 'utf8')) as JsonValue;
      expect(canonicalJson(read.body as JsonValue)).toBe(canonicalJson(original));
      expect(hashes[index]).toBe(await contentHash(original));
    }

    const history = (
      await api('GET', `/v1/tenants/catalog/history/litellm/model-prices?limit=1000`)
    ).body as Array<{ revision: number; size: number }>;
    expect(history).toHaveLength(files.length);
    expect(history[0]!.size).toBeGreaterThan(300_000);
  });

  it('keeps the change log small: diffs between versions, not whole values', async () => {
    const changes = await api('GET', '/v1/tenants/catalog/changes?after=1&limit=5');
    const records = (changes.body as { changes: Array<{ patch: unknown[] }> }).changes;
    expect(records.length).toBeGreaterThan(0);
    for (const record of records) {
      expect(JSON.stringify(record.patch).length).toBeLessThan(300_000);
    }
  });
});

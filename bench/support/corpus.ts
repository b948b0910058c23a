import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { SkipBenchmark } from '../context.ts';

const run = promisify(execFile);

/** The catalog history archive, relative to the corpus folder. */
const HISTORY_ARCHIVE = path.join('model-prices-history', 'versions.tar.xz');

/**
 * Unpacks the model catalog history into `targetDir` and returns the version files in order.
 * `limit` unpacks only the first versions (a quick run). Throws {@link SkipBenchmark} naming
 * the path when the corpus is absent (a clone without ../shared).
 */
export async function unpackCatalogHistory(
  corpusDir: string,
  targetDir: string,
  limit?: number,
): Promise<string[]> {
  const archive = path.join(corpusDir, HISTORY_ARCHIVE);
  if (!existsSync(archive)) {
    throw new SkipBenchmark(`the catalog history is absent: ${archive} does not exist`);
  }
  await mkdir(targetDir, { recursive: true });
  const names = limit
    ? Array.from({ length: limit }, (_, i) => `${String(i + 1).padStart(4, '0')}.json`)
    : [];
  await run('tar', ['-xJf', archive, '-C', targetDir, ...names], { timeout: 300_000 });
  const files = (await readdir(targetDir)).filter((name) => /^\d+\.json$/.test(name)).sort();
  return files.map((name) => path.join(targetDir, name));
}

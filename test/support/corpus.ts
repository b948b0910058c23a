import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, type TempDir } from './temp-dir.ts';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CATALOG_ARCHIVE = 'model-prices-history/versions.tar.xz';

/** Why corpus tests are skipped on this machine; put it in the test's name. */
export const CORPUS_SKIP_REASON =
  'skipped: ../shared/corpus is absent (it is not in the repository)';

/** Absolute path of `../shared/corpus` seen from the project root, or undefined when absent. */
export function corpusDir(): string | undefined {
  const path = resolve(PROJECT_ROOT, '../shared/corpus');
  return existsSync(path) ? path : undefined;
}

/** True when the model catalog history can be unpacked here. */
export function hasCatalog(): boolean {
  const corpus = corpusDir();
  return corpus !== undefined && existsSync(join(corpus, CATALOG_ARCHIVE));
}

let unpacked: TempDir | undefined;

/**
 * Unpacks the model catalog history (`0001.json` ... `0450.json`, about 250 MB) into a temporary
 * folder once per test process and returns the folder. Call {@link releaseCatalog} in `afterAll`:
 * vitest may end its workers without an exit event, so the exit hook is only a fallback. Throws,
 * with {@link CORPUS_SKIP_REASON}, when the corpus is absent: guard the test with
 * `describe.skipIf(!hasCatalog())`.
 */
export function unpackCatalog(): string {
  if (unpacked !== undefined) return unpacked.path;
  const corpus = corpusDir();
  if (corpus === undefined || !hasCatalog()) throw new Error(CORPUS_SKIP_REASON);

  const folder = makeTempDir('lcm-catalog');
  execFileSync('tar', ['-xJf', join(corpus, CATALOG_ARCHIVE), '-C', folder.path]);
  unpacked = folder;
  return folder.path;
}

/** Removes the unpacked catalog folder, if any; the next {@link unpackCatalog} unpacks again. */
export function releaseCatalog(): void {
  unpacked?.remove();
  unpacked = undefined;
}

/** The catalog version files of an unpacked folder, oldest first, as absolute paths. */
export function catalogVersionFiles(folder: string): string[] {
  return readdirSync(folder)
    .filter((name) => /^\d{4}\.json$/.test(name))
    .sort()
    .map((name) => join(folder, name));
}

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_VALUE_LIMITS } from '../../core/index.ts';
import { OriginStore, type OriginStoreOptions } from '../../origin/index.ts';
import { makeTempDir } from './temp-dir.ts';

/** An in-process origin store on a temporary file, for tests that need no HTTP. */
export async function openTempStore(overrides: Partial<OriginStoreOptions> = {}) {
  const dir = makeTempDir('lcm-store');
  const url = pathToFileURL(join(dir.path, 'origin.db')).href;
  const store = await OriginStore.open({
    url,
    limits: DEFAULT_VALUE_LIMITS,
    busyTimeoutMs: 5_000,
    maxCommitsPerTransaction: 64,
    retention: { revisions: 0, ageMs: 0 },
    ...overrides,
  });
  return {
    store,
    url,
    dir: dir.path,
    /** Closes the store and removes its folder. */
    async dispose() {
      await store.close();
      dir.remove();
    },
  };
}

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const leftovers = new Set<string>();

// A test that crashes before its teardown still must not leave folders behind.
process.once('exit', () => {
  for (const path of leftovers) rmSync(path, { recursive: true, force: true });
});

// vitest ends its workers with SIGTERM, which skips the exit hooks (here and in the other test
// helpers, which kill their child processes) unless the signal is handled.
if (process.listenerCount('SIGTERM') === 0) {
  process.once('SIGTERM', () => process.exit(143));
}

/** A temporary folder that is removed by {@link TempDir.remove}, or when the process exits. */
export interface TempDir {
  /** Absolute path of the folder. */
  path: string;
  /** Removes the folder and everything in it; safe to call twice. */
  remove(): void;
}

/** Makes a fresh temporary folder named after `label`. */
export function makeTempDir(label = 'lcm-test'): TempDir {
  const path = mkdtempSync(join(tmpdir(), `${label}-`));
  leftovers.add(path);
  return {
    path,
    remove() {
      rmSync(path, { recursive: true, force: true });
      leftovers.delete(path);
    },
  };
}

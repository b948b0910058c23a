// One benchmark in its own process: `node --import tsx bench/run-benchmark.ts p3 --out FILE`.
// The driver (bench/main.ts) starts one of these per benchmark, so a crash or a leak in one
// benchmark cannot spoil another, and every server it starts is stopped when it ends.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCHMARKS } from './benchmarks/index.ts';
import { type BenchContext, SkipBenchmark } from './context.ts';
import type { BenchmarkResult } from './result.ts';
import { installCleanup, removeOnExit, stopAll } from './support/processes.ts';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  installCleanup({ watchParent: true });
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      'no-peers': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
    },
  });
  const id = positionals[0];
  if (!id || !BENCHMARKS[id] || !values.out) {
    throw new Error('usage: run-benchmark.ts <p1..p8> --out FILE [--quick] [--runs N]');
  }

  const benchmark = await BENCHMARKS[id]();
  const tmpDir = await mkdtemp(path.join(os.tmpdir(), `lcm-bench-${id}-`));
  removeOnExit(tmpDir);
  const quick = values.quick;
  const context: BenchContext = {
    quick,
    runs: values.runs ? Number(values.runs) : quick ? 2 : (benchmark.defaultRuns ?? 5),
    warmups: 1,
    peers: !values['no-peers'],
    tmpDir,
    repoRoot: REPO_ROOT,
    corpusDir: path.resolve(REPO_ROOT, '..', 'shared', 'corpus'),
    profileDir: values.profile
      ? path.join(REPO_ROOT, 'bench', 'results', 'profiles', id)
      : undefined,
    log: (message) => process.stderr.write(`  [${id}] ${message}\n`),
  };

  const startedAt = new Date();
  const result: BenchmarkResult = {
    id,
    title: benchmark.title,
    how: benchmark.how,
    status: 'ok',
    quick,
    startedAt: startedAt.toISOString(),
    durationMs: 0,
    rows: [],
    notes: [],
  };
  try {
    const outcome = await benchmark.run(context);
    result.rows = outcome.rows;
    result.notes = outcome.notes;
  } catch (error) {
    result.status = error instanceof SkipBenchmark ? 'skipped' : 'failed';
    result.reason = error instanceof Error ? error.message : String(error);
    if (result.status === 'failed') context.log((error as Error).stack ?? String(error));
  } finally {
    await stopAll();
    await rm(tmpDir, { recursive: true, force: true });
  }
  result.durationMs = Date.now() - startedAt.getTime();
  await writeFile(values.out, JSON.stringify(result, null, 2));
}

main().then(
  () => process.exit(0),
  async (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    await stopAll();
    process.exit(1);
  },
);

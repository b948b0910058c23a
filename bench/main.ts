// The benchmark driver behind `npm run bench`: installs the peers when missing, runs each
// selected benchmark in its own child process, and writes the results file and the table in
// bench/README.md.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCHMARK_IDS } from './benchmarks/index.ts';
import { renderReadme } from './report.ts';
import type { BenchmarkResult } from './result.ts';
import { describeMachine, type MachineInfo } from './support/machine.ts';
import { installPeers, missingPrograms } from './support/peer-install.ts';
import { installCleanup, removeOnExit, startProcess, stopProcess } from './support/processes.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = path.resolve(BENCH_DIR, '..');
const RESULTS_DIR = path.join(BENCH_DIR, 'results');

/** Time a benchmark process gets to stop its servers before it is killed. */
const BENCHMARK_STOP_GRACE_MS = 20_000;

/** Longest one benchmark may take before the driver stops it, full and quick. */
const BENCHMARK_TIMEOUT_MS = 8 * 60_000;
const QUICK_BENCHMARK_TIMEOUT_MS = 3 * 60_000;

/** The results file: every benchmark of one day on one host, merged run after run. */
export interface ResultsFile {
  machine: MachineInfo;
  updatedAt: string;
  quick: boolean;
  benchmarks: Record<string, BenchmarkResult>;
}

const USAGE = `usage: npm run bench -- [options] [p1 ... p8]

  p1 ... p8      run only these benchmarks (default: all)
  --quick        smoke run: fewer and shorter runs, small scales; peers are measured only
                 when already installed, and the README table is left alone
  --runs N       measured runs per figure (default 5, quick 2); one warm-up run comes on top
  --no-peers     measure our side only
  --profile      write CPU profiles of our origin and agent processes to bench/results/
  --report       only regenerate bench/README.md from today's results file (after editing
                 bench/findings.md)
`;

async function main(): Promise<number> {
  installCleanup();
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      quick: { type: 'boolean', default: false },
      runs: { type: 'string' },
      'no-peers': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      report: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const selected =
    positionals.length > 0 ? positionals.map((id) => id.toLowerCase()) : BENCHMARK_IDS;
  const unknown = selected.filter((id) => !BENCHMARK_IDS.includes(id));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  if (values.runs !== undefined && !(Number(values.runs) >= 1)) {
    process.stderr.write(`--runs must be a positive number, not ${values.runs}\n`);
    return 2;
  }

  if (values.report) return await regenerateReadme();

  const log = (message: string) => process.stderr.write(`bench: ${message}\n`);
  let peers = !values['no-peers'];
  if (peers) {
    const missing = values.quick ? missingPrograms() : installPeers(log);
    if (
      missing.some((program) => program.command === 'etcd' || program.command === 'nats-server')
    ) {
      log(`peers unavailable (${missing.map((p) => p.command).join(', ')} missing): our side only`);
      peers = false;
    }
  }

  const machine = describeMachine();
  const resultsPath = path.join(
    RESULTS_DIR,
    `${new Date().toISOString().slice(0, 10)}-${machine.host}${values.quick ? '-quick' : ''}.json`,
  );
  await mkdir(RESULTS_DIR, { recursive: true });
  const results = await loadResults(resultsPath, machine, values.quick);
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'lcm-bench-driver-'));
  removeOnExit(scratch);
  let failures = 0;

  try {
    for (const id of selected) {
      log(`${id}: starting`);
      const result = await runOne(id, scratch, {
        quick: values.quick,
        runs: values.runs,
        peers,
        profile: values.profile,
      });
      log(`${id}: ${result.status}${result.reason ? ` (${result.reason.split('\n')[0]})` : ''}`);
      if (result.status === 'failed') failures++;
      results.benchmarks[id] = result;
      results.machine = machine;
      results.updatedAt = new Date().toISOString();
      await writeFile(resultsPath, `${JSON.stringify(sortById(results), null, 2)}\n`);
      if (!values.quick) {
        const findings = await readFile(path.join(BENCH_DIR, 'findings.md'), 'utf8').catch(
          () => '',
        );
        await writeFile(
          path.join(BENCH_DIR, 'README.md'),
          renderReadme(sortById(results), path.relative(BENCH_DIR, resultsPath), findings),
        );
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  log(
    `results: ${path.relative(REPO_ROOT, resultsPath)}${values.quick ? '' : ', table: bench/README.md'}`,
  );
  return failures > 0 ? 1 : 0;
}

async function writeReadme(results: ResultsFile, resultsPath: string): Promise<void> {
  const findings = await readFile(path.join(BENCH_DIR, 'findings.md'), 'utf8').catch(() => '');
  await writeFile(
    path.join(BENCH_DIR, 'README.md'),
    renderReadme(sortById(results), path.relative(BENCH_DIR, resultsPath), findings),
  );
}

/** Rewrites bench/README.md from the newest full results file. */
async function regenerateReadme(): Promise<number> {
  const files = (await readdir(RESULTS_DIR).catch(() => [] as string[]))
    .filter((name) => name.endsWith('.json') && !name.endsWith('-quick.json'))
    .sort();
  const newest = files.at(-1);
  if (!newest) {
    process.stderr.write('no results file in bench/results: run `npm run bench` first\n');
    return 1;
  }
  const resultsPath = path.join(RESULTS_DIR, newest);
  const results = JSON.parse(await readFile(resultsPath, 'utf8')) as ResultsFile;
  await writeReadme(results, resultsPath);
  process.stderr.write(`bench: bench/README.md regenerated from bench/results/${newest}\n`);
  return 0;
}

interface RunOptions {
  quick: boolean;
  runs: string | undefined;
  peers: boolean;
  profile: boolean;
}

/** Runs one benchmark in a child process and reads the result it wrote. */
async function runOne(id: string, scratch: string, options: RunOptions): Promise<BenchmarkResult> {
  const outFile = path.join(scratch, `${id}.json`);
  const args = ['--import', 'tsx', path.join(BENCH_DIR, 'run-benchmark.ts'), id, '--out', outFile];
  if (options.quick) args.push('--quick');
  if (options.runs) args.push('--runs', options.runs);
  if (!options.peers) args.push('--no-peers');
  if (options.profile) args.push('--profile');

  const startedAt = new Date();
  const child = startProcess(process.execPath, args, {
    name: `benchmark ${id}`,
    cwd: REPO_ROOT,
    echoStderr: true,
    stopGraceMs: BENCHMARK_STOP_GRACE_MS,
  });
  const timeoutMs = options.quick ? QUICK_BENCHMARK_TIMEOUT_MS : BENCHMARK_TIMEOUT_MS;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void stopProcess(child);
  }, timeoutMs);
  const exit = await child.exited;
  clearTimeout(timer);
  await stopProcess(child);

  try {
    return JSON.parse(await readFile(outFile, 'utf8')) as BenchmarkResult;
  } catch {
    return {
      id,
      title: id,
      how: '',
      status: 'failed',
      reason: timedOut
        ? `stopped after ${timeoutMs / 1000} s`
        : `benchmark process exited with ${exit}:\n${child.output().slice(-2_000)}`,
      quick: options.quick,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      rows: [],
      notes: [],
    };
  }
}

async function loadResults(
  file: string,
  machine: MachineInfo,
  quick: boolean,
): Promise<ResultsFile> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as ResultsFile;
  } catch {
    return { machine, updatedAt: new Date().toISOString(), quick, benchmarks: {} };
  }
}

function sortById(results: ResultsFile): ResultsFile {
  const benchmarks: Record<string, BenchmarkResult> = {};
  for (const id of BENCHMARK_IDS) {
    if (results.benchmarks[id]) benchmarks[id] = results.benchmarks[id];
  }
  return { ...results, benchmarks };
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  },
);

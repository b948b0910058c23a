/** What a benchmark gets from the harness. */
export interface BenchContext {
  /** Smoke run: fewer runs, shorter, smaller scales. */
  quick: boolean;
  /** Measured runs per figure (warm-up runs come on top and are not reported). */
  runs: number;
  /** Warm-up runs before the measured ones. */
  warmups: number;
  /** Whether etcd and NATS are installed and may be measured. */
  peers: boolean;
  /** A scratch folder for this benchmark, removed when it ends. */
  tmpDir: string;
  /** The repository root. */
  repoRoot: string;
  /** `../shared/corpus` seen from the repository root (it may not exist). */
  corpusDir: string;
  /**
   * With `--profile`: the folder (bench/results/profiles/<id>) where our origin and agent
   * processes write V8 CPU profiles when they stop; undefined otherwise.
   */
  profileDir: string | undefined;
  /** Progress for the person watching, on stderr. */
  log(message: string): void;
}

/** A benchmark: one of P1..P8. */
export interface Benchmark {
  id: string;
  title: string;
  how: string;
  /** Measured runs in a full run when `--runs` is not given; 5 when absent. */
  defaultRuns?: number;
  run(context: BenchContext): Promise<import('./result.ts').BenchmarkOutcome>;
}

/** Thrown by a benchmark that cannot run here, with the reason shown in the results. */
export class SkipBenchmark extends Error {
  override name = 'SkipBenchmark';
}

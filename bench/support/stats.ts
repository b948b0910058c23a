/** A figure measured over several runs: the median and the spread around it. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  /** Every run's figure, in the order measured (warm-up runs excluded). */
  runs: number[];
}

/** The `q` quantile (0..1) of `values`, by the nearest-rank method; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of `values` (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Summarizes the figures of several runs. */
export function summarize(runs: readonly number[]): Summary {
  return {
    median: median(runs),
    min: Math.min(...runs),
    max: Math.max(...runs),
    runs: [...runs],
  };
}

/**
 * The ratio ours ÷ peer, run by run: each run of ours is divided by the peer's run measured
 * next to it, so that drift of the shared machine between runs cancels out.
 */
export function pairedRatio(ours: readonly number[], peer: readonly number[]): Summary {
  const count = Math.min(ours.length, peer.length);
  const ratios: number[] = [];
  for (let i = 0; i < count; i++) ratios.push(ours[i]! / peer[i]!);
  return summarize(ratios);
}

/** Latency percentiles of one run, in milliseconds. */
export interface LatencyPercentiles {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
}

/** Percentiles of latency samples given in milliseconds. */
export function latencyPercentiles(samplesMs: readonly number[]): LatencyPercentiles {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0
      ? Number.NaN
      : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return {
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    count: sorted.length,
  };
}

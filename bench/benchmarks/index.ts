import type { Benchmark } from '../context.ts';

/** Every benchmark by id, loaded on demand so that one broken benchmark spoils no other. */
export const BENCHMARKS: Record<string, () => Promise<Benchmark>> = {
  p1: async () => (await import('./p1-read-throughput.ts')).readThroughput,
  p2: async () => (await import('./p2-read-latency.ts')).readLatency,
  p3: async () => (await import('./p3-propagation.ts')).propagation,
  p4: async () => (await import('./p4-bytes.ts')).bytesOnTheWire,
  p5: async () => (await import('./p5-bootstrap.ts')).bootstrap,
  p6: async () => (await import('./p6-memory.ts')).memory,
  p7: async () => (await import('./p7-writes.ts')).writes,
  p8: async () => (await import('./p8-fan-out.ts')).fanOut,
};

/** Benchmark ids in the order a full run measures them. */
export const BENCHMARK_IDS = Object.keys(BENCHMARKS);

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, stopProcess } from '../support/processes.ts';

const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixed-rate-client.ts');

/** Options of one fixed-rate run. */
export interface FixedRateOptions {
  host: string;
  port: number;
  path: string;
  ratePerSecond: number;
  durationMs: number;
  connections: number;
  /** CPU list the load generator is pinned to. */
  cpus: string;
}

/** Latency percentiles in milliseconds, measured from each request's scheduled time. */
export interface FixedRateResult {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  count: number;
  scheduled: number;
  errors: number;
  achievedPerSecond: number;
}

/** Runs the open-loop generator of fixed-rate-client.ts in its own pinned process. */
export async function runFixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
  const { cpus, ...clientOptions } = options;
  const client = startProcess(process.execPath, ['--import', 'tsx', CLIENT], {
    name: 'fixed-rate client',
    cpus,
    env: { FIXED_RATE_OPTIONS: JSON.stringify(clientOptions) },
  });
  const timer = setTimeout(() => void stopProcess(client), options.durationMs + 30_000);
  const code = await client.exited;
  clearTimeout(timer);
  const line = client
    .output()
    .split('\n')
    .find((text) => text.startsWith('{"p50"'));
  if (code !== 0 || !line)
    throw new Error(`fixed-rate client failed (${code}):\n${client.output()}`);
  return JSON.parse(line) as FixedRateResult;
}

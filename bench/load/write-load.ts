import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startProcess, stopProcess } from '../support/processes.ts';

const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'write-client.ts');

/** Options of one write-load run; see write-client.ts. */
export interface WriteLoadOptions {
  target: 'origin' | 'etcd';
  url: string;
  token?: string;
  tenant?: string;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  valueText: string;
}

/** What one write-load run measured; latencies in milliseconds. */
export interface WriteLoadResult {
  writesPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  count: number;
  errors: number;
  lastError: string;
}

/** Runs write-client.ts in its own process and returns its figures. */
export async function runWriteLoad(options: WriteLoadOptions): Promise<WriteLoadResult> {
  const client = startProcess(process.execPath, ['--import', 'tsx', CLIENT], {
    name: `write load (${options.target})`,
    env: { WRITE_LOAD_OPTIONS: JSON.stringify(options) },
  });
  const timer = setTimeout(
    () => void stopProcess(client),
    options.warmupMs + options.durationMs + 60_000,
  );
  const code = await client.exited;
  clearTimeout(timer);
  const line = client
    .output()
    .split('\n')
    .find((text) => text.startsWith('{"writesPerSecond"'));
  if (code !== 0 || !line) throw new Error(`write load failed (${code}):\n${client.output()}`);
  const result = JSON.parse(line) as WriteLoadResult;
  if (result.errors > 0) throw new Error(`${result.errors} failed writes: ${result.lastError}`);
  return result;
}

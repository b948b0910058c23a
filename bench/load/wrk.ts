import { startProcess, stopProcess } from '../support/processes.ts';

/** Options of one wrk run. */
export interface WrkOptions {
  url: string;
  durationSeconds: number;
  connections: number;
  /** CPU list the load generator is pinned to. */
  cpus: string;
}

/** What one wrk run measured. */
export interface WrkResult {
  requestsPerSecond: number;
  /** Non-2xx/3xx answers and socket errors: a run with any is not a valid measurement. */
  errors: number;
}

/** Runs wrk (one thread, keep-alive connections) against `url` and parses its summary. */
export async function runWrk(options: WrkOptions): Promise<WrkResult> {
  const wrk = startProcess(
    'wrk',
    ['-t1', `-c${options.connections}`, `-d${options.durationSeconds}s`, options.url],
    { name: 'wrk', cpus: options.cpus },
  );
  const timer = setTimeout(() => void stopProcess(wrk), (options.durationSeconds + 15) * 1000);
  const code = await wrk.exited;
  clearTimeout(timer);
  const output = wrk.output();
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(output);
  if (code !== 0 || !rate) throw new Error(`wrk failed (${code}):\n${output}`);
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(output);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(
    output,
  );
  const errors =
    Number(non2xx?.[1] ?? 0) +
    (socketErrors ? socketErrors.slice(1).reduce((sum, value) => sum + Number(value), 0) : 0);
  return { requestsPerSecond: Number(rate[1]), errors };
}

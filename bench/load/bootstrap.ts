import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { monotonicMs } from '../support/net.ts';
import { nextMessage, startProcess, stopProcess } from '../support/processes.ts';

const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'bootstrap-client.ts');

/** Options of one peer bootstrap; see bootstrap-client.ts. */
export interface BootstrapOptions {
  system: 'etcd' | 'nats';
  url: string;
  bucket?: string;
  expected: number;
}

/** Seconds from starting a fresh client process until it holds every value. */
export async function timePeerBootstrap(options: BootstrapOptions): Promise<number> {
  const started = monotonicMs();
  const client = startProcess(process.execPath, ['--import', 'tsx', CLIENT], {
    name: `${options.system} bootstrap client`,
    ipc: true,
    env: { BOOTSTRAP_OPTIONS: JSON.stringify(options) },
  });
  const done = await nextMessage(
    client,
    (message): message is { type: 'done'; count: number } =>
      typeof message === 'object' &&
      message !== null &&
      (message as { type?: string }).type === 'done',
    120_000,
  );
  const seconds = (monotonicMs() - started) / 1000;
  await stopProcess(client);
  if (done.count !== options.expected) {
    throw new Error(`${options.system} client got ${done.count} values, not ${options.expected}`);
  }
  return seconds;
}

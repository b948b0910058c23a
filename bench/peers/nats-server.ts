import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { freePort, httpAnswers, LOOPBACK } from '../support/net.ts';
import { type ManagedProcess, startProcess, stopProcess, waitFor } from '../support/processes.ts';

/** A running single NATS server with JetStream on loopback. */
export interface NatsPeer {
  process: ManagedProcess;
  /** Client URL, e.g. `nats://127.0.0.1:4222`. */
  url: string;
  /** A new connection; the caller drains or closes it. */
  connect(): Promise<NatsConnection>;
  stop(): Promise<void>;
}

/** Options for {@link startNats}. */
export interface NatsOptions {
  cpus?: string;
  /**
   * Largest message in bytes. NATS's default is 1 MB; the catalog history holds values up to
   * 1.1 MB, which needs more, as NATS's documentation allows in the server configuration.
   */
  maxPayloadBytes?: number;
}

/**
 * Starts nats-server with JetStream, file storage in a fresh folder, on loopback: the single
 * server setup of its documentation, every JetStream setting at its default (file store,
 * buffered writes synced every 2 minutes).
 */
export async function startNats(dataRoot: string, options: NatsOptions = {}): Promise<NatsPeer> {
  const dir = path.join(dataRoot, `nats-${Date.now()}`);
  await mkdir(dir, { recursive: true });
  const port = await freePort();
  const monitorPort = await freePort();
  const config = [
    `listen: "${LOOPBACK}:${port}"`,
    `http: "${LOOPBACK}:${monitorPort}"`,
    `jetstream { store_dir: "${path.join(dir, 'jetstream')}" }`,
    options.maxPayloadBytes ? `max_payload: ${options.maxPayloadBytes}` : '',
  ].join('\n');
  const configFile = path.join(dir, 'nats.conf');
  await writeFile(configFile, config);
  const managed = startProcess('nats-server', ['-c', configFile], {
    name: 'nats-server',
    cpus: options.cpus,
  });
  const url = `nats://${LOOPBACK}:${port}`;
  await waitFor(
    'nats-server to be healthy',
    async () => {
      if (managed.child.exitCode !== null) throw new Error(`nats exited:\n${managed.output()}`);
      return await httpAnswers(`http://${LOOPBACK}:${monitorPort}/healthz?js-enabled-only=true`);
    },
    20_000,
    50,
  );
  return {
    process: managed,
    url,
    connect: () => connect({ servers: url, maxReconnectAttempts: 0 }),
    stop: () => stopProcess(managed),
  };
}

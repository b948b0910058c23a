import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { freePort, httpAnswers, LOOPBACK } from '../support/net.ts';
import { type ManagedProcess, startProcess, stopProcess, waitFor } from '../support/processes.ts';

/** A running single-node etcd on loopback. */
export interface EtcdPeer {
  process: ManagedProcess;
  /** Client URL, e.g. `http://127.0.0.1:23790`. */
  url: string;
  /** A new client of this etcd; the caller closes it. */
  client(): Etcd3;
  stop(): Promise<void>;
}

/** The durability of etcd as started here, stated in the results. */
export const ETCD_DURABILITY =
  'etcd 3.4 defaults: every commit is fsynced to its WAL before the put is acknowledged';

/**
 * Starts etcd as a single-member cluster on loopback with a fresh data dir, the way its
 * documentation runs a local node: explicit client and peer URLs, an initial cluster of one, and
 * every other setting (fsync per commit, 2 GiB quota, snapshot count) at its default.
 */
export async function startEtcd(dataRoot: string, cpus?: string): Promise<EtcdPeer> {
  const dataDir = path.join(dataRoot, `etcd-${Date.now()}`);
  await mkdir(dataDir, { recursive: true });
  const clientPort = await freePort();
  const peerPort = await freePort();
  const clientUrl = `http://${LOOPBACK}:${clientPort}`;
  const peerUrl = `http://${LOOPBACK}:${peerPort}`;
  const managed = startProcess(
    'etcd',
    [
      '--name',
      'bench',
      '--data-dir',
      dataDir,
      '--listen-client-urls',
      clientUrl,
      '--advertise-client-urls',
      clientUrl,
      '--listen-peer-urls',
      peerUrl,
      '--initial-advertise-peer-urls',
      peerUrl,
      '--initial-cluster',
      `bench=${peerUrl}`,
      '--initial-cluster-state',
      'new',
      '--logger',
      'zap',
      '--log-level',
      'warn',
    ],
    { name: 'etcd', cpus },
  );
  await waitFor('etcd to be healthy', () => healthy(managed, `${clientUrl}/health`), 20_000, 50);
  return {
    process: managed,
    url: clientUrl,
    client: () => new Etcd3({ hosts: clientUrl }),
    stop: () => stopProcess(managed),
  };
}

async function healthy(managed: ManagedProcess, url: string): Promise<boolean> {
  if (managed.child.exitCode !== null) throw new Error(`etcd exited:\n${managed.output()}`);
  if (!(await httpAnswers(url))) return false;
  const response = await fetch(url).catch(() => null);
  if (!response) return false;
  const body = (await response.json().catch(() => ({}))) as { health?: string };
  return body.health === 'true';
}

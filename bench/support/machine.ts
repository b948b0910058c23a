import os from 'node:os';
import { programVersion } from './peer-install.ts';

/** The machine and software a result was measured on. */
export interface MachineInfo {
  host: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  kernel: string;
  node: string;
  etcd: string;
  natsServer: string;
  wrk: string;
  /** 1, 5 and 15 minute load averages when the run started: the machine is shared. */
  loadAverage: number[];
}

/** Describes this machine. */
export function describeMachine(): MachineInfo {
  return {
    host: os.hostname(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    etcd: programVersion('etcd'),
    natsServer: programVersion('nats-server'),
    wrk: programVersion('wrk', ['-v']),
    loadAverage: os.loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

// Several edge agents in one process, for the benchmarks that need many (P3): each is a full
// EdgeAgent (replica file, index, read API on its own port, its own WebSocket to the origin),
// as `lcm agent` runs one. Input: AGENT_HOST_OPTIONS (JSON). IPC out: {type:'ready', ports}.
import path from 'node:path';
import { EdgeAgent, resolveAgentConfig } from '../../edge-agent/index.ts';

interface Options {
  originWsUrl: string;
  token: string;
  tenants: string[];
  count: number;
  dataRoot: string;
}

const options = JSON.parse(process.env.AGENT_HOST_OPTIONS ?? '{}') as Options;
const agents: EdgeAgent[] = [];

async function main(): Promise<void> {
  for (let i = 0; i < options.count; i++) {
    const config = resolveAgentConfig(
      {
        origin: options.originWsUrl,
        token: options.token,
        tenants: options.tenants,
        port: 0,
        data: path.join(options.dataRoot, `agent-${process.pid}-${i}`),
      },
      {},
    );
    agents.push(await EdgeAgent.start(config));
  }
  process.send!({ type: 'ready', ports: agents.map((agent) => agent.port) });
}

async function stop(): Promise<void> {
  await Promise.race([
    Promise.all(agents.map((agent) => agent.stop())),
    new Promise((resolve) => setTimeout(resolve, 5_000)),
  ]);
  process.exit(0);
}

process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
void main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

// Closed-loop write load in its own process: CONCURRENCY writers, each writing its own key
// again and again for DURATION, against the origin's PUT or etcd's put. Every write is awaited
// until acknowledged (durable on both sides). Input: WRITE_LOAD_OPTIONS (JSON); output: one
// JSON line on stdout.
import { Agent, request } from 'node:http';
import { Etcd3 } from 'etcd3';

interface Options {
  target: 'origin' | 'etcd';
  /** Origin base URL or etcd client URL. */
  url: string;
  token?: string;
  tenant?: string;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  valueText: string;
}

const options = JSON.parse(process.env.WRITE_LOAD_OPTIONS ?? '{}') as Options;
const now = () => Number(process.hrtime.bigint()) / 1e6;

type Write = (writer: number, sequence: number) => Promise<void>;

function originWriter(): { write: Write; close: () => void } {
  const url = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const write: Write = (writer, sequence) =>
    new Promise((resolve, reject) => {
      const body = options.valueText.replace('"revision":0', `"revision":${sequence}`);
      const outgoing = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: 'PUT',
          path: `/v1/tenants/${options.tenant}/entries/load/writer-${writer}`,
          headers: {
            authorization: `Bearer ${options.token}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (response) => {
          response.resume();
          response.on('end', () =>
            response.statusCode && response.statusCode < 300
              ? resolve()
              : reject(new Error(`PUT answered ${response.statusCode}`)),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  return { write, close: () => agent.destroy() };
}

function etcdWriter(): { write: Write; close: () => void } {
  const client = new Etcd3({ hosts: options.url });
  const write: Write = async (writer, sequence) => {
    const body = options.valueText.replace('"revision":0', `"revision":${sequence}`);
    await client.put(`load/writer-${writer}`).value(body);
  };
  return { write, close: () => client.close() };
}

async function main(): Promise<void> {
  const { write, close } = options.target === 'origin' ? originWriter() : etcdWriter();
  const latencies: number[] = [];
  let errors = 0;
  let lastError = '';
  const start = now();
  const measureFrom = start + options.warmupMs;
  const end = measureFrom + options.durationMs;
  let measuredWrites = 0;

  const loop = async (writer: number) => {
    let sequence = 0;
    while (now() < end) {
      const sentAt = now();
      try {
        await write(writer, ++sequence);
      } catch (error) {
        errors++;
        lastError = (error as Error).message;
        if (errors > 100) throw error;
        continue;
      }
      const doneAt = now();
      if (sentAt >= measureFrom && doneAt <= end) {
        latencies.push(doneAt - sentAt);
        measuredWrites++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, (_, writer) => loop(writer)));
  close();

  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)];
  process.stdout.write(
    `${JSON.stringify({
      writesPerSecond: (measuredWrites / options.durationMs) * 1000,
      p50: at(0.5),
      p99: at(0.99),
      max: latencies.at(-1),
      count: measuredWrites,
      errors,
      lastError,
    })}\n`,
  );
  process.exit(0);
}

void main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

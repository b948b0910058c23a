// Watchers of one key in their own process, for the propagation benchmark (P3). Each watcher
// notes the monotonic time at which it sees each value; the parent asks for the notes at the
// end; on the way it tells the parent how many watchers saw each value, so that the writer
// can wait for one write to reach every watcher before the next. Systems: etcd (one client connection per watcher, one watch each), NATS KV (one
// connection per watcher, one KV watch each) and our agents (one long-poll loop per agent on
// its watch endpoint, so "seen" means readable from the agent's HTTP API).
// Input: WATCHER_OPTIONS (JSON). IPC out: {type:'ready'}, {type:'seen', counts} as values
// arrive, and {type:'report', seen} on request.
import { Agent, request } from 'node:http';
import { Etcd3 } from 'etcd3';
import { connect, type NatsConnection } from 'nats';

interface Options {
  system: 'etcd' | 'nats' | 'lcm';
  count: number;
  key: string;
  etcdUrl?: string;
  natsUrl?: string;
  bucket?: string;
  /** Agent base URLs; watcher i uses agentUrls[i]. */
  agentUrls?: string[];
  tenant?: string;
}

const options = JSON.parse(process.env.WATCHER_OPTIONS ?? '{}') as Options;
const now = () => Number(process.hrtime.bigint()) / 1e6;
/** seen[watcher] = list of [sequence, monotonic ms]. */
const seen: Array<Array<[number, number]>> = Array.from({ length: options.count }, () => []);
const SEQUENCE = /"revision":(\d+)/;
const closers: Array<() => Promise<void> | void> = [];
let stopping = false;

/** Sightings not yet told to the parent, by sequence; sent in one message per turn. */
const unreported = new Map<number, number>();
let reportScheduled = false;

function note(watcher: number, text: string): void {
  const at = now();
  const match = SEQUENCE.exec(text);
  if (!match) return;
  const sequence = Number(match[1]);
  seen[watcher]!.push([sequence, at]);
  unreported.set(sequence, (unreported.get(sequence) ?? 0) + 1);
  if (reportScheduled) return;
  reportScheduled = true;
  setImmediate(() => {
    reportScheduled = false;
    process.send!({ type: 'seen', counts: [...unreported] });
    unreported.clear();
  });
}

async function watchEtcd(): Promise<void> {
  for (let watcher = 0; watcher < options.count; watcher++) {
    // A separate subchannel pool gives each watcher its own connection, as separate agents have.
    const client = new Etcd3({
      hosts: options.etcdUrl!,
      grpcOptions: { 'grpc.use_local_subchannel_pool': 1 },
    });
    const watch = await client.watch().key(options.key).create();
    watch.on('put', (kv) => note(watcher, kv.value.toString('utf8')));
    closers.push(async () => {
      await watch.cancel();
      client.close();
    });
  }
}

async function watchNats(): Promise<void> {
  for (let watcher = 0; watcher < options.count; watcher++) {
    const connection: NatsConnection = await connect({ servers: options.natsUrl! });
    const kv = await connection.jetstream().views.kv(options.bucket!);
    const iterator = await kv.watch({ key: options.key, initializedFn: () => {} });
    void (async () => {
      for await (const entry of iterator) {
        if (entry.operation === 'PUT') note(watcher, entry.string());
      }
    })().catch(() => {});
    closers.push(async () => {
      iterator.stop();
      await connection.close();
    });
  }
}

const LONG_POLL_TIMEOUT_MS = 10_000;

async function watchAgents(): Promise<void> {
  const agent = new Agent({ keepAlive: true });
  const poll = (url: URL): Promise<{ status: number; body: string; revision: number }> =>
    new Promise((resolve, reject) => {
      const outgoing = request(
        { agent, host: url.hostname, port: url.port, path: url.pathname + url.search },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              revision: Number(response.headers['x-config-revision'] ?? Number.NaN),
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end();
    });
  const loops: Promise<void>[] = [];
  for (let watcher = 0; watcher < options.count; watcher++) {
    const base = options.agentUrls![watcher]!;
    const entryUrl = new URL(`${base}/v1/tenants/${options.tenant}/entries/${options.key}`);
    const first = await poll(entryUrl);
    let after = first.revision;
    if (!Number.isFinite(after)) throw new Error(`no X-Config-Revision from ${entryUrl}`);
    loops.push(
      (async () => {
        while (!stopping) {
          const url = new URL(
            `${base}/v1/tenants/${options.tenant}/watch/${options.key}?after=${after}&timeout_ms=${LONG_POLL_TIMEOUT_MS}`,
          );
          const answer = await poll(url).catch(() => null);
          if (!answer) continue;
          if (answer.status === 200) {
            note(watcher, answer.body);
            if (Number.isFinite(answer.revision)) after = answer.revision;
          }
        }
      })(),
    );
  }
  closers.push(() => agent.destroy());
}

async function main(): Promise<void> {
  if (options.system === 'etcd') await watchEtcd();
  else if (options.system === 'nats') await watchNats();
  else await watchAgents();
  process.on('message', async (message: { type: string }) => {
    if (message.type !== 'report') return;
    stopping = true;
    process.send!({ type: 'report', seen });
    await Promise.race([
      Promise.all(closers.map((close) => close())),
      new Promise((resolve) => setTimeout(resolve, 2_000)),
    ]);
    process.exit(0);
  });
  process.send!({ type: 'ready' });
}

void main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

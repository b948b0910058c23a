// Many light protocol clients in one process, for the fan-out benchmark (P8): each opens its
// own WebSocket to the origin's /v1/replicate, says hello, takes the snapshot, answers pings
// and acknowledges deltas, as an agent does, but keeps no replica and checks no frame. Each
// notes the monotonic time at which a delta frame carrying each revision arrives.
// Input: LIGHT_AGENTS_OPTIONS (JSON). IPC: {type:'ready'}; on {type:'report'} answers
// {type:'report', arrivals: {revision: [ms, ...]}}; on {type:'close'} closes and exits.
import { randomUUID } from 'node:crypto';
import { Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import { FrameCodec, type Message, PROTOCOL_VERSION } from '../../protocol/index.ts';

interface Options {
  url: string;
  token: string;
  tenant: string;
  count: number;
}

const options = JSON.parse(process.env.LIGHT_AGENTS_OPTIONS ?? '{}') as Options;
const codec = new FrameCodec();
// Incoming frames are read with plain msgpackr, without the schema check an agent makes, so
// that the time measured is the origin's delivery, not this client's validation work.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
const now = () => Number(process.hrtime.bigint()) / 1e6;
const arrivals = new Map<number, number[]>();
const sockets: WebSocket[] = [];
/** Connections opened at once; more would overflow the origin's accept backlog. */
const OPENING_AT_ONCE = 100;
const OPEN_TIMEOUT_MS = 60_000;

function openOne(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(options.url, {
      headers: { authorization: `Bearer ${options.token}` },
      perMessageDeflate: false,
    });
    let revision = 0;
    let synced = false;
    const timer = setTimeout(() => reject(new Error('no snapshot in time')), OPEN_TIMEOUT_MS);
    socket.on('open', () => {
      socket.send(
        codec.encode({
          type: 'hello',
          protocolVersions: [PROTOCOL_VERSION],
          agentId: randomUUID(),
          agentPublicKey: null,
          tenants: [{ tenant: options.tenant, revision: 0, epoch: null }],
        }),
      );
    });
    socket.on('message', (data: Buffer) => {
      const at = now();
      const message = unpackr.unpack(data) as Message;
      if (message.type === 'ping') {
        socket.send(codec.encode({ type: 'pong', at: message.at }));
      } else if (message.type === 'welcome') {
        revision = message.tenants[0]?.headRevision ?? 0;
      } else if (message.type === 'snapshot' && message.last) {
        revision = message.revision;
        if (!synced) {
          synced = true;
          clearTimeout(timer);
          resolve();
        }
      } else if (message.type === 'delta') {
        for (const commit of message.commits) {
          revision = Math.max(revision, commit.revision);
          const list = arrivals.get(commit.revision) ?? [];
          if (list.length === 0) arrivals.set(commit.revision, list);
          list.push(at);
        }
        socket.send(codec.encode({ type: 'ack', tenants: [{ tenant: options.tenant, revision }] }));
      } else if (message.type === 'error') {
        reject(new Error(`origin error ${message.code}: ${message.message}`));
      }
    });
    socket.on('error', reject);
    sockets.push(socket);
  });
}

async function main(): Promise<void> {
  let next = 0;
  const opener = async () => {
    while (next < options.count) {
      next++;
      await openOne();
    }
  };
  await Promise.all(Array.from({ length: Math.min(OPENING_AT_ONCE, options.count) }, opener));
  process.on('message', (message: { type: string }) => {
    if (message.type === 'report') {
      process.send!({ type: 'report', arrivals: Object.fromEntries(arrivals) });
    } else if (message.type === 'close') {
      for (const socket of sockets) socket.terminate();
      process.exit(0);
    }
  });
  process.send!({ type: 'ready' });
}

void main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

// A fresh client that fetches a whole data set from a peer, as a new consumer would: etcd by a
// paged range get over every key, NATS KV by a watch of every last value. Keeps every value in
// memory and reports by IPC {type:'done', count, bytes} when it holds them all.
// Input: BOOTSTRAP_OPTIONS (JSON).
import { Etcd3 } from 'etcd3';
import { connect } from 'nats';

interface Options {
  system: 'etcd' | 'nats';
  url: string;
  bucket?: string;
  expected: number;
}

const options = JSON.parse(process.env.BOOTSTRAP_OPTIONS ?? '{}') as Options;
const ETCD_PAGE = 1_000;
const values = new Map<string, string>();
let bytes = 0;

async function fromEtcd(): Promise<void> {
  const client = new Etcd3({ hosts: options.url });
  let from = Buffer.from('entries/');
  const end = Buffer.from('entries0');
  for (;;) {
    const page = await client.kv.range({ key: from, range_end: end, limit: String(ETCD_PAGE) });
    for (const kv of page.kvs) {
      const text = kv.value.toString('utf8');
      values.set(kv.key.toString('utf8'), text);
      bytes += text.length;
    }
    if (!page.more || page.kvs.length === 0) break;
    from = Buffer.concat([page.kvs.at(-1)!.key, Buffer.from([0])]);
  }
  client.close();
}

async function fromNats(): Promise<void> {
  const connection = await connect({ servers: options.url });
  const kv = await connection.jetstream().views.kv(options.bucket!);
  await new Promise<void>((resolve, reject) => {
    void kv
      .watch({
        key: '>',
        initializedFn: () => resolve(),
      })
      .then(async (iterator) => {
        for await (const entry of iterator) {
          if (entry.operation !== 'PUT') continue;
          const text = entry.string();
          values.set(entry.key, text);
          bytes += text.length;
          if (values.size >= options.expected) {
            iterator.stop();
            resolve();
          }
        }
      }, reject);
  });
  await connection.close();
}

async function main(): Promise<void> {
  if (options.system === 'etcd') await fromEtcd();
  else await fromNats();
  process.send!({ type: 'done', count: values.size, bytes });
  process.exit(0);
}

void main().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});

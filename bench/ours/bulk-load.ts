import type { Etcd3 } from 'etcd3';
import type { KV } from 'nats';
import type { OriginApi } from './origin-api.ts';
import { configValueText } from './values.ts';

/** Entries per origin commit while loading. */
const ORIGIN_COMMIT_ENTRIES = 1_000;
/** etcd refuses transactions of more than 128 operations by default. */
const ETCD_TXN_OPS = 128;
const ETCD_PARALLEL_TXNS = 8;
const NATS_IN_FLIGHT = 256;

/** The key of the `index`th loaded entry. */
export function loadedKey(index: number): string {
  return `entries/e${String(index).padStart(6, '0')}`;
}

/** Writes entries `from` ..< `to` (1 KB each) to the origin in commits of 1,000. */
export async function loadOrigin(api: OriginApi, tenant: string, from: number, to: number) {
  for (let start = from; start < to; start += ORIGIN_COMMIT_ENTRIES) {
    const changes = [];
    for (let i = start; i < Math.min(to, start + ORIGIN_COMMIT_ENTRIES); i++) {
      changes.push({
        op: 'put' as const,
        key: loadedKey(i),
        value: JSON.parse(configValueText(i)),
      });
    }
    await api.commit(tenant, changes);
  }
}

/** Writes the same entries to etcd in transactions of 128 puts, a few at a time. */
export async function loadEtcd(client: Etcd3, from: number, to: number): Promise<void> {
  const batches: Array<[number, number]> = [];
  for (let start = from; start < to; start += ETCD_TXN_OPS) {
    batches.push([start, Math.min(to, start + ETCD_TXN_OPS)]);
  }
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      const success = [];
      for (let i = batch[0]; i < batch[1]; i++) {
        const request_put = {
          key: Buffer.from(loadedKey(i)),
          value: Buffer.from(configValueText(i)),
        };
        success.push({ request_put });
      }
      await client.kv.txn({ compare: [], success, failure: [] });
    }
  };
  await Promise.all(Array.from({ length: ETCD_PARALLEL_TXNS }, worker));
}

/** Writes the same entries to a NATS KV bucket (NATS has no multi-key transaction). */
export async function loadNats(kv: KV, from: number, to: number): Promise<void> {
  let next = from;
  const worker = async () => {
    while (next < to) {
      const i = next++;
      await kv.put(natsKey(i), configValueText(i));
    }
  };
  await Promise.all(Array.from({ length: NATS_IN_FLIGHT }, worker));
}

/** NATS KV keys may not contain `/`; the same key with `.` separators. */
export function natsKey(index: number): string {
  return loadedKey(index).replaceAll('/', '.');
}

import type { Benchmark } from '../context.ts';
import { runWriteLoad, type WriteLoadResult } from '../load/write-load.ts';
import { OriginApi } from '../ours/origin-api.ts';
import { ORIGIN_DURABILITY, startOrigin } from '../ours/origin-process.ts';
import { configValueText } from '../ours/values.ts';
import { ETCD_DURABILITY, startEtcd } from '../peers/etcd-server.ts';
import { makeRow, type ResultRow } from '../result.ts';

const CONCURRENCIES = [1, 64];
const TENANT = 'bench';

/** P7: durable writes per second at the origin against etcd puts. */
export const writes: Benchmark = {
  id: 'p7',
  title: 'Durable writes',
  defaultRuns: 3,
  how:
    'A load process runs 1, then 64 concurrent writers; each writes its own key (a 1 KB ' +
    'config value) again and again and waits for every acknowledgement: PUT over HTTP/1.1 ' +
    'keep-alive to the origin, put over gRPC (the etcd3 client) to etcd. Both stores acknowledge ' +
    'only after an fsync (stated below). Writes/s and p99 latency over the measured window; ' +
    'the first second of each run is a warm-up and is not counted. Origin and etcd run side by ' +
    'side, unpinned, and are measured alternately.',
  async run(context) {
    const origin = await startOrigin({
      repoRoot: context.repoRoot,
      dataRoot: context.tmpDir,
      cpuProfileDir: context.profileDir,
    });
    const api = new OriginApi(origin.url, origin.adminToken);
    await api.createTenant(TENANT);
    const etcd = context.peers ? await startEtcd(context.tmpDir) : null;
    const valueText = configValueText(0);
    const durationMs = context.quick ? 2_000 : 5_000;
    const warmupMs = context.quick ? 500 : 1_000;

    const rows: ResultRow[] = [];
    for (const concurrency of CONCURRENCIES) {
      const ours: WriteLoadResult[] = [];
      const peer: WriteLoadResult[] = [];
      const measureOurs = async () =>
        ours.push(
          await runWriteLoad({
            target: 'origin',
            url: origin.url,
            token: origin.adminToken,
            tenant: TENANT,
            concurrency,
            durationMs,
            warmupMs,
            valueText,
          }),
        );
      const measurePeer = async () => {
        if (!etcd) return;
        peer.push(
          await runWriteLoad({
            target: 'etcd',
            url: etcd.url,
            concurrency,
            durationMs,
            warmupMs,
            valueText,
          }),
        );
      };
      for (let run = 0; run < context.runs; run++) {
        if (run % 2 === 0) {
          await measureOurs();
          await measurePeer();
        } else {
          await measurePeer();
          await measureOurs();
        }
        context.log(
          `${concurrency} writers, run ${run + 1}: origin ${ours.at(-1)!.writesPerSecond.toFixed(0)}/s` +
            (etcd ? `, etcd ${peer.at(-1)!.writesPerSecond.toFixed(0)}/s` : ''),
        );
      }
      const peerName = etcd ? 'etcd 3.4 put' : undefined;
      rows.push(
        makeRow({
          metric: `writes/s, ${concurrency} concurrent writer${concurrency > 1 ? 's' : ''}`,
          unit: 'writes/s',
          ours: ours.map((result) => result.writesPerSecond),
          peer: peerName,
          peerRuns: etcd ? peer.map((result) => result.writesPerSecond) : null,
          goal: { on: 'ratio', op: '>=', target: 2, text: 'ratio ≥ 2' },
        }),
        makeRow({
          metric: `p99 write latency, ${concurrency} concurrent writer${concurrency > 1 ? 's' : ''}`,
          unit: 'ms',
          ours: ours.map((result) => result.p99),
          peer: peerName,
          peerRuns: etcd ? peer.map((result) => result.p99) : null,
        }),
      );
    }
    return {
      rows,
      notes: [
        `Durability, ours: ${ORIGIN_DURABILITY}.`,
        `Durability, etcd: ${ETCD_DURABILITY}.`,
        `${durationMs / 1000} s measured per run after a ${warmupMs / 1000} s warm-up, ` +
          `${context.runs} runs per store and concurrency.`,
        ...(etcd ? [] : ['etcd not installed: our figures only.']),
      ],
    };
  },
};

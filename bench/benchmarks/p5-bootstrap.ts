import type { Benchmark } from '../context.ts';
import { timePeerBootstrap } from '../load/bootstrap.ts';
import { startAgent } from '../ours/agent-process.ts';
import { agentKeyCount, waitForRevision } from '../ours/agent-sync.ts';
import { loadEtcd, loadedKey, loadNats, loadOrigin } from '../ours/bulk-load.ts';
import { OriginApi } from '../ours/origin-api.ts';
import { startOrigin } from '../ours/origin-process.ts';
import { startEtcd } from '../peers/etcd-server.ts';
import { startNats } from '../peers/nats-server.ts';
import { makeRow } from '../result.ts';
import { monotonicMs } from '../support/net.ts';

const TENANT = 'boot';
const NATS_BUCKET = 'boot';
/**
 * The issue asks for 100,000 entries. Loading them through the origin's API takes about 100 s
 * on the shared 2-core machine and one bootstrap about 40 s, which does not fit a full run of a
 * few minutes with several runs; 20,000 does, and the report says so.
 */
const FULL_ENTRIES = 20_000;
const ISSUE_ENTRIES = 100_000;
const QUICK_ENTRIES = 5_000;

/** P5: a fresh agent on a large tenant until it serves every key, against fresh peer clients. */
export const bootstrap: Benchmark = {
  id: 'p5',
  title: 'Bootstrap',
  defaultRuns: 3,
  how:
    'A tenant of 1 KB entries is loaded into the origin, etcd and NATS KV alike. Then, in ' +
    'turn: a fresh `lcm agent` process with an empty data folder is started, and timed until ' +
    'its /v1/status says it holds the head revision (a snapshot is swapped in whole, so then ' +
    'it serves every key; the listing is checked afterwards); a fresh Node.js process with ' +
    'the etcd3 client fetches every key by paged range gets (1,000 per page); a fresh Node.js ' +
    'process with the nats client watches every last value of the bucket. All three are timed ' +
    'from process start to holding every value in memory.',
  async run(context) {
    const entries = context.quick ? QUICK_ENTRIES : FULL_ENTRIES;
    const origin = await startOrigin({
      repoRoot: context.repoRoot,
      dataRoot: context.tmpDir,
      cpuProfileDir: context.profileDir,
    });
    const api = new OriginApi(origin.url, origin.adminToken);
    await api.createTenant(TENANT);
    let loadStarted = monotonicMs();
    await loadOrigin(api, TENANT, 0, entries);
    const head = await api.put(TENANT, loadedKey(entries - 1), JSON.stringify({ last: true }));
    context.log(
      `origin loaded with ${entries} entries in ${((monotonicMs() - loadStarted) / 1000).toFixed(1)} s`,
    );
    const token = await api.createAgentToken([TENANT]);

    const etcd = context.peers ? await startEtcd(context.tmpDir) : null;
    const nats = context.peers ? await startNats(context.tmpDir) : null;
    if (etcd) {
      loadStarted = monotonicMs();
      const client = etcd.client();
      await loadEtcd(client, 0, entries);
      client.close();
      context.log(`etcd loaded in ${((monotonicMs() - loadStarted) / 1000).toFixed(1)} s`);
    }
    if (nats) {
      loadStarted = monotonicMs();
      const connection = await nats.connect();
      const kv = await connection.jetstream().views.kv(NATS_BUCKET, { history: 1 });
      await loadNats(kv, 0, entries);
      await connection.close();
      context.log(`NATS loaded in ${((monotonicMs() - loadStarted) / 1000).toFixed(1)} s`);
    }

    const timeAgent = async () => {
      const started = monotonicMs();
      const agent = await startAgent({
        repoRoot: context.repoRoot,
        dataRoot: context.tmpDir,
        cpuProfileDir: context.profileDir,
        originWsUrl: origin.wsUrl,
        token,
        tenants: [TENANT],
        noWait: true,
      });
      await waitForRevision(agent.url, TENANT, head, 120_000, 5);
      const seconds = (monotonicMs() - started) / 1000;
      const keys = await agentKeyCount(agent.url, TENANT);
      await agent.stop();
      if (keys !== entries) throw new Error(`the agent serves ${keys} keys, not ${entries}`);
      return seconds;
    };
    const measures: Array<[string, () => Promise<number>]> = [['ours', timeAgent]];
    if (etcd) {
      measures.push([
        'etcd',
        () => timePeerBootstrap({ system: 'etcd', url: etcd.url, expected: entries }),
      ]);
    }
    if (nats) {
      measures.push([
        'nats',
        () =>
          timePeerBootstrap({
            system: 'nats',
            url: nats.url,
            bucket: NATS_BUCKET,
            expected: entries,
          }),
      ]);
    }
    const seconds = new Map<string, number[]>(measures.map(([name]) => [name, []]));
    for (let run = -context.warmups; run < context.runs; run++) {
      const shift = (run + context.warmups) % measures.length;
      for (const [name, measure] of [...measures.slice(shift), ...measures.slice(0, shift)]) {
        const figure = await measure();
        if (run >= 0) seconds.get(name)!.push(figure);
      }
      if (run >= 0) {
        context.log(
          `run ${run + 1}: ${[...seconds].map(([name, list]) => `${name} ${list.at(-1)!.toFixed(2)} s`).join(', ')}`,
        );
      }
    }

    const ours = seconds.get('ours')!;
    const rows = [
      makeRow({
        metric: `fresh agent until it serves ${entries.toLocaleString('en-US')} keys`,
        unit: 's',
        ours,
        goal: { on: 'ours', op: '<=', target: 1, text: '≤ 1.0 s' },
      }),
    ];
    if (etcd) {
      rows.push(
        makeRow({
          metric: 'against a fresh etcd client',
          unit: 's',
          ours,
          peer: 'etcd 3.4 paged range get',
          peerRuns: seconds.get('etcd')!,
        }),
      );
    }
    if (nats) {
      rows.push(
        makeRow({
          metric: 'against a fresh NATS client',
          unit: 's',
          ours,
          peer: 'NATS 2.9 KV watch',
          peerRuns: seconds.get('nats')!,
        }),
      );
    }
    const notes = [
      'Every time includes starting the process (Node.js, and for the agent tsx loading the ' +
        'TypeScript sources, opening its replica file and writing the snapshot to it).',
    ];
    notes.push(
      `Scaled down: ${entries.toLocaleString('en-US')} entries instead of the issue's ` +
        `${ISSUE_ENTRIES.toLocaleString('en-US')}, so that a full run fits in a few minutes ` +
        '(one manual run at 100,000 on this machine: agent 37 s, etcd 9.1 s, NATS 8.2 s, while ' +
        'other engineers loaded the machine).',
    );
    return { rows, notes };
  },
};

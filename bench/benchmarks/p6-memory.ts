import type { Benchmark } from '../context.ts';
import { startAgent } from '../ours/agent-process.ts';
import { agentKeyCount, agentTenantStatus, waitForRevision } from '../ours/agent-sync.ts';
import { baselineRss } from '../ours/baseline-rss.ts';
import { loadEtcd, loadOrigin } from '../ours/bulk-load.ts';
import { OriginApi } from '../ours/origin-api.ts';
import { startOrigin } from '../ours/origin-process.ts';
import { startEtcd } from '../peers/etcd-server.ts';
import { makeRow, type ResultRow } from '../result.ts';
import { sleep } from '../support/net.ts';
import { residentBytes, waitFor } from '../support/processes.ts';
import { median } from '../support/stats.ts';

const TENANT = 'memory';
/**
 * The issue asks for 0, 10k and 100k. Loading 100k entries through the origin's API takes
 * about 100 s on the shared machine; a full run measures 0, 10k and 20k and extrapolates 100k
 * from the growth between 10k and 20k, in a row marked as such.
 */
const FULL_LEVELS = [0, 10_000, 20_000];
const ISSUE_TOP_LEVEL = 100_000;
/** The issue's goal at 100k entries, 126 MB, in MiB. */
const GOAL_MIB = 126 / 1.048576;
const QUICK_LEVELS = [0, 1_000, 5_000];
/** Time a process is left alone before its RSS is read, so that start-up garbage settles. */
const SETTLE_MS = 2_000;
const MIB = 1024 * 1024;
const AGENT_RUNS_MAX = 3;

/** P6: agent RSS holding 0, 10k and 100k entries, against etcd's server RSS holding the same. */
export const memory: Benchmark = {
  id: 'p6',
  title: 'Memory',
  how:
    'The origin and etcd are loaded with the same 1 KB entries, level by level. At each level ' +
    'a fresh `lcm agent` process bootstraps the tenant, serves every key (checked by its ' +
    `listing), is left alone for ${SETTLE_MS / 1000} s, and its resident set size (VmRSS) is ` +
    "read from /proc; the same for etcd's server process holding the same entries. Megabytes " +
    'are MiB.',
  async run(context) {
    const levels = context.quick ? QUICK_LEVELS : FULL_LEVELS;
    const origin = await startOrigin({
      repoRoot: context.repoRoot,
      dataRoot: context.tmpDir,
      cpuProfileDir: context.profileDir,
    });
    const api = new OriginApi(origin.url, origin.adminToken);
    await api.createTenant(TENANT);
    const token = await api.createAgentToken([TENANT]);
    const etcd = context.peers ? await startEtcd(context.tmpDir) : null;
    const etcdClient = etcd?.client();

    const rows: ResultRow[] = [];
    const notes: string[] = [];
    const perLevel: Array<{ level: number; ours: number[]; peer: number[] | null }> = [];
    let loaded = 0;
    let head = 0;
    for (const level of levels) {
      if (level > loaded) {
        await loadOrigin(api, TENANT, loaded, level);
        if (etcdClient) await loadEtcd(etcdClient, loaded, level);
        loaded = level;
        head = await api.headRevision(TENANT);
      }

      const ours: number[] = [];
      for (let run = 0; run < Math.min(context.runs, AGENT_RUNS_MAX); run++) {
        const agent = await startAgent({
          repoRoot: context.repoRoot,
          dataRoot: context.tmpDir,
          originWsUrl: origin.wsUrl,
          token,
          tenants: [TENANT],
        });
        if (level === 0) {
          await waitFor(
            'the agent to connect',
            async () => (await agentTenantStatus(agent.url, TENANT))?.connected === true,
            30_000,
          );
        } else {
          await waitForRevision(agent.url, TENANT, head, 120_000, 20);
          const keys = await agentKeyCount(agent.url, TENANT);
          if (keys !== level) throw new Error(`the agent serves ${keys} keys, not ${level}`);
        }
        await sleep(SETTLE_MS);
        ours.push((await residentBytes(agent.process.pid)) / MIB);
        await agent.stop();
      }
      let peer: number[] | null = null;
      if (etcd) {
        await sleep(SETTLE_MS);
        peer = [(await residentBytes(etcd.process.pid)) / MIB];
      }
      context.log(
        `${level} entries: agent ${ours.map((mb) => mb.toFixed(0)).join(', ')} MiB${peer ? `, etcd ${peer[0]!.toFixed(0)} MiB` : ''}`,
      );
      rows.push(
        makeRow({
          metric: `RSS holding ${level.toLocaleString('en-US')} entries of 1 KB`,
          unit: 'MiB',
          ours,
          peer: etcd ? 'etcd 3.4 server' : undefined,
          peerRuns: peer,
        }),
      );
      perLevel.push({ level, ours, peer });
    }

    // Growth per entry between the two largest levels, extended to the issue's 100k.
    const [lower, upper] = perLevel.slice(-2);
    if (lower && upper && upper.level > lower.level && lower.level > 0) {
      const entries = upper.level - lower.level;
      const extend = (low: number[], high: number[]) =>
        high.map(
          (mib, i) =>
            mib + ((mib - (low[i] ?? low[0]!)) / entries) * (ISSUE_TOP_LEVEL - upper.level),
        );
      rows.push(
        makeRow({
          metric:
            `RSS holding ${ISSUE_TOP_LEVEL.toLocaleString('en-US')} entries, extrapolated ` +
            `from ${lower.level.toLocaleString('en-US')}→${upper.level.toLocaleString('en-US')}`,
          unit: 'MiB',
          ours: extend(lower.ours, upper.ours),
          peer: lower.peer && upper.peer ? 'etcd 3.4 server, extrapolated' : undefined,
          peerRuns: lower.peer && upper.peer ? extend(lower.peer, upper.peer) : null,
          goal: { on: 'ours', op: '<=', target: GOAL_MIB, text: '≤ 126 MB (120 MiB)' },
        }),
      );
      const kibPerEntry = (low: number, high: number) =>
        (((high - low) * 2 ** 20) / entries / 1024).toFixed(1);
      notes.push(
        `Growth per entry: agent ${kibPerEntry(median(lower.ours), median(upper.ours))} KiB` +
          (lower.peer && upper.peer
            ? `, etcd ${kibPerEntry(lower.peer[0]!, upper.peer[0]!)} KiB.`
            : '.'),
      );
    }
    const baseline = await baselineRss(context.repoRoot);
    notes.push(
      `Start-up share of the agent's RSS: an idle bare Node.js process holds ` +
        `${baseline.node.toFixed(0)} MiB; Node.js with tsx after importing edge-agent/index.ts ` +
        `(nothing started) ${baseline.modules.toFixed(0)} MiB.`,
    );
    etcdClient?.close();
    notes.push(
      `Agent: ${Math.min(context.runs, AGENT_RUNS_MAX)} fresh agents per level; etcd: one reading per level of the one server (loaded level by level).`,
      'Both hold every entry in their data files too; RSS counts only what is resident in memory.',
    );
    notes.push(
      `Scaled down: ${levels.join(', ')} entries instead of the issue's 0, 10,000, 100,000 ` +
        '(100k is extrapolated in the marked row), so that a full run fits in a few minutes.',
    );
    return { rows, notes };
  },
};

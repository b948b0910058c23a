import type { Benchmark } from '../context.ts';
import { type FixedRateResult, runFixedRate } from '../load/fixed-rate.ts';
import { runWrk } from '../load/wrk.ts';
import { LOAD_CPU, loopbackUrl, SERVER_CPU, startReadFixture } from '../ours/read-fixture.ts';
import { makeRow } from '../result.ts';
import { LOOPBACK } from '../support/net.ts';

const CONNECTIONS = 16;
const MAX_RATE_CONNECTIONS = 50;

/** P2: read latency at half the agent's maximum rate, against node:http at the same rate. */
export const readLatency: Benchmark = {
  id: 'p2',
  title: 'Read latency',
  how:
    "First wrk finds the agent's maximum rate for GET of a 1 KB entry. Then an open-loop " +
    `generator (bench/load/fixed-rate-client.ts, ${CONNECTIONS} keep-alive connections, ` +
    `pinned to CPU ${LOAD_CPU}) sends requests at exactly half that rate to the agent (CPU ` +
    `${SERVER_CPU}) and, at the same rate, to a bare node:http server answering the same ` +
    'bytes. Latency runs from the scheduled send time to the last byte of the answer, so a ' +
    'stall is charged for every request it delays; microsecond resolution.',
  async run(context) {
    const fixture = await startReadFixture(context);
    const agentUrl = loopbackUrl(fixture.agentPort, fixture.path);
    const maxRate = await runWrk({
      url: agentUrl,
      durationSeconds: context.quick ? 2 : 4,
      connections: MAX_RATE_CONNECTIONS,
      cpus: LOAD_CPU,
    });
    const rate = Math.max(100, Math.round(maxRate.requestsPerSecond / 2));
    context.log(`agent maximum ${maxRate.requestsPerSecond.toFixed(0)}/s, measuring at ${rate}/s`);

    const durationMs = context.quick ? 3_000 : 5_000;
    const measure = (port: number, ms = durationMs) =>
      runFixedRate({
        host: LOOPBACK,
        port,
        path: fixture.path,
        ratePerSecond: rate,
        durationMs: ms,
        connections: CONNECTIONS,
        cpus: LOAD_CPU,
      });
    for (let i = 0; i < context.warmups; i++) {
      await measure(fixture.agentPort, 2_000);
      await measure(fixture.ceilingPort, 2_000);
    }
    const ours: FixedRateResult[] = [];
    const ceiling: FixedRateResult[] = [];
    for (let run = 0; run < context.runs; run++) {
      const pair =
        run % 2 === 0
          ? [await measure(fixture.agentPort), await measure(fixture.ceilingPort)]
          : [await measure(fixture.ceilingPort), await measure(fixture.agentPort)].reverse();
      for (const result of pair) {
        if (result!.errors > 0 || result!.count < result!.scheduled) {
          throw new Error(`fixed-rate run failed: ${JSON.stringify(result)}`);
        }
      }
      ours.push(pair[0]!);
      ceiling.push(pair[1]!);
      context.log(
        `run ${run + 1}: agent p99 ${pair[0]!.p99.toFixed(3)} ms, node:http ${pair[1]!.p99.toFixed(3)} ms`,
      );
    }

    const percentile = (name: 'p50' | 'p99' | 'p999', label: string, withGoal: boolean) =>
      makeRow({
        metric: `${label} at ${rate} req/s`,
        unit: 'ms',
        ours: ours.map((result) => result[name]),
        peer: 'bare node:http',
        peerRuns: ceiling.map((result) => result[name]),
        goal: withGoal ? { on: 'ratio', op: '<=', target: 1.3, text: 'ratio ≤ 1.3' } : undefined,
      });
    const p99Absolute = makeRow({
      metric: `p99 at ${rate} req/s, absolute`,
      unit: 'ms',
      ours: ours.map((result) => result.p99),
      goal: { on: 'ours', op: '<', target: 1, text: '< 1 ms' },
    });
    return {
      rows: [
        percentile('p50', 'p50', false),
        percentile('p99', 'p99', true),
        p99Absolute,
        percentile('p999', 'p99.9', false),
      ],
      notes: [
        `Agent maximum by wrk: ${maxRate.requestsPerSecond.toFixed(0)} req/s; both servers ` +
          `measured at ${rate} req/s for ${durationMs / 1000} s per run.`,
        'The generator is a Node.js process, so its own event loop adds to every latency alike ' +
          'for both servers; the ratio is the fair figure, the absolute p99 an upper bound.',
      ],
    };
  },
};

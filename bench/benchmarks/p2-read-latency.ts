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
    "Before each run, wrk finds the agent's maximum rate for GET of a 1 KB entry. Then an open-loop " +
    `generator (bench/load/fixed-rate-client.ts, ${CONNECTIONS} keep-alive connections, ` +
    `pinned to CPU ${LOAD_CPU}) sends requests at exactly half that rate to the agent (CPU ` +
    `${SERVER_CPU}) and, at the same rate, to a bare node:http server answering the same ` +
    'bytes. Latency runs from the scheduled send time to the last byte of the answer, so a ' +
    'stall is charged for every request it delays; microsecond resolution.',
  async run(context) {
    const fixture = await startReadFixture(context);
    const agentUrl = loopbackUrl(fixture.agentPort, fixture.path);
    // The shared machine's capacity drifts, so the agent's maximum is measured again right
    // before each pair of runs, and both servers are measured at half of that.
    const halfOfAgentMaximum = async () => {
      const maxRate = await runWrk({
        url: agentUrl,
        durationSeconds: 2,
        connections: MAX_RATE_CONNECTIONS,
        cpus: LOAD_CPU,
      });
      return Math.max(100, Math.round(maxRate.requestsPerSecond / 2));
    };
    const rates: number[] = [];

    const durationMs = context.quick ? 3_000 : 5_000;
    const measure = (port: number, rate: number, ms = durationMs) =>
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
      const rate = await halfOfAgentMaximum();
      await measure(fixture.agentPort, rate, 2_000);
      await measure(fixture.ceilingPort, rate, 2_000);
    }
    const ours: FixedRateResult[] = [];
    const ceiling: FixedRateResult[] = [];
    for (let run = 0; run < context.runs; run++) {
      const rate = await halfOfAgentMaximum();
      rates.push(rate);
      const pair =
        run % 2 === 0
          ? [await measure(fixture.agentPort, rate), await measure(fixture.ceilingPort, rate)]
          : [
              await measure(fixture.ceilingPort, rate),
              await measure(fixture.agentPort, rate),
            ].reverse();
      for (const result of pair) {
        if (result!.errors > 0 || result!.count < result!.scheduled) {
          throw new Error(`fixed-rate run failed: ${JSON.stringify(result)}`);
        }
      }
      ours.push(pair[0]!);
      ceiling.push(pair[1]!);
      context.log(
        `run ${run + 1} at ${rate}/s: agent p99 ${pair[0]!.p99.toFixed(3)} ms, node:http ${pair[1]!.p99.toFixed(3)} ms`,
      );
    }

    const percentile = (name: 'p50' | 'p99' | 'p999', label: string, withGoal: boolean) =>
      makeRow({
        metric: `${label} at half the agent's maximum`,
        unit: 'ms',
        ours: ours.map((result) => result[name]),
        peer: 'bare node:http',
        peerRuns: ceiling.map((result) => result[name]),
        goal: withGoal ? { on: 'ratio', op: '<=', target: 1.3, text: 'ratio ≤ 1.3' } : undefined,
      });
    const p99Absolute = makeRow({
      metric: "p99 at half the agent's maximum, absolute",
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
        `Rates per run (half the agent's maximum by a 2 s wrk run just before): ` +
          `${rates.join(', ')} req/s; ${durationMs / 1000} s per server per run.`,
        'The generator is a Node.js process, so its own event loop adds to every latency alike ' +
          'for both servers; the ratio is the fair figure, the absolute p99 an upper bound.',
      ],
    };
  },
};

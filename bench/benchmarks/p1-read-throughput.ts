import type { Benchmark } from '../context.ts';
import { runWrk } from '../load/wrk.ts';
import { LOAD_CPU, loopbackUrl, SERVER_CPU, startReadFixture } from '../ours/read-fixture.ts';
import { makeRow } from '../result.ts';

const CONNECTIONS = 50;

/** P1: how many 1 KB reads per second an agent answers, against a bare node:http server. */
export const readThroughput: Benchmark = {
  id: 'p1',
  title: 'Read throughput',
  how:
    `wrk (1 thread, ${CONNECTIONS} keep-alive connections) pinned to CPU ${LOAD_CPU} sends ` +
    `GET of a 1 KB entry to an agent pinned to CPU ${SERVER_CPU}, then to a bare node:http ` +
    'server on the same CPU answering the same headers and body from memory. The two ' +
    'servers are measured alternately (ABBA order), so that a drift of the shared machine ' +
    'hits both; the figure is requests per second, the ratio agent ÷ node:http per pair.',
  async run(context) {
    const fixture = await startReadFixture(context);
    const durationSeconds = context.quick ? 2 : 5;
    const agentUrl = loopbackUrl(fixture.agentPort, fixture.path);
    const ceilingUrl = loopbackUrl(fixture.ceilingPort, fixture.path);
    const measure = async (url: string) => {
      const result = await runWrk({
        url,
        durationSeconds,
        connections: CONNECTIONS,
        cpus: LOAD_CPU,
      });
      if (result.errors > 0) throw new Error(`${result.errors} failed requests against ${url}`);
      return result.requestsPerSecond;
    };

    for (let i = 0; i < context.warmups; i++) {
      context.log('warm-up');
      await runWrk({ url: agentUrl, durationSeconds: 2, connections: CONNECTIONS, cpus: LOAD_CPU });
      await runWrk({
        url: ceilingUrl,
        durationSeconds: 2,
        connections: CONNECTIONS,
        cpus: LOAD_CPU,
      });
    }
    const ours: number[] = [];
    const ceiling: number[] = [];
    for (let run = 0; run < context.runs; run++) {
      if (run % 2 === 0) {
        ours.push(await measure(agentUrl));
        ceiling.push(await measure(ceilingUrl));
      } else {
        ceiling.push(await measure(ceilingUrl));
        ours.push(await measure(agentUrl));
      }
      context.log(
        `run ${run + 1}: agent ${ours.at(-1)!.toFixed(0)}/s, node:http ${ceiling.at(-1)!.toFixed(0)}/s`,
      );
    }

    return {
      rows: [
        makeRow({
          metric: 'GET of a 1 KB entry',
          unit: 'req/s',
          ours,
          peer: 'bare node:http',
          peerRuns: ceiling,
          goal: { on: 'ratio', op: '>=', target: 0.85, text: 'ratio ≥ 0.85' },
        }),
      ],
      notes: [
        `Answer: ${fixture.bodyBytes} bytes of body with the agent's headers ` +
          `(${Object.keys(fixture.headers).join(', ')}), copied byte for byte by the ceiling.`,
        `${durationSeconds} s per run, ${context.runs} runs each, one warm-up run each excluded.`,
      ],
    };
  },
};

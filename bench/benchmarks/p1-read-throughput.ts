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
    'servers (and, as a diagnostic, bare Hono serving the same bytes) are measured in rotating ' +
    'order, so that a drift of the shared machine hits all; the figure is requests per second, ' +
    'the ratio agent ÷ node:http run by run.',
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

    const honoUrl = loopbackUrl(fixture.honoPort, fixture.path);
    const servers = [
      { name: 'agent', url: agentUrl, runs: [] as number[] },
      { name: 'node:http', url: ceilingUrl, runs: [] as number[] },
      { name: 'Hono', url: honoUrl, runs: [] as number[] },
    ];
    for (let i = 0; i < context.warmups; i++) {
      context.log('warm-up');
      for (const server of servers) {
        await runWrk({
          url: server.url,
          durationSeconds: 2,
          connections: CONNECTIONS,
          cpus: LOAD_CPU,
        });
      }
    }
    // The order rotates from run to run, so that a drift of the shared machine hits all alike.
    for (let run = 0; run < context.runs; run++) {
      const shift = run % servers.length;
      for (const server of [...servers.slice(shift), ...servers.slice(0, shift)]) {
        server.runs.push(await measure(server.url));
      }
      context.log(
        `run ${run + 1}: ${servers.map((server) => `${server.name} ${server.runs.at(-1)!.toFixed(0)}/s`).join(', ')}`,
      );
    }
    const [ours, ceiling, hono] = servers.map((server) => server.runs) as [
      number[],
      number[],
      number[],
    ];

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
        makeRow({
          metric: 'GET of a 1 KB entry (diagnostic)',
          unit: 'req/s',
          ours,
          peer: 'bare Hono on @hono/node-server',
          peerRuns: hono,
        }),
      ],
      notes: [
        `Answer: ${fixture.bodyBytes} bytes of body with the agent's headers ` +
          `(${Object.keys(fixture.headers).join(', ')}), copied byte for byte by the ceiling.`,
        `${durationSeconds} s per run, ${context.runs} runs each, one warm-up run each excluded.`,
        "Diagnostic row: bare Hono on @hono/node-server (the framework of the agent's read " +
          "API) answering the same bytes on one route, to tell the framework's share of the " +
          "gap from the agent's own.",
      ],
    };
  },
};

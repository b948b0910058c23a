import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, type JsonValue } from '../../core/index.ts';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import {
  CORPUS_SKIP_REASON,
  catalogVersionFiles,
  hasCatalog,
  releaseCatalog,
  unpackCatalog,
} from '../support/corpus.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { agentTokenFor } from './fixture.ts';

const TENANT = 'catalog';
const KEY = 'models/catalog';
const VERSIONS = 100;
const WATCH_TIMEOUT_MS = 20_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

describe.skipIf(!hasCatalog())(
  `replay of the model catalog history with two agents${hasCatalog() ? '' : ` (${CORPUS_SKIP_REASON})`}`,
  () => {
    let origin: OriginProcess;
    let agents: AgentProcess[] = [];

    beforeAll(async () => {
      origin = await startOriginProcess();
      const token = await agentTokenFor(origin, [TENANT]);
      agents = await Promise.all(
        [0, 1].map(() => startAgentProcess({ origin: origin.url, token, tenants: [TENANT] })),
      );
    });

    afterAll(async () => {
      await Promise.all(agents.map((agent) => agent.dispose()));
      await origin?.dispose();
      releaseCatalog();
    });

    it(`gives every one of the first ${VERSIONS} versions the origin's hash at both agents`, async () => {
      const api = originApi(origin);
      const files = catalogVersionFiles(unpackCatalog()).slice(0, VERSIONS);
      expect(files).toHaveLength(VERSIONS);
      let fullValueBytes = 0;
      let previousRevision = 0;
      const propagationMs: number[] = [];
      const writeMs: number[] = [];

      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        fullValueBytes += Buffer.byteLength(JSON.stringify(JSON.parse(text)));

        // Watches wait at both agents for the revision after the last one seen.
        const watches = agents.map((agent) =>
          fetch(
            `${agent.url}/v1/tenants/${TENANT}/watch/${KEY}?after=${previousRevision}&timeout_ms=${WATCH_TIMEOUT_MS}`,
          ),
        );
        const started = performance.now();
        const arrivals = watches.map((watch) =>
          watch.then((response) => ({ response, at: performance.now() })),
        );
        const written = await api('PUT', `/v1/tenants/${TENANT}/entries/${KEY}`, { raw: text });
        expect(written.status).toBe(200);
        writeMs.push(performance.now() - started);
        const { revision, hash } = written.body as { revision: number; hash: string };

        const served = await Promise.all(arrivals);
        propagationMs.push(Math.max(...served.map(({ at }) => at)) - started);
        for (const { response } of served) {
          expect(response.status).toBe(200);
          expect(response.headers.get('etag')).toBe(`"${revision}"`);
          const value = (await response.json()) as JsonValue;
          expect(await contentHash(value)).toBe(hash);
        }
        previousRevision = revision;
      }

      const statuses = (await api('GET', '/v1/agents')).body as Array<{
        agentId: string;
        bytesSent: number;
        tenants: Record<string, { appliedRevision: number }>;
      }>;
      expect(statuses).toHaveLength(2);
      const sorted = [...propagationMs].sort((a, b) => a - b);
      for (const status of statuses) {
        expect(status.tenants[TENANT]!.appliedRevision).toBe(previousRevision);
        expect(status.bytesSent).toBeLessThan(fullValueBytes);
        console.info(
          `agent ${status.agentId}: ${status.bytesSent} bytes sent for ${VERSIONS} versions, ` +
            `against ${fullValueBytes} bytes of full values ` +
            `(${((100 * status.bytesSent) / fullValueBytes).toFixed(2)}%)`,
        );
      }
      const writes = [...writeMs].sort((a, b) => a - b);
      console.info(
        `write issued → both agents serving (ms): p50 ${percentile(sorted, 50).toFixed(1)}, ` +
          `p95 ${percentile(sorted, 95).toFixed(1)}, max ${sorted.at(-1)!.toFixed(1)}; ` +
          `the PUT alone: p50 ${percentile(writes, 50).toFixed(1)}, p95 ${percentile(writes, 95).toFixed(1)}`,
      );
    });
  },
);

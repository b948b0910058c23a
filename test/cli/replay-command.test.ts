import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, type JsonValue } from '../../core/index.ts';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { CORPUS_SKIP_REASON, corpusDir, hasCatalog } from '../support/corpus.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { runLcm } from './run-lcm.ts';

const TENANT = 'catalog';
const OTHER_TENANT = 'elsewhere';
const KEY = 'litellm/model-prices';
const VERSIONS = 50;
const corpusPresent = hasCatalog();
/** 50 versions of about 300 KB through two agents, with room for a busy machine. */
const REPLAY_TEST_TIMEOUT_MS = 120_000;

/** Unpacks only the first `count` versions of the catalog history into `folder`. */
function unpackFirstVersions(folder: string, count: number): void {
  const archive = join(corpusDir()!, 'model-prices-history/versions.tar.xz');
  const names = Array.from({ length: count }, (_, i) => `${String(i + 1).padStart(4, '0')}.json`);
  try {
    // GNU tar stops reading the archive once it has every name.
    execFileSync('tar', ['-xJf', archive, '-C', folder, '--occurrence=1', ...names]);
  } catch {
    execFileSync('tar', ['-xJf', archive, '-C', folder, ...names]);
  }
}

describe.skipIf(!corpusPresent)(
  `lcm replay of the model catalog history to two agents${corpusPresent ? '' : ` (${CORPUS_SKIP_REASON})`}`,
  () => {
    let origin: OriginProcess;
    let agents: AgentProcess[] = [];
    let bystander: AgentProcess;
    let versions: TempDir;

    beforeAll(async () => {
      versions = makeTempDir('lcm-replay');
      unpackFirstVersions(versions.path, VERSIONS);
      origin = await startOriginProcess();
      const api = originApi(origin);
      for (const tenant of [TENANT, OTHER_TENANT]) {
        await api('PUT', `/v1/tenants/${tenant}`, { body: {} });
      }
      const grant = { role: 'agent', tenants: [TENANT, OTHER_TENANT] };
      const { token } = (await api('POST', '/v1/tokens', { body: grant })).body as {
        token: string;
      };
      agents = await Promise.all(
        [1, 2].map(() => startAgentProcess({ origin: origin.url, token, tenants: [TENANT] })),
      );
      bystander = await startAgentProcess({ origin: origin.url, token, tenants: [OTHER_TENANT] });
    });

    afterAll(async () => {
      await Promise.all([...agents, bystander].map((agent) => agent?.dispose()));
      await origin?.dispose();
      versions?.remove();
    });

    it('writes 50 versions, reports propagation and bytes, and finds equal hashes at both agents', {
      timeout: REPLAY_TEST_TIMEOUT_MS,
    }, async () => {
      const run = await runLcm(
        [
          'replay',
          versions.path,
          '--tenant',
          TENANT,
          '--key',
          KEY,
          '--agents',
          agents.map((agent) => agent.url).join(','),
          '--json',
        ],
        { env: { LCM_ORIGIN: origin.url, LCM_TOKEN: origin.adminToken } },
      );
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout);

      const last = JSON.parse(
        readFileSync(join(versions.path, `00${VERSIONS}.json`), 'utf8'),
      ) as JsonValue;
      const lastHash = await contentHash(last);
      expect(report).toMatchObject({
        tenant: TENANT,
        key: KEY,
        versions: VERSIONS,
        firstRevision: 1,
        lastRevision: VERSIONS,
        originHash: lastHash,
        expectedHash: lastHash,
        ok: true,
      });
      expect(report.versionsPerSecond).toBeGreaterThan(0);
      expect(report.propagationMs.count).toBe(2 * VERSIONS);

      for (const [index, agentReport] of report.agents.entries()) {
        expect(agentReport.url).toBe(agents[index]!.url);
        expect(agentReport).toMatchObject({ arrived: VERSIONS, missing: [], hashMatches: true });
        expect(agentReport.finalHash).toBe(lastHash);
        const { p50, p95, p99, max } = agentReport.propagationMs;
        expect(p50).toBeLessThanOrEqual(p95);
        expect(p95).toBeLessThanOrEqual(p99);
        expect(p99).toBeLessThanOrEqual(max);
        // Deltas, not full values: the agent received far fewer bytes than were written.
        expect(agentReport.bytesReceived).toBeGreaterThan(0);
        expect(agentReport.bytesRatio).toBeLessThan(0.5);

        const atAgent = await fetch(`${agents[index]!.url}/v1/tenants/${TENANT}/entries/${KEY}`);
        expect(await atAgent.json()).toEqual(last);
      }
    });

    it('reports versions that never arrive at an agent after the timeout, with exit code 8', async () => {
      const firstThree = makeTempDir('lcm-replay-short');
      try {
        unpackFirstVersions(firstThree.path, 3);
        const run = await runLcm(
          [
            'replay',
            firstThree.path,
            '--tenant',
            TENANT,
            '--key',
            'short/model-prices',
            '--agents',
            `${agents[0]!.url},${bystander.url}`,
            '--timeout',
            '1500',
          ],
          { env: { LCM_ORIGIN: origin.url, LCM_TOKEN: origin.adminToken } },
        );
        expect(run.code).toBe(8);
        expect(run.stdout).toMatch(new RegExp(`${agents[0]!.url}\\s+3/3 .* match`));
        expect(run.stdout).toContain(`${bystander.url} never showed versions 1, 2, 3`);
        expect(run.stderr).toContain('1 agent(s) did not show every version in time');
      } finally {
        firstThree.remove();
      }
    });
  },
);

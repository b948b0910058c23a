import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Document, parseAllDocuments, parse as parseYaml } from 'yaml';
import { readConfigTree } from '../../cli/config-tree.ts';
import { type AgentProcess, startAgentProcess } from '../support/agent-process.ts';
import { CORPUS_SKIP_REASON, corpusDir } from '../support/corpus.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { runLcm } from './run-lcm.ts';

const TENANT = 'platform';
const CORPUS_TENANT = 'corpus';
const configFiles = corpusDir() && join(corpusDir()!, 'config-files');
const AGENT_WAIT_MS = 10_000;

let origin: OriginProcess;
let agent: AgentProcess;
let folder: TempDir;
let api: ReturnType<typeof originApi>;

async function writeTree(files: Record<string, string>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(folder.path, path)), { recursive: true });
    await writeFile(join(folder.path, path), text);
  }
}

function apply(...extra: string[]) {
  return runLcm(['apply', '-f', folder.path, '--tenant', TENANT, ...extra], {
    env: { LCM_ORIGIN: origin.url, LCM_TOKEN: origin.adminToken },
  });
}

async function headRevision(tenant = TENANT): Promise<number> {
  const response = await api('GET', `/v1/tenants/${tenant}`);
  return (response.body as { headRevision: number }).headRevision;
}

async function readAtAgent(key: string, revision: number, tenant = TENANT): Promise<unknown> {
  const deadline = Date.now() + AGENT_WAIT_MS;
  for (;;) {
    const response = await fetch(`${agent.url}/v1/tenants/${tenant}/entries/${key}`);
    const seen = Number(response.headers.get('x-config-revision') ?? 0);
    if (response.status === 200 && seen >= revision) return response.json();
    if (Date.now() > deadline) throw new Error(`${key} never reached revision ${revision}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

beforeAll(async () => {
  folder = makeTempDir('lcm-apply');
  origin = await startOriginProcess();
  api = originApi(origin);
  const tenants = [TENANT, CORPUS_TENANT];
  for (const tenant of tenants) await api('PUT', `/v1/tenants/${tenant}`, { body: {} });
  const created = await api('POST', '/v1/tokens', { body: { role: 'agent', tenants } });
  const { token } = created.body as { token: string };
  agent = await startAgentProcess({ origin: origin.url, token, tenants });
});

afterAll(async () => {
  await agent?.dispose();
  await origin?.dispose();
  folder?.remove();
});

describe('lcm apply', () => {
  const files = {
    'routers/default.yaml': 'default_route: chat\nroutes:\n  chat: {model: llama-3.1-8b}\n',
    'engines/vllm.json': '{"max_num_seqs": 256, "dtype": "bfloat16"}',
    'plugins.yml': '- pii-redaction\n- semantic-cache\n',
    'README.md': 'not a config',
  };

  it('plans a dry run without committing anything', async () => {
    await writeTree(files);
    const run = await apply('--dry-run');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('+ engines/vllm  (engines/vllm.json)');
    expect(run.stdout).toContain('plan: 3 to add, 0 to change, 0 to delete, 0 unchanged');
    expect(run.stdout).toContain('dry run: nothing committed');
    expect(await headRevision()).toBe(0);
  });

  it('commits every file in one revision, readable at the agent as the parsed file', async () => {
    const run = await apply('--json');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ committed: true, revision: 1, unchanged: 0 });
    expect(result.adds.map((add: { key: string }) => add.key).sort()).toEqual([
      'engines/vllm',
      'plugins',
      'routers/default',
    ]);

    expect(await readAtAgent('routers/default', 1)).toEqual(
      parseYaml(files['routers/default.yaml']),
    );
    expect(await readAtAgent('engines/vllm', 1)).toEqual(JSON.parse(files['engines/vllm.json']));
    expect(await readAtAgent('plugins', 1)).toEqual(['pii-redaction', 'semantic-cache']);
  });

  it('finds nothing to change on a second run and commits nothing', async () => {
    const run = await apply();
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('plan: 0 to add, 0 to change, 0 to delete, 3 unchanged');
    expect(run.stdout).toContain('nothing to change');
    expect(await headRevision()).toBe(1);
  });

  it('shows a change as a diff and deletes unnamed keys only with --prune', async () => {
    await writeTree({ 'engines/vllm.json': '{"max_num_seqs": 512, "dtype": "bfloat16"}' });
    await rm(join(folder.path, 'plugins.yml'));

    const withoutPrune = await apply('--dry-run');
    expect(withoutPrune.stdout).toContain('~ engines/vllm  (engines/vllm.json, at revision 1)');
    expect(withoutPrune.stdout).toContain('~ /max_num_seqs: 256 -> 512');
    expect(withoutPrune.stdout).toContain('plan: 0 to add, 1 to change, 0 to delete, 1 unchanged');

    const run = await apply('--prune');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('- plugins');
    expect(run.stdout).toContain('committed 2 changes to platform as revision 2');
    expect(await readAtAgent('engines/vllm', 2)).toEqual({ max_num_seqs: 512, dtype: 'bfloat16' });
    expect((await api('GET', `/v1/tenants/${TENANT}/entries/plugins`)).status).toBe(404);
  });

  it('fails without committing when a key changes between the plan and the commit', async () => {
    await writeTree({
      'engines/vllm.json': '{"max_num_seqs": 1024, "dtype": "bfloat16"}',
      'routers/canary.yaml': 'default_route: canary\n',
    });
    // A proxy in front of the origin lets someone else write the key right before the commit.
    const proxy = await startProxy(origin.url, async (path) => {
      if (path !== `/v1/tenants/${TENANT}/commits`) return;
      await api('PUT', `/v1/tenants/${TENANT}/entries/engines/vllm`, {
        body: { max_num_seqs: 64, dtype: 'float16' },
      });
    });
    try {
      const run = await runLcm(['apply', '-f', folder.path, '--tenant', TENANT], {
        env: { LCM_ORIGIN: proxy.url, LCM_TOKEN: origin.adminToken },
      });
      expect(run.code).toBe(5);
      expect(run.stderr).toContain('[revision_mismatch]');
      expect(run.stderr).toContain('nothing committed');
    } finally {
      await proxy.close();
    }

    expect(await headRevision()).toBe(3);
    expect((await api('GET', `/v1/tenants/${TENANT}/entries/engines/vllm`)).body).toEqual({
      max_num_seqs: 64,
      dtype: 'float16',
    });
    expect((await api('GET', `/v1/tenants/${TENANT}/entries/routers/canary`)).status).toBe(404);
  });

  it('names files that do not parse with line and column, and commits nothing', async () => {
    await writeTree({
      'broken.yaml': 'routes:\n  chat: [llama\n  code: qwen\n',
      'broken-too.json': '{\n  "a": 1,\n}\n',
    });
    const run = await apply('--json');
    expect(run.code).toBe(3);
    const { error } = JSON.parse(run.stderr);
    expect(error.kind).toBe('invalid');
    expect(error.details.problems).toEqual([
      expect.objectContaining({ file: 'broken-too.json', line: 3, column: 1 }),
      expect.objectContaining({ file: 'broken.yaml', line: 3 }),
    ]);

    const human = await apply();
    expect(human.stderr).toMatch(/broken-too\.json:3:1: /);
    expect(human.stderr).toContain('nothing committed');
    expect(await headRevision()).toBe(3);
    expect(await readFile(join(folder.path, 'broken.yaml'), 'utf8')).toContain('[llama');
  });
});

describe.skipIf(!configFiles)(
  `lcm apply of the corpus config files${configFiles ? '' : ` (${CORPUS_SKIP_REASON})`}`,
  () => {
    it('commits all 50 files in one revision, each readable at the agent as the parsed file', async () => {
      const run = await runLcm(['apply', '-f', configFiles!, '--tenant', CORPUS_TENANT, '--json'], {
        env: { LCM_ORIGIN: origin.url, LCM_TOKEN: origin.adminToken },
      });
      expect(run.code, run.stderr).toBe(0);
      const result = JSON.parse(run.stdout);
      expect(result).toMatchObject({ committed: true, revision: 1 });
      expect(result.adds).toHaveLength(50);
      expect(await headRevision(CORPUS_TENANT)).toBe(1);

      // The files as the CLI's own parser reads them: YAML streams of several documents are
      // arrays; every other file is its one document.
      const tree = await readConfigTree(configFiles!);
      expect(tree.problems).toEqual([]);
      expect(tree.documents).toHaveLength(50);
      for (const document of tree.documents) {
        const text = await readFile(join(configFiles!, document.file), 'utf8');
        const expected = document.file.endsWith('.json') ? JSON.parse(text) : yamlValue(text);
        expect(document.value, document.file).toEqual(expected);
        expect(await readAtAgent(document.key, 1, CORPUS_TENANT), document.file).toEqual(expected);
      }
    });
  },
);

/** A YAML file's value read independently: its one document, or the array of several. */
function yamlValue(text: string): unknown {
  const values = (parseAllDocuments(text) as Document[]).map((document) => document.toJS());
  return values.length === 1 ? values[0] : values;
}

interface Proxy {
  url: string;
  close(): Promise<void>;
}

/** A pass-through HTTP proxy that awaits `beforeForward(path)` before forwarding a request. */
async function startProxy(
  target: string,
  beforeForward: (path: string) => Promise<void>,
): Promise<Proxy> {
  const targetUrl = new URL(target);
  const server: Server = createServer(async (incoming, outgoing) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    await beforeForward(incoming.url ?? '');
    const forwarded = request(
      {
        host: targetUrl.hostname,
        port: targetUrl.port,
        path: incoming.url,
        method: incoming.method,
        headers: incoming.headers,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.end(Buffer.concat(chunks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

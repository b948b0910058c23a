import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contentHash, type JsonValue } from '../../core/index.ts';
import { EdgeAgent, resolveAgentConfig } from '../../edge-agent/index.ts';
import { originApi } from '../support/origin-api.ts';
import { type OriginProcess, startOriginProcess } from '../support/origin-process.ts';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { eventually } from './fixture.ts';
import { startTcpProxy } from './tcp-proxy.ts';

const ADMIN_TOKEN = 'admin-token-for-the-replication-model-test';
const KEYS = ['a', 'b', 'c/d', 'c/e'];
const MODEL_RUNS = 15;
const AGENT_COUNT = 2;

type Change =
  | { op: 'put'; key: string; value: JsonValue }
  | { op: 'patch'; key: string; member: string; value: JsonValue }
  | { op: 'delete'; key: string };

type Action =
  | { type: 'commit'; changes: Change[] }
  | { type: 'restart'; agent: number }
  | { type: 'disconnect'; agent: number }
  | { type: 'compact' };

const jsonLeaf = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
);
const objectValue = fc.dictionary(fc.constantFrom('x', 'y', 'z', 'w'), jsonLeaf, { maxKeys: 4 });
const change: fc.Arbitrary<Change> = fc.oneof(
  fc.record({
    op: fc.constant('put' as const),
    key: fc.constantFrom(...KEYS),
    value: objectValue as fc.Arbitrary<JsonValue>,
  }),
  fc.record({
    op: fc.constant('patch' as const),
    key: fc.constantFrom(...KEYS),
    member: fc.constantFrom('x', 'y', 'q'),
    value: jsonLeaf,
  }),
  fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }),
);
const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      type: fc.constant('commit' as const),
      changes: fc.uniqueArray(change, { minLength: 1, maxLength: 3, selector: (c) => c.key }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('restart' as const),
      agent: fc.integer({ min: 0, max: AGENT_COUNT - 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      type: fc.constant('disconnect' as const),
      agent: fc.integer({ min: 0, max: AGENT_COUNT - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'compact' as const }) },
);

describe('replication model: random writes, agent restarts, disconnects and compactions', () => {
  let origin: OriginProcess;
  let api: ReturnType<typeof originApi>;
  let run = 0;

  beforeAll(async () => {
    origin = await startOriginProcess({
      env: { LCM_ADMIN_TOKEN: ADMIN_TOKEN, LCM_RETAIN_REVISIONS: '3' },
    });
    api = originApi(origin);
  });

  afterAll(async () => {
    await origin?.dispose();
  });

  /** The origin's value hash of every key at `revision`, absent keys left out. */
  const originHashesAt = async (tenant: string, revision: number) => {
    const hashes = new Map<string, string>();
    if (revision === 0) return hashes;
    for (const key of KEYS) {
      const read = await api('GET', `/v1/tenants/${tenant}/entries/${key}?revision=${revision}`);
      if (read.status === 200) hashes.set(key, await contentHash(read.body as JsonValue));
    }
    return hashes;
  };

  /** What the agent serves, as one consistent listing: its revision and every key's hash. */
  const agentView = async (agent: EdgeAgent, tenant: string) => {
    const response = await fetch(`http://127.0.0.1:${agent.port}/v1/tenants/${tenant}/entries`);
    if (response.status === 503) return undefined;
    const listing = (await response.json()) as { items: Array<{ key: string; hash: string }> };
    const revision = Number(response.headers.get('x-config-revision'));
    return { revision, hashes: new Map(listing.items.map((item) => [item.key, item.hash])) };
  };

  it(`holds over ${MODEL_RUNS} random runs: every agent equals the origin at its revision`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 8, maxLength: 30 }), async (actions) => {
        const tenant = `model-${++run}`;
        expect((await api('PUT', `/v1/tenants/${tenant}`)).status).toBeLessThan(300);
        const proxies = await Promise.all(
          Array.from({ length: AGENT_COUNT }, () => startTcpProxy(origin.port)),
        );
        const dirs: TempDir[] = proxies.map(() => makeTempDir('lcm-model-agent'));
        const configs = proxies.map((proxy, i) =>
          resolveAgentConfig(
            {
              origin: `ws://127.0.0.1:${proxy.port}`,
              token: ADMIN_TOKEN,
              tenants: tenant,
              port: 0,
              data: dirs[i]!.path,
            },
            {},
          ),
        );
        const agents = await Promise.all(configs.map((config) => EdgeAgent.start(config)));
        const model = new Map<string, { [member: string]: JsonValue }>();

        try {
          for (const step of actions) {
            if (step.type === 'commit') {
              const changes = step.changes.flatMap((c): object[] => {
                const current = model.get(c.key);
                if (c.op === 'put') return [c];
                if (c.op === 'delete') return current === undefined ? [] : [c];
                if (current === undefined) return [];
                return [
                  {
                    op: 'patch',
                    key: c.key,
                    patch: [{ op: 'add', path: `/${c.member}`, value: c.value }],
                  },
                ];
              });
              if (changes.length === 0) continue;
              const committed = await api('POST', `/v1/tenants/${tenant}/commits`, {
                body: { changes },
              });
              expect(committed.status).toBe(200);
              for (const c of step.changes) {
                const current = model.get(c.key);
                if (c.op === 'put') model.set(c.key, c.value as { [member: string]: JsonValue });
                else if (c.op === 'delete') model.delete(c.key);
                else if (current !== undefined)
                  model.set(c.key, { ...current, [c.member]: c.value });
              }
            } else if (step.type === 'restart') {
              await agents[step.agent]!.stop();
              agents[step.agent] = await EdgeAgent.start(configs[step.agent]!);
              // Straight after a restart the agent serves its replica: a consistent past state.
              const view = await agentView(agents[step.agent]!, tenant);
              if (view !== undefined) {
                expect(view.hashes).toEqual(await originHashesAt(tenant, view.revision));
              }
            } else if (step.type === 'disconnect') {
              proxies[step.agent]!.cut();
            } else {
              expect((await api('POST', `/v1/tenants/${tenant}/compact`)).status).toBe(200);
            }
          }

          const head = (
            (await api('GET', `/v1/tenants/${tenant}`)).body as { headRevision: number }
          ).headRevision;
          for (const agent of agents) {
            const view = await eventually(async () => {
              const current = await agentView(agent, tenant);
              expect(current?.revision).toBe(head);
              return current!;
            }, 30_000);
            expect(view.hashes).toEqual(await originHashesAt(tenant, view.revision));
            for (const [key, value] of model) {
              const read = await fetch(
                `http://127.0.0.1:${agent.port}/v1/tenants/${tenant}/entries/${key}`,
              );
              expect(await read.json()).toEqual(value);
            }
            expect(view.hashes.size).toBe(model.size);
          }
        } finally {
          await Promise.all(agents.map((agent) => agent.stop()));
          await Promise.all(proxies.map((proxy) => proxy.close()));
          for (const dir of dirs) dir.remove();
        }
      }),
      { numRuns: MODEL_RUNS, seed: 7 },
    );
  });
});

import { readdir, readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { contentHash, type JsonValue } from '../core/index.ts';
import { AgentClient, metricValue } from './agent-client.ts';
import { CliError } from './cli-error.ts';
import { parseConfigText } from './config-tree.ts';
import type { OriginClient } from './origin-client.ts';
import {
  type AgentReport,
  type LatencySummary,
  propagationTimes,
  type ReplayReport,
  summarizeLatencies,
} from './replay-report.ts';

/** How long one watch request at an agent waits before it is renewed. */
export const WATCH_TIMEOUT_MS = 10_000;

/** The agent metric that counts bytes received from the origin. */
export const AGENT_BYTES_METRIC = 'lcm_agent_received_bytes_total';

/** Options of one replay. */
export interface ReplayOptions {
  origin: OriginClient;
  tenant: string;
  key: string;
  /** The files to write, in the order to write them. */
  files: string[];
  /** Agent base URLs to measure; none means writes only. */
  agents: string[];
  /** Most versions written per second; undefined for as fast as the origin answers. */
  ratePerSecond?: number;
  /** How long to wait, after the last write, for every agent to have the last version. */
  settleTimeoutMs: number;
  /** Called after every file read and checked, with the number prepared so far. */
  onPrepare?: (prepared: number) => void;
  /** Called after every write with the number of versions written. */
  onWrite?: (written: number) => void;
}

/** The files of a replay folder: every `.json`, `.yaml` and `.yml` file, by name. */
export async function replayFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && /\.(json|ya?ml)$/i.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  return names.map((name) => join(dir, name));
}

interface AgentWatch {
  client: AgentClient;
  seen: Array<{ revision: number; at: number }>;
  bytesBefore: number | undefined;
  done: Promise<void>;
}

/**
 * Writes each file as the next version of one key and measures how each version reaches the
 * agents: propagation times, bytes received against bytes written, and the final hashes.
 */
export async function runReplay(options: ReplayOptions): Promise<ReplayReport> {
  const { origin, tenant, key, files } = options;
  if (files.length === 0) throw new CliError('invalid', 'the folder holds no JSON or YAML file');

  const versions = await prepareVersions(files, options.onPrepare);
  const { fullValueBytes, lastValue } = versions;
  await ensureTenant(origin, tenant);
  const stop = new AbortController();
  const watches = await Promise.all(
    options.agents.map((url) => startWatch(new AgentClient(url), tenant, key, stop.signal)),
  );

  const revisions: number[] = [];
  const writtenAt: number[] = [];
  const started = performance.now();

  try {
    for (let i = 0; i < versions.bodies.length; i++) {
      await pace(started, i, options.ratePerSecond);
      const result = await origin.putEntryText(tenant, key, versions.bodies[i]!);
      writtenAt.push(performance.now());
      revisions.push(result.revision);
      options.onWrite?.(i + 1);
    }
  } catch (error) {
    stop.abort();
    throw error;
  }
  const writeMs = performance.now() - started;

  const lastRevision = revisions[revisions.length - 1]!;
  const settled = await settle(watches, lastRevision, options.settleTimeoutMs);
  stop.abort();
  await Promise.allSettled(watches.map((watch) => watch.done));
  const endToEndMs = watches.length === 0 || settled === undefined ? null : settled - started;

  const originRead = await origin.getEntry(tenant, key);
  const originHash = await contentHash(originRead.value);
  const expectedHash = await contentHash(lastValue);

  const agents = await Promise.all(
    watches.map((watch) =>
      agentReport(watch, { tenant, key, revisions, writtenAt, fullValueBytes, originHash }),
    ),
  );
  const allTimes = agents.flatMap((_, index) =>
    propagationTimes(revisions, writtenAt, watches[index]!.seen).filter(
      (time): time is number => time !== null,
    ),
  );

  return {
    tenant,
    key,
    versions: files.length,
    firstRevision: revisions[0] ?? null,
    lastRevision,
    fullValueBytes,
    writeMs: round(writeMs),
    versionsPerSecond: round((files.length * 1000) / writeMs),
    endToEndMs: endToEndMs === null ? null : round(endToEndMs),
    originHash,
    expectedHash,
    propagationMs: roundSummary(summarizeLatencies(allTimes)),
    agents,
    ok:
      originHash === expectedHash &&
      agents.every((agent) => agent.missing.length === 0 && agent.hashMatches),
  };
}

/** Every version as the compact JSON text to send, read and checked before the clock starts. */
interface PreparedVersions {
  bodies: Buffer[];
  fullValueBytes: number;
  lastValue: JsonValue;
}

/**
 * Reads, parses and checks every file before the first write, so that neither the timing of the
 * writes nor the watching of the agents waits on the CLI's own parsing. Holds every version in
 * memory: about the sum of their compact sizes.
 */
async function prepareVersions(
  files: string[],
  onPrepare?: (prepared: number) => void,
): Promise<PreparedVersions> {
  const bodies: Buffer[] = [];
  let fullValueBytes = 0;
  let lastValue: JsonValue = null;
  for (const file of files) {
    const text = await readFile(file, 'utf8');
    const parsed = parseConfigText(text, extname(file).toLowerCase());
    if (!('value' in parsed)) {
      const where = parsed.line ? `:${parsed.line}:${parsed.column}` : '';
      throw new CliError('invalid', `${file}${where}: ${parsed.message}`);
    }
    const body = Buffer.from(JSON.stringify(parsed.value));
    bodies.push(body);
    fullValueBytes += body.byteLength;
    lastValue = parsed.value;
    onPrepare?.(bodies.length);
  }
  return { bodies, fullValueBytes, lastValue };
}

async function ensureTenant(origin: OriginClient, tenant: string): Promise<void> {
  try {
    await origin.createTenant(tenant);
  } catch (error) {
    // A writer token may not create tenants; the writes will say whether the tenant exists.
    if (!(error instanceof CliError && error.kind === 'auth')) throw error;
  }
}

async function startWatch(
  client: AgentClient,
  tenant: string,
  key: string,
  signal: AbortSignal,
): Promise<AgentWatch> {
  const bytesBefore = await readAgentBytes(client);
  let after = 0;
  try {
    after = (await client.getEntry(tenant, key)).revision ?? 0;
  } catch (error) {
    // The key or the whole tenant may not be at the agent yet: every revision is then news.
    const notYet =
      error instanceof CliError && (error.kind === 'not_found' || error.code === 'not_synced');
    if (!notYet) throw error;
  }

  const seen: AgentWatch['seen'] = [];
  const loop = async (): Promise<void> => {
    while (!signal.aborted) {
      try {
        const result = await client.watch(tenant, key, after, WATCH_TIMEOUT_MS, signal);
        if (result.changed && result.revision !== undefined) {
          seen.push({ revision: result.revision, at: performance.now() });
          after = result.revision;
        }
      } catch (error) {
        if (signal.aborted) return;
        // An agent that restarts or drops a long poll is asked again shortly.
        await new Promise((resolve) => setTimeout(resolve, WATCH_RETRY_MS));
        if (!(error instanceof CliError)) throw error;
      }
    }
  };
  return { client, seen, bytesBefore, done: loop() };
}

/** Pause before asking an agent again after a failed watch. */
const WATCH_RETRY_MS = 50;

/** How often replay checks whether every agent has the last version. */
const SETTLE_CHECK_MS = 10;

async function settle(
  watches: AgentWatch[],
  lastRevision: number,
  timeoutMs: number,
): Promise<number | undefined> {
  const deadline = performance.now() + timeoutMs;
  const caughtUp = (watch: AgentWatch): boolean =>
    (watch.seen[watch.seen.length - 1]?.revision ?? 0) >= lastRevision;

  while (!watches.every(caughtUp)) {
    if (performance.now() > deadline) return undefined;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_CHECK_MS));
  }
  return Math.max(0, ...watches.map((watch) => watch.seen[watch.seen.length - 1]!.at));
}

async function agentReport(
  watch: AgentWatch,
  context: {
    tenant: string;
    key: string;
    revisions: number[];
    writtenAt: number[];
    fullValueBytes: number;
    originHash: string;
  },
): Promise<AgentReport> {
  const times = propagationTimes(context.revisions, context.writtenAt, watch.seen);
  const missing = times.flatMap((time, index) => (time === null ? [index + 1] : []));
  const arrived = times.filter((time): time is number => time !== null);

  const bytesAfter = await readAgentBytes(watch.client);
  const bytesReceived =
    bytesAfter === undefined || watch.bytesBefore === undefined
      ? null
      : bytesAfter - watch.bytesBefore;

  let finalHash: string | null = null;
  try {
    finalHash = await contentHash((await watch.client.getEntry(context.tenant, context.key)).value);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
  }

  return {
    url: watch.client.baseUrl,
    arrived: arrived.length,
    missing,
    propagationMs: roundSummary(summarizeLatencies(arrived)),
    bytesReceived,
    bytesSource: bytesReceived === null ? null : `agent metric ${AGENT_BYTES_METRIC}`,
    bytesRatio:
      bytesReceived === null || context.fullValueBytes === 0
        ? null
        : Math.round((bytesReceived / context.fullValueBytes) * 10_000) / 10_000,
    finalHash,
    hashMatches: finalHash === context.originHash,
  };
}

async function readAgentBytes(client: AgentClient): Promise<number | undefined> {
  try {
    return metricValue(await client.metrics(), AGENT_BYTES_METRIC);
  } catch (error) {
    if (error instanceof CliError) return undefined;
    throw error;
  }
}

async function pace(started: number, index: number, ratePerSecond: number | undefined) {
  if (!ratePerSecond) return;
  const due = started + (index * 1000) / ratePerSecond;
  const wait = due - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function roundSummary(summary: LatencySummary): LatencySummary {
  const roundOrNull = (value: number | null) => (value === null ? null : round(value));
  return {
    count: summary.count,
    p50: roundOrNull(summary.p50),
    p95: roundOrNull(summary.p95),
    p99: roundOrNull(summary.p99),
    max: roundOrNull(summary.max),
  };
}

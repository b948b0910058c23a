/** Propagation statistics, in milliseconds. */
export interface LatencySummary {
  /** How many propagation times were measured. */
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

/** What replay measured at one agent. */
export interface AgentReport {
  url: string;
  /** Versions readable at the agent before the timeout. */
  arrived: number;
  /** Versions (1-based sequence numbers) that never became readable at the agent. */
  missing: number[];
  propagationMs: LatencySummary;
  /** Bytes the agent received from the origin during the replay, when it was measurable. */
  bytesReceived: number | null;
  /** Where `bytesReceived` was read: the agent's metrics or the origin's agent list. */
  bytesSource: string | null;
  /** bytesReceived divided by the bytes of the full values written. */
  bytesRatio: number | null;
  /** Content hash of the key's value at the agent at the end. */
  finalHash: string | null;
  /** True when `finalHash` equals the origin's hash of the last version. */
  hashMatches: boolean;
}

/** The whole replay report, printed as a table or, with `--json`, as this document. */
export interface ReplayReport {
  tenant: string;
  key: string;
  versions: number;
  /** First and last revision the origin gave the replayed versions. */
  firstRevision: number | null;
  lastRevision: number | null;
  /** Sum of the bytes of every version's JSON text as written. */
  fullValueBytes: number;
  /** Time from the first write to the last write's 200, in milliseconds. */
  writeMs: number;
  /** Versions written per second. */
  versionsPerSecond: number;
  /** Time from the first write until every agent had the last version, in milliseconds. */
  endToEndMs: number | null;
  /** Content hash of the last version at the origin. */
  originHash: string | null;
  /** Content hash of the last file, parsed. */
  expectedHash: string | null;
  /** Every agent's propagation times together. */
  propagationMs: LatencySummary;
  agents: AgentReport[];
  /** True when every version arrived at every agent and every final hash matches. */
  ok: boolean;
}

/**
 * The value below which `fraction` of `sorted` lies (nearest-rank method), or null for no
 * samples. `sorted` must be in ascending order.
 */
export function percentile(sorted: number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil(fraction * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** The p50, p95, p99 and max of a set of propagation times. */
export function summarizeLatencies(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.length === 0 ? null : sorted[sorted.length - 1]!,
  };
}

/**
 * The time each version took to become readable at an agent. A version counts as readable from
 * the first moment the agent shows the key at that revision or a later one: the origin may send
 * several commits in one frame, and a reader never sees the skipped ones on their own.
 * `writtenAt[i]` is when the origin acknowledged version i with `revisions[i]`; `seen` lists
 * (revision, time) pairs observed at the agent in order. Times before the acknowledgement count
 * as 0: the agent may be told before the writer hears back.
 */
export function propagationTimes(
  revisions: number[],
  writtenAt: number[],
  seen: Array<{ revision: number; at: number }>,
): Array<number | null> {
  const times: Array<number | null> = [];
  let next = 0;
  for (let i = 0; i < revisions.length; i++) {
    while (next < seen.length && seen[next]!.revision < revisions[i]!) next++;
    const sighting = seen[next];
    times.push(sighting ? Math.max(0, sighting.at - writtenAt[i]!) : null);
  }
  return times;
}

import { pairedRatio, type Summary, summarize } from './support/stats.ts';

/** A goal a figure must hold: `on` says which figure, `op` and `target` the bound. */
export interface Goal {
  /** Which figure the goal bounds: the ratio ours ÷ peer, or our own figure. */
  on: 'ratio' | 'ours';
  op: '<=' | '>=' | '<';
  target: number;
  /** The goal as the issue states it, for people. */
  text: string;
}

/** One line of the results table. */
export interface ResultRow {
  /** What is measured, e.g. `req/s, GET of a 1 KB entry`. */
  metric: string;
  unit: string;
  /** Our figure over the measured runs; null when it could not be measured. */
  ours: Summary | null;
  /** The peer's name, e.g. `etcd 3.4 watch`; null for an absolute goal. */
  peer: string | null;
  /** The peer's figure over the runs measured next to ours. */
  peerValue: Summary | null;
  /** `measured` in this run, or `issue` when the figure is the reference, not measured. */
  peerSource: 'measured' | 'issue' | null;
  /** Ours ÷ peer, run by run. */
  ratio: Summary | null;
  goal: Goal | null;
  /** Whether the goal holds at the median; null when there is no goal or no figure. */
  holds: boolean | null;
}

/** What one benchmark reports. */
export interface BenchmarkOutcome {
  rows: ResultRow[];
  /** Scale reductions, durability settings, causes of missed goals, anything a reader needs. */
  notes: string[];
}

/** One benchmark's entry in the results file. */
export interface BenchmarkResult extends BenchmarkOutcome {
  id: string;
  title: string;
  /** What is measured and how, in a few sentences. */
  how: string;
  status: 'ok' | 'skipped' | 'failed';
  /** Why it was skipped or how it failed. */
  reason?: string;
  quick: boolean;
  startedAt: string;
  durationMs: number;
}

/** Input of {@link makeRow}. */
export interface RowInput {
  metric: string;
  unit: string;
  ours: readonly number[] | null;
  peer?: string;
  peerRuns?: readonly number[] | null;
  peerSource?: 'measured' | 'issue';
  goal?: Goal;
}

/** Builds a table row: summaries, the paired ratio and whether the goal holds. */
export function makeRow(input: RowInput): ResultRow {
  const ours = input.ours && input.ours.length > 0 ? summarize(input.ours) : null;
  const peerRuns = input.peerRuns ?? null;
  const peerValue = peerRuns && peerRuns.length > 0 ? summarize(peerRuns) : null;
  const ratio =
    input.ours && peerRuns && input.ours.length > 0 && peerRuns.length > 0
      ? input.peerSource === 'issue'
        ? summarize(input.ours.map((value) => value / peerValue!.median))
        : pairedRatio(input.ours, peerRuns)
      : null;
  const goal = input.goal ?? null;
  let holds: boolean | null = null;
  if (goal) {
    const figure = goal.on === 'ratio' ? ratio?.median : ours?.median;
    if (figure !== undefined && Number.isFinite(figure)) holds = compare(figure, goal);
  }
  return {
    metric: input.metric,
    unit: input.unit,
    ours,
    peer: input.peer ?? null,
    peerValue,
    peerSource: input.peer ? (input.peerSource ?? 'measured') : null,
    ratio,
    goal,
    holds,
  };
}

function compare(figure: number, goal: Goal): boolean {
  if (goal.op === '<=') return figure <= goal.target;
  if (goal.op === '>=') return figure >= goal.target;
  return figure < goal.target;
}

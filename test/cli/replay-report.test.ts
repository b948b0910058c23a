import { describe, expect, it } from 'vitest';
import { percentile, propagationTimes, summarizeLatencies } from '../../cli/replay-report.ts';

describe('percentile', () => {
  it('uses the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 0.5)).toBe(50);
    expect(percentile(sorted, 0.95)).toBe(95);
    expect(percentile(sorted, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNull();
  });
});

describe('summarizeLatencies', () => {
  it('gives count, p50, p95, p99 and max of unsorted samples', () => {
    expect(summarizeLatencies([5, 1, 3, 2, 4])).toEqual({
      count: 5,
      p50: 3,
      p95: 5,
      p99: 5,
      max: 5,
    });
    expect(summarizeLatencies([])).toEqual({
      count: 0,
      p50: null,
      p95: null,
      p99: null,
      max: null,
    });
  });
});

describe('propagationTimes', () => {
  it('counts a version as arrived when the agent shows its revision or a later one', () => {
    const revisions = [11, 12, 13, 14];
    const writtenAt = [100, 110, 120, 130];
    // The agent got 11 alone, then 12 and 13 in one frame, and never 14.
    const seen = [
      { revision: 11, at: 104 },
      { revision: 13, at: 125 },
    ];
    expect(propagationTimes(revisions, writtenAt, seen)).toEqual([4, 15, 5, null]);
  });

  it('counts a version seen before the writer heard back as 0, not negative', () => {
    expect(propagationTimes([1], [50], [{ revision: 1, at: 49 }])).toEqual([0]);
  });
});

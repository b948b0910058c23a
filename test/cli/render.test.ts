import { describe, expect, it } from 'vitest';
import { metricValue } from '../../cli/agent-client.ts';
import { EXIT_CODES, kindOfStatus } from '../../cli/cli-error.ts';
import { pointerGet, renderValueDiff } from '../../cli/json-diff-view.ts';
import { formatTable, type Painter } from '../../cli/output.ts';

const plain: Painter = (_style, text) => text;
const tagged: Painter = (style, text) => `<${style}>${text}`;

describe('renderValueDiff', () => {
  it('draws one line per change: + added, - removed with the old value, ~ old -> new', () => {
    const before = { model: 'llama', weight: 80, stop: ['a'], gone: true };
    const after = { model: 'qwen', weight: 80, stop: ['a', 'b'] };
    expect(renderValueDiff(before, after, plain, '')).toEqual([
      '- /gone: true',
      '+ /stop/1: "b"',
      '~ /model: "llama" -> "qwen"',
    ]);
  });

  it('colors additions green, removals red and replacements yellow', () => {
    const lines = renderValueDiff({ a: 1, b: 1 }, { a: 2, c: 1 }, tagged, '');
    expect(lines).toContain('<green>+ /c: 1');
    expect(lines).toContain('<red>- /b: 1');
    expect(lines).toContain('<yellow>~ /a: 1 -> 2');
  });

  it('cuts long values and counts the changes past the limit', () => {
    const lines = renderValueDiff({}, { long: 'x'.repeat(500) }, plain, '');
    expect(lines[0]!.length).toBeLessThan(130);
    expect(lines[0]!.endsWith('...')).toBe(true);

    const many = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`k${i}`, i]));
    const manyLines = renderValueDiff({}, many, plain, '');
    expect(manyLines.at(-1)).toBe('... and 20 more changes');
  });
});

describe('pointerGet', () => {
  it('follows RFC 6901 pointers with ~0 and ~1 escapes', () => {
    const value = { 'a/b': { '~c': [10, 20] } };
    expect(pointerGet(value, '/a~1b/~0c/1')).toBe(20);
    expect(pointerGet(value, '/missing/x')).toBeUndefined();
    expect(pointerGet(value, '')).toBe(value);
  });
});

describe('formatTable', () => {
  it('aligns columns under the header', () => {
    expect(
      formatTable(
        ['KEY', 'REV'],
        [
          ['a', 1],
          ['longer/key', 12],
        ],
      ),
    ).toBe('KEY         REV\na           1\nlonger/key  12');
  });
});

describe('kindOfStatus', () => {
  it('maps HTTP statuses to exit codes that tell failures apart', () => {
    const exitOf = (status: number) => EXIT_CODES[kindOfStatus(status)];
    expect([400, 413, 422].map(exitOf)).toEqual([3, 3, 3]);
    expect(exitOf(404)).toBe(4);
    expect([409, 410, 412].map(exitOf)).toEqual([5, 5, 5]);
    expect([401, 403].map(exitOf)).toEqual([6, 6]);
    expect([429, 500, 503].map(exitOf)).toEqual([7, 7, 7]);
  });
});

describe('metricValue', () => {
  it('sums a counter over its label sets and ignores comments and other metrics', () => {
    const text = [
      '# HELP lcm_agent_received_bytes_total Bytes',
      '# TYPE lcm_agent_received_bytes_total counter',
      'lcm_agent_received_bytes_total{tenant="a"} 100',
      'lcm_agent_received_bytes_total{tenant="b"} 23',
      'lcm_agent_received_bytes_total_other 5',
    ].join('\n');
    expect(metricValue(text, 'lcm_agent_received_bytes_total')).toBe(123);
    expect(metricValue(text, 'absent_metric')).toBeUndefined();
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyOfFile, parseConfigText, readConfigTree } from '../../cli/config-tree.ts';
import { findJsonSyntaxError, positionAt } from '../../cli/json-error-position.ts';

const folders: string[] = [];

async function folderWith(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lcm-tree-'));
  folders.push(dir);
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

afterEach(async () => {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('readConfigTree', () => {
  it('turns every JSON and YAML file into the key of its path without extension', async () => {
    const dir = await folderWith({
      'routers/prod.yaml': 'default: gpt-4o\nfallback: [llama-3]\n',
      'engine.json': '{"max_num_seqs": 256}',
      'plugins/list.yml': '- guardrails\n- cache\n',
      'manifest.csv': 'not,a,config\n',
      '.hidden/x.json': '{}',
    });
    const tree = await readConfigTree(dir, 'platform');
    expect(tree.problems).toEqual([]);
    expect(tree.documents).toEqual([
      { file: 'engine.json', key: 'platform/engine', value: { max_num_seqs: 256 } },
      { file: 'plugins/list.yml', key: 'platform/plugins/list', value: ['guardrails', 'cache'] },
      {
        file: 'routers/prod.yaml',
        key: 'platform/routers/prod',
        value: { default: 'gpt-4o', fallback: ['llama-3'] },
      },
    ]);
  });

  it('names files that do not parse with line and column, and bad or duplicate keys', async () => {
    const dir = await folderWith({
      'good.json': '{"a": 1}',
      'broken.json': '{\n  "a": 1,\n  "b": \n}\n',
      'other.yaml': 'a: 1\nb: [1, 2\nc: 3\n',
      'twice.json': '{}',
      'twice.yaml': 'x: 1\n',
      'bad key!.json': '{}',
    });
    const tree = await readConfigTree(dir);
    expect(tree.documents.map((document) => document.key)).toEqual(['good', 'twice']);
    expect(tree.problems).toEqual([
      expect.objectContaining({ file: 'bad key!.json', message: expect.stringMatching(/key/) }),
      expect.objectContaining({ file: 'broken.json', line: 4, column: 1 }),
      expect.objectContaining({ file: 'other.yaml', line: 3, column: 1 }),
      expect.objectContaining({ file: 'twice.yaml', message: expect.stringMatching(/same key/) }),
    ]);
  });
});

describe('parseConfigText', () => {
  it('reads a YAML stream of several documents as an array, dropping empty ones', () => {
    expect(parseConfigText('a: 1\n---\nb: 2\n---\n', '.yaml')).toEqual({
      value: [{ a: 1 }, { b: 2 }],
    });
  });

  it('keeps YAML 1.2 scalars as JSON would: dates and yes stay strings', () => {
    expect(parseConfigText('d: 2024-01-01\nf: yes\nn: 0x1F\n', '.yml')).toEqual({
      value: { d: '2024-01-01', f: 'yes', n: 31 },
    });
  });

  it('refuses what is not JSON: infinities, __proto__ members, duplicate keys', () => {
    expect(parseConfigText('x: .inf\n', '.yaml')).toMatchObject({ message: /finite/ });
    expect(parseConfigText('{"__proto__": {"polluted": 1}}', '.json')).toMatchObject({
      message: /__proto__/,
    });
    expect(parseConfigText('a: 1\na: 2\n', '.yaml')).toMatchObject({ line: 2, column: 1 });
  });

  it('refuses a JSON text nested deeper than the limit without parsing it', () => {
    expect(parseConfigText('['.repeat(10_000), '.json')).toMatchObject({ message: /deeper/ });
  });
});

describe('findJsonSyntaxError', () => {
  it.each([
    ['{"a": 1}', undefined],
    ['{"a": }', 6],
    ['{"a": 1,}', 8],
    ['[1, 2', 5],
    ['{"a": tru}', 6],
    ['{"a": "x\ny"}', 8],
    ['"\\q"', 1],
    ['{} x', 3],
    ['', 0],
  ])('finds the first error of %j at offset %s', (text, offset) => {
    expect(findJsonSyntaxError(text)?.offset).toBe(offset);
  });

  it('agrees with JSON.parse on which texts are valid', () => {
    for (const text of ['0', '-0.5e+3', '"\\u00e9"', '[[], {}]', '01', '1.', '.5', '+1', 'nul']) {
      let valid = true;
      try {
        JSON.parse(text);
      } catch {
        valid = false;
      }
      expect(findJsonSyntaxError(text) === undefined, text).toBe(valid);
    }
  });

  it('turns an offset into a 1-based line and column', () => {
    expect(positionAt('ab\ncd\nef', 4)).toEqual({ line: 2, column: 2 });
    expect(positionAt('x', 0)).toEqual({ line: 1, column: 1 });
  });
});

describe('keyOfFile', () => {
  it('joins the prefix with one slash', () => {
    expect(keyOfFile('a/b.yaml', '')).toBe('a/b');
    expect(keyOfFile('a/b.yaml', 'p')).toBe('p/a/b');
    expect(keyOfFile('a/b.yaml', 'p/')).toBe('p/a/b');
  });
});

import { readdir, readFile } from 'node:fs/promises';
import { extname, join, relative, sep } from 'node:path';
import { parseAllDocuments } from 'yaml';
import {
  assertJsonValue,
  DEFAULT_VALUE_LIMITS,
  type JsonValue,
  jsonByteLength,
  jsonTextDepth,
  keyProblem,
} from '../core/index.ts';
import { findJsonSyntaxError, positionAt } from './json-error-position.ts';

/** File name endings that `apply` reads; everything else under the folder is left alone. */
export const CONFIG_EXTENSIONS = ['.json', '.yaml', '.yml'];

/** How many YAML aliases a file may expand, against "billion laughs" files. */
export const MAX_YAML_ALIASES = 1000;

/** One parsed file: the key it becomes and its value. */
export interface ConfigDocument {
  /** Path relative to the folder, with `/` separators. */
  file: string;
  key: string;
  value: JsonValue;
}

/** A file that cannot become an entry, with where and why. */
export interface FileProblem {
  file: string;
  /** 1-based, when the problem has a place in the file. */
  line?: number;
  column?: number;
  message: string;
}

/** What a folder holds: the files that parsed and the problems of the others. */
export interface ConfigTree {
  documents: ConfigDocument[];
  problems: FileProblem[];
}

/**
 * Reads every JSON and YAML file under `dir` (sorted by path). Each becomes the key of its
 * relative path without extension, after `prefix`. A YAML file with several documents becomes
 * an array of them. Hidden files and folders (a name starting with a dot) are skipped. Files that do not parse, keys that are not valid, and two files that map to
 * the same key are reported as problems; nothing is thrown for them.
 */
export async function readConfigTree(dir: string, prefix = ''): Promise<ConfigTree> {
  const files = (await listFiles(dir))
    .filter((path) => CONFIG_EXTENSIONS.includes(extname(path).toLowerCase()))
    .sort();
  const documents: ConfigDocument[] = [];
  const problems: FileProblem[] = [];
  const fileOfKey = new Map<string, string>();

  for (const path of files) {
    const file = relative(dir, path).split(sep).join('/');
    const key = keyOfFile(file, prefix);
    const badKey = keyProblem(key);
    if (badKey) {
      problems.push({ file, message: `the key "${key}" is not valid: ${badKey}` });
      continue;
    }
    const earlier = fileOfKey.get(key);
    if (earlier) {
      problems.push({ file, message: `${earlier} becomes the same key "${key}"` });
      continue;
    }
    fileOfKey.set(key, file);

    const parsed = parseConfigText(await readFile(path, 'utf8'), extname(path).toLowerCase());
    if ('message' in parsed) problems.push({ file, ...parsed });
    else documents.push({ file, key, value: parsed.value });
  }
  return { documents, problems };
}

/** The key of a file: `prefix` joined to its relative path without the extension. */
export function keyOfFile(file: string, prefix = ''): string {
  const path = file.slice(0, file.length - extname(file).length);
  if (!prefix) return path;
  return prefix.endsWith('/') ? `${prefix}${path}` : `${prefix}/${path}`;
}

/**
 * Parses the text of a `.json`, `.yaml` or `.yml` file into a JSON value within the default
 * limits, or says where and why it fails.
 */
export function parseConfigText(
  text: string,
  extension: string,
): { value: JsonValue } | Omit<FileProblem, 'file'> {
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const parsed = extension === '.json' ? parseJsonText(source) : parseYamlText(source);
  if (!('value' in parsed)) return parsed;

  try {
    assertJsonValue(parsed.value, DEFAULT_VALUE_LIMITS);
  } catch (error) {
    return { message: (error as Error).message };
  }
  if (jsonByteLength(parsed.value) > DEFAULT_VALUE_LIMITS.maxBytes) {
    return { message: `the value is larger than ${DEFAULT_VALUE_LIMITS.maxBytes} bytes` };
  }
  return { value: parsed.value };
}

function parseJsonText(text: string): { value: unknown } | Omit<FileProblem, 'file'> {
  if (jsonTextDepth(text) > DEFAULT_VALUE_LIMITS.maxDepth) {
    return { message: `the value nests deeper than ${DEFAULT_VALUE_LIMITS.maxDepth} levels` };
  }
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    const found = findJsonSyntaxError(text);
    if (!found) return { message: (error as Error).message };
    return { ...positionAt(text, found.offset), message: found.message };
  }
}

function parseYamlText(text: string): { value: unknown } | Omit<FileProblem, 'file'> {
  const documents = parseAllDocuments(text, { uniqueKeys: true });
  if (!Array.isArray(documents)) return { value: null };

  for (const document of documents) {
    const error = document.errors[0];
    if (!error) continue;
    const where = error.linePos?.[0];
    const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    return { line: where?.line, column: where?.col, message };
  }

  try {
    const values = documents.map((document) => document.toJS({ maxAliasCount: MAX_YAML_ALIASES }));
    // As kubectl does, empty documents of a stream (a trailing `---`, say) are not values.
    const present = values.length > 1 ? values.filter((value) => value !== null) : values;
    if (present.length === 0) return { value: null };
    return { value: present.length === 1 ? present[0] : present };
  } catch (error) {
    return { message: (error as Error).message };
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await listFiles(path)));
    else if (entry.isFile()) files.push(path);
  }
  return files;
}

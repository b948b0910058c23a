import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { JsonValue } from '../core/index.ts';
import { CliError } from './cli-error.ts';
import { parseConfigText } from './config-tree.ts';

/** Where a command's value comes from: an argument, a file (`-` for stdin) or piped stdin. */
export interface ValueSource {
  /** The value as a JSON text given on the command line. */
  argument?: string;
  /** `--file PATH`; `.yaml`/`.yml` files are read as YAML, anything else as JSON. */
  file?: string;
  /**
   * Take JSON text that does not parse, and does not start like a JSON object, array or string,
   * as a string (`sk-live-...` for `"sk-live-..."`), without one trailing line break. For
   * `secret put`, whose values are often bare tokens.
   */
  bareString?: boolean;
}

/** Text that opens like a JSON object, array or string: a typo in it stays an error. */
const JSON_OPENING = /^\s*[[{"]/;

/**
 * Reads the JSON value a command writes. With neither an argument nor a file, standard input is
 * read when it is not a terminal. Errors name the line and column of bad JSON or YAML.
 */
export async function readValue(source: ValueSource, what = 'value'): Promise<JsonValue> {
  if (source.argument !== undefined && source.file !== undefined) {
    throw new CliError('usage', `give the ${what} as an argument or with --file, not both`);
  }
  const bare = source.bareString === true;
  if (source.argument !== undefined) {
    return parseText(source.argument, '.json', `the ${what}`, bare);
  }

  if (source.file !== undefined && source.file !== '-') {
    let text: string;
    try {
      text = await readFile(source.file, 'utf8');
    } catch (error) {
      throw new CliError('usage', `cannot read ${source.file}: ${(error as Error).message}`);
    }
    const extension = extname(source.file).toLowerCase();
    return parseText(
      text,
      extension === '.yaml' || extension === '.yml' ? extension : '.json',
      source.file,
      bare,
    );
  }

  if (source.file === undefined && process.stdin.isTTY) {
    throw new CliError('usage', `give the ${what} as an argument, with --file, or on stdin`);
  }
  return parseText(await readStdin(), '.json', 'standard input', bare);
}

function parseText(text: string, extension: string, where: string, bare = false): JsonValue {
  const parsed = parseConfigText(text, extension);
  if ('value' in parsed) return parsed.value;
  if (bare && extension === '.json' && text.trim() !== '' && !JSON_OPENING.test(text)) {
    return text.replace(/\r?\n$/, '');
  }
  const position = parsed.line ? `:${parsed.line}:${parsed.column}` : '';
  throw new CliError('invalid', `${where}${position}: ${parsed.message}`, { code: 'bad_json' });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

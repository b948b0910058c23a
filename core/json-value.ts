import { LcmError } from './errors.ts';
import { DEFAULT_VALUE_LIMITS, type ValueLimits } from './limits.ts';

/** A JSON value as stored in an entry. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextEncoder();

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * The deepest nesting of arrays and objects in a JSON text, found without parsing it, so that a
 * hostile body of a million `[` is refused before the parser sees it.
 */
export function jsonTextDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return deepest;
}

/**
 * Parses a request body into a JSON value within `limits`. Throws `too_large`, `bad_json`
 * (invalid UTF-8 or JSON), `too_deep` or `unsafe_number`.
 */
export function parseJsonValue(
  body: string | Uint8Array,
  limits: ValueLimits = DEFAULT_VALUE_LIMITS,
): JsonValue {
  const size = typeof body === 'string' ? utf8.encode(body).length : body.byteLength;
  if (size > limits.maxBytes) {
    throw new LcmError('too_large', `the value is larger than ${limits.maxBytes} bytes`);
  }

  let text: string;
  try {
    text = typeof body === 'string' ? body : strictUtf8.decode(body);
  } catch (error) {
    throw new LcmError('bad_json', 'the body is not valid UTF-8', { cause: error });
  }

  if (jsonTextDepth(text) > limits.maxDepth) {
    throw new LcmError('too_deep', `the value nests deeper than ${limits.maxDepth} levels`);
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // The parser's own message quotes the text around the fault, which may be part of a secret:
    // only the position goes into the error, and the parser's error is not kept as its cause.
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    const where = position === undefined ? '' : ` (near byte ${position})`;
    throw new LcmError('bad_json', `the body is not JSON${where}`);
  }
  assertJsonValue(value, limits);
  return value as JsonValue;
}

/**
 * Checks that `value` is plain JSON within `limits`: no `undefined`, functions or symbols, only
 * finite numbers with integers inside the exact range of a double, no `__proto__` member, and no
 * deeper than allowed. Throws `bad_value`, `unsafe_number` or `too_deep`. Size is checked by the
 * caller, which usually has the serialized text already.
 */
export function assertJsonValue(
  value: unknown,
  limits: Pick<ValueLimits, 'maxDepth'> = DEFAULT_VALUE_LIMITS,
): asserts value is JsonValue {
  const pending: Array<{ node: unknown; depth: number }> = [{ node: value, depth: 0 }];

  while (pending.length > 0) {
    const { node, depth } = pending.pop()!;
    if (node === null || typeof node === 'boolean') continue;
    if (typeof node === 'string') {
      assertWellFormed(node);
      continue;
    }

    if (typeof node === 'number') {
      if (!Number.isFinite(node)) {
        throw new LcmError('unsafe_number', 'numbers must be finite (no NaN or Infinity)');
      }
      if (Number.isInteger(node) && !Number.isSafeInteger(node)) {
        throw new LcmError(
          'unsafe_number',
          'integers beyond 2^53 cannot be kept exact; send them as strings',
        );
      }
      continue;
    }

    if (typeof node !== 'object') {
      throw new LcmError('bad_value', `a ${typeof node} is not a JSON value`);
    }
    if (depth + 1 > limits.maxDepth) {
      throw new LcmError('too_deep', `the value nests deeper than ${limits.maxDepth} levels`);
    }

    if (Array.isArray(node)) {
      for (const item of node) pending.push({ node: item, depth: depth + 1 });
      continue;
    }

    const prototype = Object.getPrototypeOf(node);
    if (prototype !== Object.prototype && prototype !== null) {
      throw new LcmError('bad_value', 'only plain objects are JSON values');
    }
    for (const member of Object.keys(node)) {
      assertWellFormed(member);
      if (member === '__proto__') {
        throw new LcmError('bad_value', 'a member named __proto__ is not allowed');
      }
      pending.push({ node: (node as Record<string, unknown>)[member], depth: depth + 1 });
    }
  }
}

/**
 * A string with a lone UTF-16 surrogate has no UTF-8 form: msgpack and every other encoder turn
 * it into U+FFFD, so its value, and its content hash, would differ at the edge.
 */
function assertWellFormed(text: string): void {
  if (!(text as string & { isWellFormed(): boolean }).isWellFormed()) {
    throw new LcmError('bad_value', 'strings must be valid Unicode (a lone surrogate is not)');
  }
}

/** Size in bytes of the JSON text of `value`. */
export function jsonByteLength(value: JsonValue): number {
  return utf8.encode(JSON.stringify(value)).length;
}

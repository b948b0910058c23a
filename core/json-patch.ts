import jsonPatch from 'fast-json-patch';
import { LcmError } from './errors.ts';
import type { JsonValue } from './json-value.ts';

/** One RFC 6902 JSON Patch operation. */
export type PatchOperation =
  | { op: 'add' | 'replace' | 'test'; path: string; value: JsonValue }
  | { op: 'remove'; path: string }
  | { op: 'move' | 'copy'; path: string; from: string };

/** An RFC 6902 JSON Patch document. */
export type JsonPatch = PatchOperation[];

const OPS_WITH_VALUE = new Set(['add', 'replace', 'test']);
const OPS_WITH_FROM = new Set(['move', 'copy']);
const BANNED_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks that `patch` is a well-formed RFC 6902 document that touches no `__proto__`,
 * `constructor` or `prototype` member. Throws `invalid_patch` naming the first bad operation.
 */
export function assertJsonPatch(patch: unknown): asserts patch is JsonPatch {
  if (!Array.isArray(patch)) throw new LcmError('invalid_patch', 'a JSON Patch is an array');

  patch.forEach((operation, index) => {
    const where = `operation ${index}`;
    if (operation === null || typeof operation !== 'object' || Array.isArray(operation)) {
      throw new LcmError('invalid_patch', `${where} is not an object`);
    }
    const { op, path, from } = operation as Record<string, unknown>;
    if (
      typeof op !== 'string' ||
      !(OPS_WITH_VALUE.has(op) || OPS_WITH_FROM.has(op) || op === 'remove')
    ) {
      throw new LcmError('invalid_patch', `${where} has an unknown op`);
    }
    assertPointer(path, `${where} path`);
    if (OPS_WITH_VALUE.has(op) && !Object.hasOwn(operation, 'value')) {
      throw new LcmError('invalid_patch', `${where} (${op}) needs a value`);
    }
    if (OPS_WITH_FROM.has(op)) assertPointer(from, `${where} from`);
  });
}

function assertPointer(pointer: unknown, what: string): void {
  if (typeof pointer !== 'string') throw new LcmError('invalid_patch', `${what} is not a string`);
  if (pointer !== '' && !pointer.startsWith('/')) {
    throw new LcmError('invalid_patch', `${what} is not a JSON Pointer`);
  }
  for (const segment of pointer.split('/').slice(1)) {
    if (/~[^01]|~$/.test(segment)) {
      throw new LcmError('invalid_patch', `${what} has a bad ~ escape`);
    }
    const member = segment.replaceAll('~1', '/').replaceAll('~0', '~');
    if (BANNED_SEGMENTS.has(member)) {
      throw new LcmError('invalid_patch', `${what} touches ${member}, which is not allowed`);
    }
  }
}

/**
 * Applies an RFC 6902 patch to `value` and returns the new value; `value` and `patch` are left
 * untouched and share nothing with the result. Throws `invalid_patch` for a malformed patch and
 * `patch_conflict` when a `test` fails or a path does not resolve.
 */
export function applyJsonPatch(value: JsonValue | undefined, patch: unknown): JsonValue {
  assertJsonPatch(patch);
  const document = value === undefined ? null : structuredClone(value);
  const operations = structuredClone(patch);

  let result: unknown = document;
  try {
    for (const [index, operation] of operations.entries()) {
      // fast-json-patch silently ignores an operation on a member of a string or number.
      if (operation.path !== '' && (result === null || typeof result !== 'object')) {
        const reason = `operation ${index} reaches into a value that is not an object or array`;
        throw new LcmError('patch_conflict', `the patch does not apply: ${reason}`);
      }
      // validateOperation on, mutate the clone in place, and the ban on prototype changes on.
      result = jsonPatch.applyOperation(result, operation, true, true, true, index).newDocument;
    }
  } catch (error) {
    throw error instanceof LcmError ? error : patchError(error);
  }
  return result as JsonValue;
}

function patchError(error: unknown): LcmError {
  const name = (error as { name?: string }).name ?? '';
  if (
    name === 'TEST_OPERATION_FAILED' ||
    name === 'OPERATION_PATH_UNRESOLVABLE' ||
    name === 'OPERATION_FROM_UNRESOLVABLE' ||
    name === 'OPERATION_VALUE_OUT_OF_BOUNDS' ||
    name === 'OPERATION_PATH_ILLEGAL_ARRAY_INDEX'
  ) {
    const reason =
      name === 'TEST_OPERATION_FAILED' ? 'a test operation failed' : 'a path does not resolve';
    return new LcmError('patch_conflict', `the patch does not apply: ${reason}`, { cause: error });
  }
  // Prototype changes were refused by assertJsonPatch, so a TypeError here means an operation
  // reached into null or a scalar, such as `add /a` on a key that holds no object.
  if (error instanceof TypeError) {
    return new LcmError('patch_conflict', 'the patch does not apply: a path does not resolve', {
      cause: error,
    });
  }
  return new LcmError('invalid_patch', `the patch is malformed: ${name || 'invalid'}`, {
    cause: error,
  });
}

/**
 * The RFC 6902 patch that turns `from` into `to`. Replacing the whole value (a different type at
 * the root, or no previous value) is one `replace` of the root.
 */
export function diffValues(from: JsonValue | undefined, to: JsonValue): JsonPatch {
  const bothObjects =
    isContainer(from) && isContainer(to) && Array.isArray(from) === Array.isArray(to);
  if (!bothObjects) return [{ op: 'replace', path: '', value: structuredClone(to) }];
  return jsonPatch.compare(from as object, to as object) as JsonPatch;
}

function isContainer(
  value: JsonValue | undefined,
): value is JsonValue[] | { [key: string]: JsonValue } {
  return value !== null && typeof value === 'object';
}

/**
 * Applies an RFC 7396 JSON Merge Patch and returns the new value; neither input is changed.
 * A member named `__proto__` in the patch is refused with `invalid_patch`.
 */
export function applyMergePatch(target: JsonValue | undefined, patch: JsonValue): JsonValue {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) {
    return structuredClone(patch);
  }
  const result: { [key: string]: JsonValue } =
    target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...target } : {};

  for (const [member, change] of Object.entries(patch)) {
    if (BANNED_SEGMENTS.has(member)) {
      throw new LcmError('invalid_patch', `a merge patch may not touch ${member}`);
    }
    if (change === null) delete result[member];
    else result[member] = applyMergePatch(result[member], change);
  }
  return result;
}

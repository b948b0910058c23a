import { diffValues, type JsonValue } from '../core/index.ts';
import type { Painter } from './output.ts';

/** Longest rendering of one value in a diff line before it is cut. */
export const MAX_DIFF_VALUE_CHARS = 100;

/** Most lines shown for one key's diff; the rest is counted. */
export const MAX_DIFF_LINES = 40;

/**
 * The lines of a readable diff between two values: one line per RFC 6902 operation,
 * `+ path: value` for additions (green), `- path: old` for removals (red), and
 * `~ path: old -> new` for replacements (yellow). Long values are cut.
 */
export function renderValueDiff(
  previous: JsonValue | undefined,
  next: JsonValue,
  paint: Painter,
  indent = '    ',
): string[] {
  const lookup = (path: string): JsonValue | undefined => pointerGet(previous, path);
  return renderPatch(diffValues(previous, next), paint, indent, lookup);
}

/**
 * The lines of a readable RFC 6902 patch, as {@link renderValueDiff} draws them. `lookup`
 * finds the old value of a path, when it is known, to show what a replace or remove lost.
 */
export function renderPatch(
  patch: ReadonlyArray<{ op: string; path: string; value?: unknown; from?: string }>,
  paint: Painter,
  indent = '    ',
  lookup: (path: string) => JsonValue | undefined = () => undefined,
): string[] {
  const lines: string[] = [];
  for (const operation of patch.slice(0, MAX_DIFF_LINES)) {
    const path = operation.path === '' ? '(whole value)' : operation.path;
    const old = lookup(operation.path);
    const oldText = old === undefined ? '' : `${short(old)} -> `;

    if (operation.op === 'add') {
      lines.push(paint('green', `${indent}+ ${path}: ${short(operation.value)}`));
    } else if (operation.op === 'remove') {
      const was = old === undefined ? '' : `: ${short(old)}`;
      lines.push(paint('red', `${indent}- ${path}${was}`));
    } else if (operation.op === 'replace') {
      lines.push(paint('yellow', `${indent}~ ${path}: ${oldText}${short(operation.value)}`));
    } else if (operation.op === 'move' || operation.op === 'copy') {
      lines.push(paint('cyan', `${indent}${operation.op} ${operation.from} -> ${path}`));
    } else {
      lines.push(paint('dim', `${indent}${operation.op} ${path}`));
    }
  }
  if (patch.length > MAX_DIFF_LINES) {
    lines.push(paint('dim', `${indent}... and ${patch.length - MAX_DIFF_LINES} more changes`));
  }
  return lines;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? 'undefined';
  if (text.length <= MAX_DIFF_VALUE_CHARS) return text;
  return `${text.slice(0, MAX_DIFF_VALUE_CHARS - 3)}...`;
}

/** The value at an RFC 6901 JSON Pointer, or undefined when it does not resolve. */
export function pointerGet(value: JsonValue | undefined, pointer: string): JsonValue | undefined {
  if (pointer === '') return value;
  let current: JsonValue | undefined = value;
  for (const raw of pointer.split('/').slice(1)) {
    const member = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (current === null || typeof current !== 'object') return undefined;
    if (Array.isArray(current)) current = current[Number(member)];
    else current = Object.hasOwn(current, member) ? current[member] : undefined;
  }
  return current;
}

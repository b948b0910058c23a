import { LcmError } from '../core/index.ts';
import type { FrameLimits } from './limits.ts';

interface OpenContainer {
  /** Items still to read: a map of n pairs counts 2n. */
  remaining: number;
  isMap: boolean;
}

function reject(reason: string): never {
  throw new LcmError('protocol_error', `malformed frame: ${reason}`);
}

/**
 * Walks the MessagePack structure of `bytes` without building any value, and throws
 * `protocol_error` unless it is exactly one well-formed value within `limits`: every length fits
 * in the bytes that follow, nesting and strings stay within bounds, map keys are strings, and
 * there is no extension type and no reserved byte 0xC1. Run before the decoder, it keeps hostile
 * length headers and deep nesting from ever reaching an allocation or a recursion.
 */
export function scanFrame(bytes: Uint8Array, limits: FrameLimits): void {
  if (bytes.byteLength === 0) reject('empty frame');
  if (bytes.byteLength > limits.maxFrameBytes) {
    throw new LcmError('too_large', `frame of ${bytes.byteLength} bytes exceeds the limit`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = bytes.byteLength;
  const open: OpenContainer[] = [];
  let pos = 0;
  let done = false;

  const need = (count: number): void => {
    if (count > end - pos) reject('a length runs past the end of the frame');
  };
  const uint = (size: 1 | 2 | 4): number => {
    need(size);
    const value =
      size === 1 ? view.getUint8(pos) : size === 2 ? view.getUint16(pos) : view.getUint32(pos);
    pos += size;
    return value;
  };

  while (!done) {
    if (pos >= end) reject('truncated');
    const parent = open[open.length - 1];
    const isKey = parent?.isMap === true && parent.remaining % 2 === 0;
    const type = view.getUint8(pos++);
    let children = -1;
    let isMap = false;

    if (isKey && !((type >= 0xa0 && type <= 0xbf) || (type >= 0xd9 && type <= 0xdb))) {
      reject('map keys must be strings');
    }

    if (type <= 0x7f || type >= 0xe0 || type === 0xc0 || type === 0xc2 || type === 0xc3) {
      // A fixint, nil or boolean: the type byte is the whole value.
    } else if (type >= 0x80 && type <= 0x8f) {
      children = (type & 0x0f) * 2;
      isMap = true;
    } else if (type >= 0x90 && type <= 0x9f) {
      children = type & 0x0f;
    } else if (type >= 0xa0 && type <= 0xbf) {
      skipBytes(type & 0x1f);
    } else if (type === 0xd9 || type === 0xc4) {
      skipBytes(uint(1));
    } else if (type === 0xda || type === 0xc5) {
      skipBytes(uint(2));
    } else if (type === 0xdb || type === 0xc6) {
      skipBytes(uint(4));
    } else if (type === 0xcc || type === 0xd0) {
      skipFixed(1);
    } else if (type === 0xcd || type === 0xd1) {
      skipFixed(2);
    } else if (type === 0xca || type === 0xce || type === 0xd2) {
      skipFixed(4);
    } else if (type === 0xcb || type === 0xcf || type === 0xd3) {
      skipFixed(8);
    } else if (type === 0xdc) {
      children = uint(2);
    } else if (type === 0xdd) {
      children = uint(4);
    } else if (type === 0xde) {
      children = uint(2) * 2;
      isMap = true;
    } else if (type === 0xdf) {
      children = uint(4) * 2;
      isMap = true;
    } else if (type === 0xc1) {
      reject('reserved byte 0xC1');
    } else {
      reject(`extension type 0x${type.toString(16)} is not allowed`);
    }

    if (parent !== undefined) parent.remaining--;

    if (children > 0) {
      // Every item takes at least one byte, so a count larger than what is left is a lie.
      need(children);
      if (open.length + 1 > limits.maxDepth) reject('nested too deeply');
      open.push({ remaining: children, isMap });
      continue;
    }

    while (open.length > 0 && open[open.length - 1]!.remaining === 0) open.pop();
    done = open.length === 0;
  }

  if (pos !== end) reject('bytes after the end of the value');

  function skipBytes(length: number): void {
    if (length > limits.maxStringBytes) reject('a string or binary is too long');
    need(length);
    pos += length;
  }

  function skipFixed(length: number): void {
    need(length);
    pos += length;
  }
}

import type { Context } from 'hono';
import { type JsonValue, LcmError, parseJsonValue, type ValueLimits } from '../../core/index.ts';

/**
 * Most bytes of an oversized body read and thrown away so that the client, still sending, gets
 * to read the 413; past this the connection is cut instead.
 */
const DISCARD_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Reads a request body of at most `maxBytes`: a declared Content-Length over the limit is refused
 * before anything is kept, and a body without one is refused as soon as it passes the limit. The
 * rest of a refused body is read and dropped (up to {@link DISCARD_LIMIT_BYTES}), because a client
 * cut off in the middle of its upload never sees the answer.
 */
export async function readBodyBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = new LcmError('too_large', `the body is larger than ${maxBytes} bytes`);
  const stream = c.req.raw.body;
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) {
    if (stream !== null) await discard(stream.getReader(), 0);
    throw tooLarge;
  }
  if (stream === null) return new Uint8Array(0);

  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await discard(reader, size);
      throw tooLarge;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

async function discard(reader: ReadableStreamDefaultReader<Uint8Array>, alreadyRead: number) {
  let total = alreadyRead;
  try {
    while (total <= DISCARD_LIMIT_BYTES) {
      const { done, value } = await reader.read();
      if (done) return;
      total += value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away: there is nobody left to answer.
  }
}

/** The media type of the request, lowercase, without parameters; undefined when absent. */
export function mediaType(c: Context): string | undefined {
  const header = c.req.header('content-type');
  if (header === undefined || header.trim() === '') return undefined;
  return header.split(';')[0]!.trim().toLowerCase();
}

/**
 * Checks the request's media type against `accepted` (a missing Content-Type counts as JSON when
 * `application/json` is accepted) and returns it; 415 `unsupported_media_type` otherwise.
 */
export function requireMediaType(c: Context, accepted: string[]): string {
  const type = mediaType(c) ?? (accepted.includes('application/json') ? 'application/json' : '');
  if (accepted.includes(type)) return type;
  throw new LcmError('unsupported_media_type', `the body must be sent as ${accepted.join(' or ')}`);
}

/** Reads and parses a JSON body within `limits`, after checking its media type. */
export async function readJsonBody(
  c: Context,
  limits: ValueLimits,
  accepted: string[] = ['application/json'],
): Promise<{ value: JsonValue; type: string }> {
  const type = requireMediaType(c, accepted);
  const bytes = await readBodyBytes(c, limits.maxBytes);
  return { value: parseJsonValue(bytes, limits), type };
}

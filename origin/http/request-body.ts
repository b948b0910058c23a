import type { Context } from 'hono';
import { type JsonValue, LcmError, parseJsonValue, type ValueLimits } from '../../core/index.ts';

/**
 * Reads a request body of at most `maxBytes`: a declared Content-Length over the limit is refused
 * before anything is read, and a body without one is cut off as soon as it passes the limit.
 */
export async function readBodyBytes(c: Context, maxBytes: number): Promise<Uint8Array> {
  const declared = c.req.header('content-length');
  if (declared !== undefined && Number(declared) > maxBytes) {
    throw new LcmError('too_large', `the body is larger than ${maxBytes} bytes`);
  }
  const stream = c.req.raw.body;
  if (stream === null) return new Uint8Array(0);

  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new LcmError('too_large', `the body is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
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

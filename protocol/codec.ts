import { Packr } from 'msgpackr';
import { LcmError } from '../core/index.ts';
import { scanFrame } from './frame-scan.ts';
import { DEFAULT_FRAME_LIMITS, type FrameLimits } from './limits.ts';
import { type Message, type MessageType, messageSchema } from './messages.ts';
import { SUPPORTED_PROTOCOL_VERSIONS } from './version.ts';

/**
 * msgpackr with every option spelled out: plain maps and arrays only, no records or shared
 * structures, no extension types, 64-bit integers as numbers (schemas then refuse unsafe ones).
 */
function createPackr(): Packr {
  return new Packr({
    useRecords: false,
    moreTypes: false,
    structuredClone: false,
    mapsAsObjects: true,
    variableMapSize: true,
    bundleStrings: false,
    int64AsType: 'number',
    useTimestamp32: false,
    encodeUndefinedAsNil: false,
    copyBuffers: true,
  });
}

/**
 * Encodes and decodes protocol frames, on both sides of a connection. Decoding checks the raw
 * bytes against hard limits first, then the decoded value against the message schemas, so that
 * whatever arrives is either a valid message or an `LcmError` (`protocol_error`, `too_large` or
 * `unsupported_version`), never a half-understood value.
 */
export class FrameCodec {
  /** The limits every frame is checked against. */
  readonly limits: FrameLimits;
  private readonly packr = createPackr();

  constructor(limits: Partial<FrameLimits> = {}) {
    this.limits = { ...DEFAULT_FRAME_LIMITS, ...limits };
  }

  /** The bytes of `message`. Throws `too_large` when they exceed the frame limit. */
  encode(message: Message): Uint8Array {
    const bytes = this.packr.pack(message);
    if (bytes.byteLength > this.limits.maxFrameBytes) {
      throw new LcmError(
        'too_large',
        `a ${message.type} frame of ${bytes.byteLength} bytes exceeds the frame limit`,
      );
    }
    return bytes;
  }

  /**
   * The message in `bytes`. With `accepted`, a message of another type (one the peer should not
   * send) is a `protocol_error` too.
   */
  decode(bytes: Uint8Array, accepted?: ReadonlySet<MessageType>): Message {
    scanFrame(bytes, this.limits);

    let decoded: unknown;
    try {
      decoded = this.packr.unpack(bytes);
    } catch (error) {
      throw new LcmError('protocol_error', 'malformed frame: msgpack does not decode', {
        cause: error,
      });
    }

    refuseOtherVersions(decoded);
    const parsed = messageSchema.safeParse(decoded);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.join('.') || 'frame';
      throw new LcmError('protocol_error', `invalid frame at ${where}: ${issue?.message}`);
    }
    if (accepted !== undefined && !accepted.has(parsed.data.type)) {
      throw new LcmError('protocol_error', `a ${parsed.data.type} frame is not expected here`);
    }
    return parsed.data;
  }
}

/**
 * A hello of another protocol version may not match this version's schema; it is refused by its
 * version, with a message naming both, before the schema would call it malformed.
 */
function refuseOtherVersions(decoded: unknown): void {
  if (decoded === null || typeof decoded !== 'object') return;
  const { type, protocolVersions, protocolVersion } = decoded as Record<string, unknown>;
  const offered =
    type === 'hello' ? protocolVersions : type === 'welcome' ? [protocolVersion] : undefined;
  if (!Array.isArray(offered)) return;
  if (offered.some((version) => SUPPORTED_PROTOCOL_VERSIONS.includes(version as number))) return;

  throw new LcmError(
    'unsupported_version',
    `protocol version ${offered.map(String).join(', ')} is not supported; ` +
      `this side speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
  );
}

import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { LcmError } from '../../core/index.ts';
import {
  AGENT_MESSAGE_TYPES,
  FrameCodec,
  type Message,
  negotiateVersion,
  PROTOCOL_VERSION,
} from '../../protocol/index.ts';

const HASH = 'a'.repeat(64);
const loosePackr = new Packr({ useRecords: false, mapsAsObjects: true });

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(LcmError);
    return (error as LcmError).code;
  }
  return undefined;
}

describe('FrameCodec', () => {
  const codec = new FrameCodec();

  it('round-trips every kind of message', () => {
    const messages: Message[] = [
      {
        type: 'hello',
        protocolVersions: [PROTOCOL_VERSION],
        agentId: 'agent-1',
        agentPublicKey: null,
        tenants: [{ tenant: 'acme', revision: 3, epoch: 'e1' }],
      },
      {
        type: 'welcome',
        protocolVersion: 1,
        epoch: 'e1',
        heartbeatTimeoutMs: 30_000,
        tenants: [{ tenant: 'acme', mode: 'resume', headRevision: 5 }],
      },
      {
        type: 'snapshot',
        tenant: 'acme',
        epoch: 'e1',
        revision: 5,
        chunk: 0,
        entries: [
          { key: 'a/b', kind: 'config', value: { x: [1, 'two'] }, revision: 4, hash: HASH },
        ],
        last: true,
      },
      {
        type: 'delta',
        epoch: 'e1',
        commits: [
          {
            tenant: 'acme',
            revision: 6,
            at: 1,
            changes: [
              {
                key: 'a/b',
                op: 'patch',
                kind: 'config',
                patch: [{ op: 'add', path: '/y', value: 2 }],
                hash: HASH,
              },
              { key: 'c', op: 'delete', kind: 'config', hash: null },
            ],
          },
        ],
      },
      { type: 'ack', tenants: [{ tenant: 'acme', revision: 6 }] },
      { type: 'resync', tenant: 'acme', reason: 'hash mismatch' },
      { type: 'ping', at: 12 },
      { type: 'pong', at: 12 },
      { type: 'error', code: 'forbidden', message: 'no', retryAfterMs: 5000 },
      { type: 'keys', tenant: 'acme', dataKeys: [{ version: 1, wrapped: Buffer.from([1, 2]) }] },
    ];
    for (const message of messages) {
      expect(codec.decode(codec.encode(message))).toEqual(message);
    }
  });

  it('refuses byte 0xC1, which msgpackr alone turns into an object', () => {
    expect(codeOf(() => codec.decode(new Uint8Array([0xc1])))).toBe('protocol_error');
  });

  it('refuses a 2^32 length header without allocating for it', () => {
    const bytes = new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0]);
    expect(codeOf(() => codec.decode(bytes))).toBe('protocol_error');
    const str = new Uint8Array([0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]);
    expect(codeOf(() => codec.decode(str))).toBe('protocol_error');
  });

  it('refuses frames over the byte limit before decoding', () => {
    const small = new FrameCodec({ maxFrameBytes: 64 });
    const frame = codec.encode({ type: 'resync', tenant: 'acme', reason: 'x'.repeat(100) });
    expect(codeOf(() => small.decode(frame))).toBe('too_large');
    expect(
      codeOf(() => small.encode({ type: 'resync', tenant: 'acme', reason: 'x'.repeat(100) })),
    ).toBe('too_large');
  });

  it('refuses truncated msgpack and trailing bytes', () => {
    const frame = codec.encode({ type: 'ping', at: 1 });
    expect(codeOf(() => codec.decode(frame.subarray(0, frame.length - 1)))).toBe('protocol_error');
    const padded = new Uint8Array([...frame, 0x00]);
    expect(codeOf(() => codec.decode(padded))).toBe('protocol_error');
  });

  it('refuses nesting deeper than the limit', () => {
    const deep = new Uint8Array(200).fill(0x91);
    expect(codeOf(() => codec.decode(new Uint8Array([...deep, 0xc0])))).toBe('protocol_error');
  });

  it('refuses wrong field types, unknown members and unknown message types', () => {
    const wrong = loosePackr.pack({ type: 'ping', at: 'soon' });
    expect(codeOf(() => codec.decode(wrong))).toBe('protocol_error');
    const extra = loosePackr.pack({ type: 'ping', at: 1, extra: true });
    expect(codeOf(() => codec.decode(extra))).toBe('protocol_error');
    const unknown = loosePackr.pack({ type: 'subscribe', tenant: 'acme' });
    expect(codeOf(() => codec.decode(unknown))).toBe('protocol_error');
  });

  it('refuses a delta with a hostile patch or a put without a hash', () => {
    const hostile = loosePackr.pack({
      type: 'delta',
      epoch: 'e',
      commits: [
        {
          tenant: 'acme',
          revision: 1,
          at: 0,
          changes: [
            {
              key: 'k',
              op: 'patch',
              kind: 'config',
              patch: [{ op: 'add', path: '/__proto__/x', value: 1 }],
              hash: HASH,
            },
          ],
        },
      ],
    });
    expect(codeOf(() => codec.decode(hostile))).toBe('protocol_error');
    const noHash = loosePackr.pack({
      type: 'delta',
      epoch: 'e',
      commits: [
        {
          tenant: 'acme',
          revision: 1,
          at: 0,
          changes: [{ key: 'k', op: 'put', kind: 'config', value: 1, hash: null }],
        },
      ],
    });
    expect(codeOf(() => codec.decode(noHash))).toBe('protocol_error');
  });

  it('refuses a message the peer should not send', () => {
    const frame = codec.encode({
      type: 'welcome',
      protocolVersion: 1,
      epoch: 'e',
      heartbeatTimeoutMs: 1,
      tenants: [],
    });
    expect(codeOf(() => codec.decode(frame, AGENT_MESSAGE_TYPES))).toBe('protocol_error');
  });

  it('refuses an unknown protocol version with a clear error instead of misreading it', () => {
    const future = loosePackr.pack({ type: 'hello', protocolVersions: [99], somethingNew: {} });
    expect(() => codec.decode(future)).toThrowError(/protocol version 99 is not supported/);
    expect(codeOf(() => codec.decode(future))).toBe('unsupported_version');
    expect(codeOf(() => negotiateVersion([2, 3]))).toBe('unsupported_version');
    expect(negotiateVersion([7, PROTOCOL_VERSION])).toBe(PROTOCOL_VERSION);
  });
});

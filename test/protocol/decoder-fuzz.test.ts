import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LcmError } from '../../core/index.ts';
import { FrameCodec, type Message, messageSchema } from '../../protocol/index.ts';

const FUZZ_RANDOM_RUNS = 5_000;
const FUZZ_MUTATED_RUNS = 6_000;
const EXPECTED_CODES = new Set(['protocol_error', 'too_large', 'unsupported_version']);
const MAX_HEAP_GROWTH_BYTES = 256 * 1024 * 1024;

const codec = new FrameCodec({ maxFrameBytes: 1024 * 1024 });
const HASH = 'f'.repeat(64);

const seedFrames: Uint8Array[] = (
  [
    {
      type: 'hello',
      protocolVersions: [1],
      agentId: 'edge-7',
      agentPublicKey: 'AAAA',
      tenants: [{ tenant: 'acme', revision: 12, epoch: 'ep' }],
    },
    {
      type: 'delta',
      epoch: 'ep',
      commits: [
        {
          tenant: 'acme',
          revision: 13,
          at: 1700000000000,
          changes: [
            {
              key: 'routers/prod',
              op: 'patch',
              kind: 'config',
              patch: [{ op: 'replace', path: '/a/0', value: { b: [true, null, 1.5] } }],
              hash: HASH,
            },
            { key: 'secret/x', op: 'put', kind: 'secret', value: { ct: 'zz', v: 1 }, hash: HASH },
          ],
        },
      ],
    },
    {
      type: 'snapshot',
      tenant: 'acme',
      epoch: 'ep',
      revision: 13,
      chunk: 2,
      entries: [{ key: 'a', kind: 'config', value: ['x', 1, { y: 'z' }], revision: 9, hash: HASH }],
      last: false,
    },
    { type: 'ack', tenants: [{ tenant: 'acme', revision: 13 }] },
    { type: 'error', code: 'unavailable', message: 'restarting', retryAfterMs: 2000 },
  ] satisfies Message[]
).map((message) => codec.encode(message));

/** Either a message that is valid by the schemas, or an LcmError with a protocol code. */
function decodesSafely(bytes: Uint8Array): void {
  try {
    const message = codec.decode(bytes);
    expect(messageSchema.safeParse(message).success).toBe(true);
  } catch (error) {
    if (!(error instanceof LcmError) || !EXPECTED_CODES.has(error.code)) throw error;
  }
}

const mutation = fc.oneof(
  fc.record({
    kind: fc.constant('flip' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ maxLength: 8 }),
  }),
  fc.record({
    kind: fc.constant('huge-length' as const),
    at: fc.nat(),
    header: fc.constantFrom(0xdb, 0xdd, 0xdf, 0xc6),
  }),
  fc.record({ kind: fc.constant('c1' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(frame: Uint8Array, steps: Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(frame);
  for (const step of steps) {
    const at = bytes.length === 0 ? 0 : step.at % bytes.length;
    if (step.kind === 'flip') bytes[at]! ^= 1 << step.bit;
    else if (step.kind === 'truncate') bytes = bytes.subarray(0, at);
    else if (step.kind === 'insert')
      bytes = new Uint8Array([...bytes.subarray(0, at), ...step.bytes, ...bytes.subarray(at)]);
    else if (step.kind === 'c1') bytes[at] = 0xc1;
    else
      bytes = new Uint8Array([
        ...bytes.subarray(0, at),
        step.header,
        0xff,
        0xff,
        0xff,
        0xff,
        ...bytes.subarray(at),
      ]);
  }
  return bytes;
}

describe('frame decoder under fuzzing', () => {
  it(`survives ${FUZZ_RANDOM_RUNS} random byte strings without a crash`, () => {
    const heapBefore = process.memoryUsage().heapUsed;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 512 }), (bytes) => decodesSafely(bytes)),
      { numRuns: FUZZ_RANDOM_RUNS, seed: 20261203 },
    );
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
  });

  it(`survives ${FUZZ_MUTATED_RUNS} mutated valid frames without a crash or a runaway allocation`, () => {
    const heapBefore = process.memoryUsage().heapUsed;
    let decodedValid = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: seedFrames.length - 1 }),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seed, steps) => {
          const bytes = mutate(seedFrames[seed]!, steps);
          try {
            codec.decode(bytes);
            decodedValid++;
          } catch {
            // judged below
          }
          decodesSafely(bytes);
        },
      ),
      { numRuns: FUZZ_MUTATED_RUNS, seed: 42 },
    );
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
    // Some mutations (a flipped bit inside a string) still leave a valid message: the fuzzer
    // really reached the schemas, not only the scanner.
    expect(decodedValid).toBeGreaterThan(0);
  });
});

import type { CryptoKey } from './crypto-bytes.ts';
import { isSecretEnvelope, openSecret, type SecretEnvelope, sealSecret } from './envelope.ts';
import { LcmError } from './errors.ts';
import type { JsonValue } from './json-value.ts';

/** How a secret's value rotates by itself. */
export interface SecretRotationSchedule {
  /** Seconds between two automatic rotations. */
  everySeconds: number;
  /** How the new value is made. */
  generator: 'random-token';
  /** Seconds the previous value stays valid after a rotation. */
  overlapSeconds: number;
}

/** The value a secret had before its last rotation, valid until the overlap ends. */
export interface PreviousSecretValue extends SecretEnvelope {
  /** The secret version of this value. */
  version: number;
  /** When the overlap ends, milliseconds since the Unix epoch. */
  validUntil: number;
}

/**
 * The stored value of an entry of kind `secret`: the sealed current value (the envelope fields
 * at the top level, so the record is itself an envelope) with the metadata readers may see.
 * Nothing in it is plaintext.
 */
export interface SecretRecord extends SecretEnvelope {
  /** The secret's own version, 1 for its first value. */
  version: number;
  /** When this value was written, milliseconds since the Unix epoch. */
  createdAt: number;
  /** When the schedule rotates it next, or null without a schedule. */
  rotatesAt: number | null;
  /** The value before the last rotation while its overlap lasts, else null. */
  previous: PreviousSecretValue | null;
  /** The automatic rotation schedule, or null. */
  rotation: SecretRotationSchedule | null;
}

/** Which value of a secret a reader asks for. */
export type SecretVersionSelector = 'current' | 'previous';

/** Finds the data key of `tenant` at `dekVersion`; throws when it is not known. */
export type DataKeyLookup = (tenant: string, dekVersion: number) => Promise<CryptoKey>;

/** True when `value` has the shape of a {@link SecretRecord}. */
export function isSecretRecord(value: unknown): value is SecretRecord {
  if (!isSecretEnvelope(value)) return false;
  const fields = value as unknown as Record<string, unknown>;
  const previous = fields.previous;
  return (
    Number.isSafeInteger(fields.version) &&
    (fields.version as number) > 0 &&
    Number.isSafeInteger(fields.createdAt) &&
    (fields.rotatesAt === null || Number.isSafeInteger(fields.rotatesAt)) &&
    (previous === null ||
      (isSecretEnvelope(previous) &&
        Number.isSafeInteger((previous as PreviousSecretValue).version) &&
        Number.isSafeInteger((previous as PreviousSecretValue).validUntil)))
  );
}

/** Throws `bad_value` unless `value` has the shape of a {@link SecretRecord}. */
export function assertSecretRecord(value: unknown): asserts value is SecretRecord {
  if (!isSecretRecord(value)) throw new LcmError('bad_value', 'not a sealed secret record');
}

/** Options of {@link sealSecretRecord}. */
export interface SealRecordOptions {
  tenant: string;
  key: string;
  /** The tenant's current data key and its version. */
  dataKey: CryptoKey;
  dekVersion: number;
  /** The record this write replaces, if any; its version decides the new one. */
  before: SecretRecord | null;
  /** Keep the value being replaced valid for this many seconds; 0 or absent for none. */
  overlapSeconds?: number;
  rotation: SecretRotationSchedule | null;
  /** Current time in milliseconds since the Unix epoch. */
  now: number;
}

/** Seals a new value of a secret into its next record, keeping the old value when it overlaps. */
export async function sealSecretRecord(
  value: JsonValue,
  options: SealRecordOptions,
): Promise<SecretRecord> {
  const { tenant, key, dataKey, dekVersion, before, now } = options;
  const version = (before?.version ?? 0) + 1;
  const sealed = await sealSecret(
    dataKey,
    { tenant, key, secretVersion: version, dekVersion },
    value,
  );

  const overlapMs = (options.overlapSeconds ?? 0) * 1000;
  let previous: PreviousSecretValue | null = null;
  if (before !== null && overlapMs > 0) {
    previous = { ...envelopeOf(before), version: before.version, validUntil: now + overlapMs };
  }

  const rotation = options.rotation;
  return {
    ...sealed,
    version,
    createdAt: now,
    rotatesAt: rotation === null ? null : now + rotation.everySeconds * 1000,
    previous,
    rotation,
  };
}

/**
 * Opens the current or the previous value of a record. The previous value is refused with
 * `not_found` when the record holds none. Whether an overlap has ended is the origin's call: it
 * writes the record again without its previous value once the overlap is over and every agent
 * has the new value, so that readers everywhere switch at the same revision.
 */
export async function openSecretRecord(
  record: SecretRecord,
  which: SecretVersionSelector,
  context: { tenant: string; key: string; lookup: DataKeyLookup },
): Promise<{ value: JsonValue; version: number }> {
  assertSecretRecord(record);
  const { tenant, key, lookup } = context;
  const chosen = which === 'current' ? record : record.previous;
  if (chosen === null) {
    throw new LcmError('not_found', 'the secret has no previous value in an overlap window');
  }

  const dataKey = await lookup(tenant, chosen.dekVersion);
  const binding = { tenant, key, secretVersion: chosen.version, dekVersion: chosen.dekVersion };
  const value = await openSecret(dataKey, binding, envelopeOf(chosen));
  return { value, version: chosen.version };
}

/**
 * The same record re-sealed under another data key version, value and secret versions unchanged:
 * what DEK rotation does to every stored secret.
 */
export async function resealSecretRecord(
  record: SecretRecord,
  context: { tenant: string; key: string; lookup: DataKeyLookup; dekVersion: number },
): Promise<SecretRecord> {
  const { tenant, key, lookup, dekVersion } = context;
  const dataKey = await lookup(tenant, dekVersion);
  const reseal = async (envelope: SecretEnvelope, secretVersion: number) => {
    const oldKey = await lookup(tenant, envelope.dekVersion);
    const from = { tenant, key, secretVersion, dekVersion: envelope.dekVersion };
    const value = await openSecret(oldKey, from, envelopeOf(envelope));
    return sealSecret(dataKey, { tenant, key, secretVersion, dekVersion }, value);
  };

  const current = await reseal(record, record.version);
  const previous =
    record.previous === null
      ? null
      : {
          ...(await reseal(record.previous, record.previous.version)),
          version: record.previous.version,
          validUntil: record.previous.validUntil,
        };
  return { ...record, ...current, previous };
}

/** Every data key version a record still needs. */
export function dekVersionsOf(record: SecretRecord): number[] {
  return record.previous === null
    ? [record.dekVersion]
    : [record.dekVersion, record.previous.dekVersion];
}

function envelopeOf(sealed: SecretEnvelope): SecretEnvelope {
  return {
    v: sealed.v,
    alg: sealed.alg,
    dekVersion: sealed.dekVersion,
    iv: sealed.iv,
    ct: sealed.ct,
  };
}

export {
  AGENT_WRAP_ALGORITHM,
  type AgentKeyPair,
  type AgentWrapBinding,
  agentWrapAdditionalData,
  assertAgentId,
  assertWrappedAgentDek,
  decodeWrappedAgentDek,
  encodeWrappedAgentDek,
  exportAgentPrivateKey,
  generateAgentKeyPair,
  importAgentPrivateKey,
  importAgentPublicKey,
  isWrappedAgentDek,
  rawAgentPublicKey,
  unwrapDekForAgent,
  type WrappedAgentDek,
  wrapDekForAgent,
} from './agent-key-wrap.ts';
export { canonicalJson, contentHash, sha256Hex } from './content-hash.ts';
export {
  base64ToBytes,
  bytesToBase64,
  type CryptoKey,
  randomBytes,
  wipeBytes,
} from './crypto-bytes.ts';
export {
  assertSecretEnvelope,
  DATA_KEY_BYTES,
  ENVELOPE_ALGORITHM,
  generateDataKeyBytes,
  importDataKey,
  isSecretEnvelope,
  openSecret,
  type SecretBinding,
  type SecretEnvelope,
  sealSecret,
  secretAdditionalData,
} from './envelope.ts';
export { ERROR_CODES, type ErrorBody, type ErrorCode, isErrorCode, LcmError } from './errors.ts';
export {
  applyJsonPatch,
  applyMergePatch,
  assertJsonPatch,
  diffValues,
  type JsonPatch,
  type PatchOperation,
} from './json-patch.ts';
export {
  assertJsonValue,
  type JsonValue,
  jsonByteLength,
  jsonTextDepth,
  parseJsonValue,
} from './json-value.ts';
export {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_VALUE_BYTES,
  DEFAULT_VALUE_LIMITS,
  MAX_KEY_BYTES,
  type ValueLimits,
} from './limits.ts';
export {
  assertEntryKey,
  assertTenantId,
  hasDotSegment,
  isEntryKey,
  isKeyPrefix,
  isTenantId,
  keyProblem,
} from './names.ts';
export { revealFlag } from './reveal-flag.ts';
export { SECRET_FIELD_PATHS } from './secret-fields.ts';
export {
  assertSecretRecord,
  type DataKeyLookup,
  dekVersionsOf,
  isSecretRecord,
  openSecretRecord,
  type PreviousSecretValue,
  resealSecretRecord,
  type SealRecordOptions,
  type SecretRecord,
  type SecretRotationSchedule,
  type SecretVersionSelector,
  sealSecretRecord,
} from './secret-record.ts';
export type { ChangeOp, ChangeRecord, Entry, EntryKind, Revision, StoreEpoch } from './types.ts';

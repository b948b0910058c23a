export { canonicalJson, contentHash, sha256Hex } from './content-hash.ts';
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
  isEntryKey,
  isKeyPrefix,
  isTenantId,
  keyProblem,
} from './names.ts';
export type { ChangeOp, ChangeRecord, Entry, EntryKind, Revision, StoreEpoch } from './types.ts';

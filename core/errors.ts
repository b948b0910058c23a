/**
 * Every failure the product reports has one of these stable codes. Callers branch on the code,
 * never on the message. The list is closed: adding a code means adding it here and to the table
 * in README.md.
 */
export const ERROR_CODES = {
  bad_request: 400,
  bad_tenant: 400,
  bad_key: 400,
  bad_json: 400,
  bad_value: 400,
  too_deep: 400,
  unsafe_number: 400,
  bad_revision: 400,
  bad_cursor: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  patch_conflict: 409,
  compacted: 410,
  revision_mismatch: 412,
  precondition_failed: 412,
  too_large: 413,
  unsupported_media_type: 415,
  invalid_patch: 422,
  rate_limited: 429,
  internal: 500,
  kek_unavailable: 503,
  not_synced: 503,
  stale: 503,
  unavailable: 503,
  protocol_error: 400,
  unsupported_version: 400,
  hash_mismatch: 409,
  revision_gap: 409,
  decrypt_failed: 400,
} as const;

/** One of the stable error codes in {@link ERROR_CODES}. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** The JSON shape of an error on every HTTP surface of the product. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId?: string };
}

/**
 * The one error type of the product. `code` is stable and machine-readable; `message` is for
 * people and never contains a secret value.
 */
export class LcmError extends Error {
  /** The stable code callers branch on. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LcmError';
    this.code = code;
  }

  /** The HTTP status that goes with this error's code. */
  get status(): number {
    return ERROR_CODES[this.code];
  }

  /** The error as the product's JSON error body. */
  toJSON(requestId?: string): ErrorBody {
    const error: ErrorBody['error'] = { code: this.code, message: this.message };
    if (requestId !== undefined) error.requestId = requestId;
    return { error };
  }
}

/** True when `value` names one of the stable error codes. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

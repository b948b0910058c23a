/** Longest key, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 512;

/** Default largest value, in bytes of its JSON text. */
export const DEFAULT_MAX_VALUE_BYTES = 8 * 1024 * 1024;

/** Default deepest nesting of arrays and objects in a value. */
export const DEFAULT_MAX_DEPTH = 64;

/** Limits a JSON value must respect to be stored. */
export interface ValueLimits {
  /** Largest JSON text, in bytes. */
  maxBytes: number;
  /** Deepest nesting of arrays and objects. */
  maxDepth: number;
}

/** The limits used when nothing else is configured. */
export const DEFAULT_VALUE_LIMITS: ValueLimits = {
  maxBytes: DEFAULT_MAX_VALUE_BYTES,
  maxDepth: DEFAULT_MAX_DEPTH,
};

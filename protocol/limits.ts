import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_VALUE_BYTES } from '../core/index.ts';

/** Default largest frame, in bytes, on both sides of a connection (16 MiB). */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/**
 * Default deepest nesting in a frame: the deepest value an entry may hold plus the few levels of
 * the message around it.
 */
export const DEFAULT_MAX_FRAME_DEPTH = DEFAULT_MAX_DEPTH + 8;

/** Default longest string or binary in a frame, in bytes: as long as the largest value. */
export const DEFAULT_MAX_STRING_BYTES = DEFAULT_MAX_VALUE_BYTES;

/** Hard limits checked on every frame before it is decoded. */
export interface FrameLimits {
  /** Largest frame, in bytes. */
  maxFrameBytes: number;
  /** Deepest nesting of arrays and maps. */
  maxDepth: number;
  /** Longest string or binary, in bytes. */
  maxStringBytes: number;
}

/** The frame limits used when nothing else is configured. */
export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  maxDepth: DEFAULT_MAX_FRAME_DEPTH,
  maxStringBytes: DEFAULT_MAX_STRING_BYTES,
};

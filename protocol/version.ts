import { LcmError } from '../core/index.ts';

/** The protocol version this build speaks. */
export const PROTOCOL_VERSION = 1;

/** Every protocol version this build can speak, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/**
 * The version both sides will speak, given the versions an agent offers in its hello: the newest
 * one this side supports. Throws `unsupported_version`, naming both lists, when there is none, so
 * that a frame of another version is refused instead of misread.
 */
export function negotiateVersion(offered: readonly number[]): number {
  const chosen = SUPPORTED_PROTOCOL_VERSIONS.find((version) => offered.includes(version));
  if (chosen !== undefined) return chosen;

  throw new LcmError(
    'unsupported_version',
    `protocol version ${offered.join(', ') || '(none)'} is not supported; ` +
      `this side speaks ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')}`,
  );
}

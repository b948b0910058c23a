/** First reconnect delay ceiling, in milliseconds. */
export const RECONNECT_BASE_MS = 100;

/** Largest reconnect delay, in milliseconds. */
export const RECONNECT_CAP_MS = 30_000;

/** First ceiling of the wait before asking again for a snapshot that failed, in milliseconds. */
export const RESYNC_BASE_MS = 100;

/** Largest wait before asking again for a snapshot of a tenant, in milliseconds. */
export const RESYNC_CAP_MS = 30_000;

/**
 * Exponential backoff with full jitter: a uniform draw between 0 and
 * min(cap, base * 2^attempt), for attempt 0, 1, 2 ...
 */
export function fullJitterDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first): exponential backoff with
 * full jitter, so that agents cut off together do not come back together. The origin's hint,
 * when it gave one, is a floor.
 */
export function reconnectDelayMs(
  attempt: number,
  hintMs = 0,
  random: () => number = Math.random,
): number {
  return Math.max(hintMs, fullJitterDelayMs(attempt, RECONNECT_BASE_MS, RECONNECT_CAP_MS, random));
}

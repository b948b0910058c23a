/** First reconnect delay ceiling, in milliseconds. */
export const RECONNECT_BASE_MS = 100;

/** Largest reconnect delay, in milliseconds. */
export const RECONNECT_CAP_MS = 30_000;

/**
 * How long to wait before reconnect attempt `attempt` (0 for the first): exponential backoff with
 * full jitter, a uniform draw between 0 and min(cap, base * 2^attempt), so that agents cut off
 * together do not come back together. The origin's hint, when it gave one, is a floor.
 */
export function reconnectDelayMs(
  attempt: number,
  hintMs = 0,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.min(attempt, 30));
  return Math.max(hintMs, Math.floor(random() * ceiling));
}

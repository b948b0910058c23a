import { isKekUnavailable } from './kek-errors.ts';

/** How reads retry a provider that is unavailable. */
export interface KekRetryOptions {
  /** Tries in all, first one included. */
  attempts: number;
  /** Pause before the first retry; doubles each time, with full jitter. */
  baseDelayMs: number;
  /** Longest pause between two tries. */
  maxDelayMs: number;
}

/** Three tries, 100 ms then up to 200 ms apart. */
export const DEFAULT_KEK_RETRY: KekRetryOptions = {
  attempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 2000,
};

/**
 * Runs `operation`, retrying it with exponential backoff and full jitter while it fails with
 * `kek_unavailable`. Any other error, and the last `kek_unavailable`, is thrown as is.
 */
export async function withKekRetry<T>(
  operation: () => Promise<T>,
  options: KekRetryOptions = DEFAULT_KEK_RETRY,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!isKekUnavailable(error) || attempt >= options.attempts) throw error;
    }
    const ceilingMs = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
    await new Promise((resolve) => setTimeout(resolve, Math.random() * ceilingMs));
  }
}

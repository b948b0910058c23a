import { LcmError } from './errors.ts';

/**
 * The `?reveal=` query parameter of secret reads, with one rule at the origin and the agent:
 * `true` or `1` reveals, `false`, `0` or no parameter does not, and anything else is 400
 * `bad_request`, so that a typo such as `reveal=yes` is not quietly read as "no".
 */
export function revealFlag(raw: string | undefined): boolean {
  if (raw === undefined || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new LcmError('bad_request', 'reveal is true, 1, false or 0');
}

import type { z } from 'zod';
import { LcmError } from '../../core/index.ts';

/** Checks a parsed JSON body against `schema`; `bad_request` naming the first problem. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new LcmError('bad_request', `${where}${issue?.message ?? 'the body is not valid'}`);
}

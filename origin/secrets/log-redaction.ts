import { SECRET_FIELD_PATHS } from '../../core/index.ts';

/** pino `redact` settings for the origin's logger: see {@link SECRET_FIELD_PATHS}. */
export const SECRET_LOG_REDACTION = { paths: [...SECRET_FIELD_PATHS], censor: '[redacted]' };

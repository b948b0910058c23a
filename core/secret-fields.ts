/**
 * Paths (in pino's redact syntax) of fields of a logged object that could hold a secret value,
 * a token or key material. Processes that log give them to their logger's redaction as a second
 * line of defence; the first is that the code never logs such values.
 */
export const SECRET_FIELD_PATHS: readonly string[] = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers["x-vault-token"]',
  'token',
  '*.token',
  'secretToken',
  '*.secretToken',
  'plaintext',
  '*.plaintext',
  'masterKey',
  '*.masterKey',
  'err.config',
  'err.request',
  'err.response',
  'err.cause.config',
];

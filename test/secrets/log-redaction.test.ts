import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { SECRET_LOG_REDACTION } from '../../origin/secrets/log-redaction.ts';

describe('log redaction', () => {
  it('censors tokens, plaintext and client request bodies that slip into a log object', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const log = pino({ redact: SECRET_LOG_REDACTION }, sink);

    log.warn(
      {
        req: { headers: { authorization: 'Bearer lcm_abc_secret', 'x-vault-token': 'hvs.abc' } },
        token: 'lcm_token_text',
        vault: { plaintext: 'ZGVrLWJ5dGVz' },
        err: { message: 'boom', config: { data: '{"plaintext":"ZGVrLWJ5dGVz"}' } },
      },
      'provider call failed',
    );

    const text = lines.join('');
    for (const leaked of ['lcm_abc_secret', 'hvs.abc', 'lcm_token_text', 'ZGVrLWJ5dGVz']) {
      expect(text).not.toContain(leaked);
    }
    expect(text).toContain('[redacted]');
    expect(text).toContain('boom');
  });
});

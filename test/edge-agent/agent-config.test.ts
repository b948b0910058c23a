import { describe, expect, it } from 'vitest';
import {
  DEFAULT_AGENT_PORT,
  RECONNECT_CAP_MS,
  reconnectDelayMs,
  resolveAgentConfig,
} from '../../edge-agent/index.ts';

describe('resolveAgentConfig', () => {
  it('takes flags first, then the environment, then documented defaults', () => {
    const config = resolveAgentConfig(
      { tenants: 'a,b' },
      { LCM_ORIGIN: 'ws://127.0.0.1:7400', LCM_TOKEN: 'tok', LCM_TENANTS: 'ignored' },
    );
    expect(config).toMatchObject({
      origin: 'ws://127.0.0.1:7400/',
      originHttpUrl: 'http://127.0.0.1:7400',
      token: 'tok',
      tenants: ['a', 'b'],
      port: DEFAULT_AGENT_PORT,
      host: '127.0.0.1',
      dataDir: './data/agent',
    });
    const agentToken = resolveAgentConfig(
      {},
      { LCM_ORIGIN: 'ws://o', LCM_TOKEN: 't1', LCM_AGENT_TOKEN: 't2', LCM_TENANTS: 'x' },
    );
    expect(agentToken.token).toBe('t2');
  });

  it('names every missing or malformed option in one error', () => {
    expect(() => resolveAgentConfig({ port: 'abc', tenants: 'Bad_Tenant' }, {})).toThrowError(
      /--origin.*--token.*Bad_Tenant.*--port/,
    );
  });
});

describe('reconnectDelayMs', () => {
  it('draws from 0 to base * 2^attempt, capped at 30 s, with the origin hint as a floor', () => {
    expect(reconnectDelayMs(0, 0, () => 0.999)).toBeLessThan(100);
    expect(reconnectDelayMs(3, 0, () => 0.5)).toBe(400);
    expect(reconnectDelayMs(50, 0, () => 0.999)).toBeLessThanOrEqual(RECONNECT_CAP_MS);
    expect(reconnectDelayMs(0, 2_000, () => 0)).toBe(2_000);
    const draws = Array.from({ length: 100 }, () => reconnectDelayMs(5));
    expect(new Set(draws).size).toBeGreaterThan(50);
  });
});

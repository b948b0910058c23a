import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, type TempDir } from '../support/temp-dir.ts';
import { runLcm } from './run-lcm.ts';

// `lcm origin` and `lcm agent` that cannot start: one line on standard error, no stack trace,
// and the exit code of the CLI's table.

const EXIT_USAGE = 2;
const EXIT_SERVER = 7;

let dataDir: TempDir;
let taken: Server;
let takenPort: number;

beforeAll(async () => {
  dataDir = makeTempDir('lcm-server-start');
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise((resolve) => taken.close(resolve));
  dataDir.remove();
});

/** The lines a run wrote to standard error that are not pino JSON log lines. */
function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
}

const agentArgs = (port: string) => [
  'agent',
  ...['--origin', 'ws://127.0.0.1:9', '--token', 'some-agent-token', '--tenants', 't'],
  ...['--host', '127.0.0.1', '--port', port, '--data', `${dataDir.path}/agent`],
];

describe('a server that cannot start', () => {
  it('reports a bad --port of lcm origin in one line and exits 2', async () => {
    const run = await runLcm(['origin', '--port', '99999', '--data', `${dataDir.path}/o1`]);
    expect(run.code).toBe(EXIT_USAGE);
    expect(errorLines(run.stderr)).toEqual([
      'error: origin settings: --port / PORT must be an integer from 0 to 65535, not "99999"',
    ]);
  });

  it('reports a bad setting from the environment in one line and exits 2', async () => {
    const run = await runLcm(['origin', '--port', '0', '--data', `${dataDir.path}/o2`], {
      env: { LCM_MAX_DEPTH: '-1' },
    });
    expect(run.code).toBe(EXIT_USAGE);
    expect(errorLines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('LCM_MAX_DEPTH');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('reports a taken port of lcm origin in one line and exits 7', async () => {
    const run = await runLcm([
      ...['origin', '--host', '127.0.0.1', '--port', String(takenPort)],
      ...['--data', `${dataDir.path}/o3`],
    ]);
    expect(run.code).toBe(EXIT_SERVER);
    expect(errorLines(run.stderr)).toEqual([
      `error: the origin could not start: listen EADDRINUSE: address already in use 127.0.0.1:${takenPort}`,
    ]);
  });

  it('reports a bad --port of lcm agent in one line and exits 2', async () => {
    const run = await runLcm(agentArgs('99999'));
    expect(run.code).toBe(EXIT_USAGE);
    expect(errorLines(run.stderr)).toHaveLength(1);
    expect(run.stderr).toContain('agent settings: --port');
  });

  it('reports a taken port of lcm agent in one line and exits 7', async () => {
    const run = await runLcm(agentArgs(String(takenPort)));
    expect(run.code).toBe(EXIT_SERVER);
    expect(errorLines(run.stderr)).toEqual([
      `error: the agent could not start: listen EADDRINUSE: address already in use 127.0.0.1:${takenPort}`,
    ]);
  });
});

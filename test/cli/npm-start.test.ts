import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { makeTempDir } from '../support/temp-dir.ts';
import { runLcm } from './run-lcm.ts';

const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const START_SCRIPT = join(PROJECT_ROOT, 'scripts/start.js');
const READY_LINE = 'Ctrl-C stops both.';
const START_TIMEOUT_MS = 60_000;
const TWO_STARTS_TIMEOUT_MS = 2 * START_TIMEOUT_MS + 30_000;

/** A port that was free a moment ago: the script needs fixed ports, tests must not use 7400. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

interface StartRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

async function npmStart(env: Record<string, string>): Promise<StartRun> {
  const child = spawn(process.execPath, [START_SCRIPT], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolveExit) => child.once('exit', resolveExit));

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!output.includes(READY_LINE)) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`npm start was not ready in time:\n${output}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 100));
  }
  return { child, output: () => output, exited };
}

describe('npm start (scripts/start.js)', () => {
  const data = makeTempDir('lcm-start');
  const running: ChildProcess[] = [];

  afterAll(() => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    data.remove();
  });

  // Two full start-ups on a busy machine: more than the suite's default minute.
  it('runs an origin and an agent with the examples, again without duplicates, and stops on Ctrl-C', {
    timeout: TWO_STARTS_TIMEOUT_MS,
  }, async () => {
    const originPort = await freePort();
    const agentPort = await freePort();
    const env = {
      LCM_DATA: data.path,
      LCM_ORIGIN_PORT: String(originPort),
      LCM_AGENT_PORT: String(agentPort),
    };
    const origin = `http://127.0.0.1:${originPort}`;
    const agent = `http://127.0.0.1:${agentPort}`;
    const adminToken = () => readFileSync(join(data.path, 'admin.token'), 'utf8').trim();

    const first = await npmStart(env);
    running.push(first.child);
    expect(first.output()).toContain(`origin       ${origin}`);
    expect(first.output()).toContain(`edge agent   ${agent}`);
    // Four configs and the secret, all in the one commit of revision 1.
    expect(first.output()).toContain('loaded 5 example keys as revision 1');
    expect(first.output()).toContain(`lcm get --agent ${agent} --tenant demo routers/default`);

    const read = await runLcm(['get', '--agent', agent, '--tenant', 'demo', 'routers/default']);
    expect(read.code, read.stderr).toBe(0);
    const example = readFileSync(
      join(PROJECT_ROOT, 'examples/config/routers/default.yaml'),
      'utf8',
    );
    expect(JSON.parse(read.stdout)).toEqual(parseYaml(example));

    const secretToken = readFileSync(join(data.path, 'agent-secret.token'), 'utf8').trim();
    const secretArgs = ['--tenant', 'demo', 'providers/openai/api-key'];
    const secret = await runLcm(
      ['secret', 'get', '--agent', agent, ...secretArgs, '--reveal', '--secret-token', secretToken],
      {},
    );
    expect(secret.code, secret.stderr).toBe(0);
    const exampleSecret = join(PROJECT_ROOT, 'examples/secrets/providers/openai/api-key.json');
    expect(JSON.parse(secret.stdout)).toEqual(JSON.parse(readFileSync(exampleSecret, 'utf8')));
    const keys = await runLcm(['keys', 'ls', '--tenant', 'demo', '--json'], {
      env: { LCM_ORIGIN: origin, LCM_TOKEN: adminToken() },
    });
    expect(JSON.parse(keys.stdout)).toMatchObject({ tenant: 'demo', versions: [{ version: 1 }] });

    const head = async () => {
      const listing = await runLcm(['tenant', 'ls', '--json'], {
        env: { LCM_ORIGIN: origin, LCM_TOKEN: adminToken() },
      });
      return JSON.parse(listing.stdout).tenants[0].headRevision as number;
    };
    const revisionAfterFirstRun = await head();
    expect(revisionAfterFirstRun).toBe(1);

    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('agent stopped');
    expect(first.output()).toContain('origin stopped');
    await expect(fetch(`${origin}/healthz`)).rejects.toThrow();
    await expect(fetch(`${agent}/healthz`)).rejects.toThrow();

    const second = await npmStart(env);
    running.push(second.child);
    expect(second.output()).toContain('examples already loaded (nothing committed)');
    expect(await head()).toBe(revisionAfterFirstRun);
    const tokens = await runLcm(['token', 'ls', '--json'], {
      env: { LCM_ORIGIN: origin, LCM_TOKEN: adminToken() },
    });
    const agentTokens = JSON.parse(tokens.stdout).tokens.filter(
      (token: { role: string }) => token.role === 'agent',
    );
    expect(agentTokens).toHaveLength(1);

    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});

import path from 'node:path';
import { sleep } from '../support/net.ts';
import { residentBytes, startProcess, stopProcess } from '../support/processes.ts';

/** How long a baseline process idles before its RSS is read. */
const IDLE_MS = 2_000;

/**
 * RSS in MiB of two idle processes that bound the agent's start-up cost: bare Node.js, and
 * Node.js with tsx having loaded the agent's modules (edge-agent/index.ts) without starting it.
 */
export async function baselineRss(repoRoot: string): Promise<{ node: number; modules: number }> {
  const measure = async (args: string[]) => {
    const child = startProcess(process.execPath, args, { name: 'baseline', cwd: repoRoot });
    await sleep(IDLE_MS);
    const bytes = await residentBytes(child.pid);
    await stopProcess(child);
    return bytes / 2 ** 20;
  };
  const idle = 'setInterval(() => {}, 60_000)';
  const agentIndex = path.join(repoRoot, 'edge-agent', 'index.ts');
  return {
    node: await measure(['-e', idle]),
    modules: await measure([
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(agentIndex)}); ${idle}`,
    ]),
  };
}

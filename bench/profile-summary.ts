// Summarizes a V8 CPU profile (from `--profile`, i.e. node --cpu-prof): the functions with the
// most self time, and time by package or source folder. A text stand-in for a flame graph.
// Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [top=25]
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topText] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary.ts FILE.cpuprofile [top]\n');
  process.exit(2);
}
const top = Number(topText ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMs = new Map<number, number>();
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i]!;
  selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
}

const byFunction = new Map<string, number>();
const byArea = new Map<string, number>();
for (const [id, ms] of selfMs) {
  const frame = byId.get(id)!.callFrame;
  const where = frame.url.replace(/^file:\/\//, '').replace(/^.*\/node_modules\//, 'node_modules/');
  const name = `${frame.functionName || '(anonymous)'} ${where ? `${shortPath(where)}:${frame.lineNumber + 1}` : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  byArea.set(
    area(where, frame.functionName),
    (byArea.get(area(where, frame.functionName)) ?? 0) + ms,
  );
}

const totalMs = (profile.endTime - profile.startTime) / 1000;
const print = (title: string, table: Map<string, number>, count: number) => {
  process.stdout.write(`\n${title}\n`);
  for (const [name, ms] of [...table].sort((a, b) => b[1] - a[1]).slice(0, count)) {
    process.stdout.write(
      `${ms.toFixed(1).padStart(9)} ms ${((ms / totalMs) * 100).toFixed(1).padStart(5)}%  ${name}\n`,
    );
  }
};
process.stdout.write(`${file}: ${totalMs.toFixed(0)} ms profiled\n`);
print('self time by area', byArea, 15);
print('self time by function', byFunction, top);

function shortPath(where: string): string {
  const parts = where.split('/');
  return parts.slice(-2).join('/');
}

function area(where: string, functionName: string): string {
  if (!where) return functionName.startsWith('(') ? functionName : '(native)';
  const module = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (module) return module[1]!;
  if (where.startsWith('node:')) return 'node: core';
  const own = /\/main\/([^/]+)\//.exec(where);
  return own ? `${own[1]}/` : where;
}

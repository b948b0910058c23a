// An open-loop load generator for latency at a fixed rate, in its own (pinned) process.
// Requests are scheduled at exact times; each latency is measured from the scheduled time, so a
// stalled server is charged for the requests it delayed (no coordinated omission). Speaks
// minimal HTTP/1.1 over raw keep-alive sockets so that the generator itself costs little.
// Input: FIXED_RATE_OPTIONS (JSON); output: one JSON line on stdout.
import { connect, type Socket } from 'node:net';

interface Options {
  host: string;
  port: number;
  path: string;
  ratePerSecond: number;
  durationMs: number;
  connections: number;
}

const options = JSON.parse(process.env.FIXED_RATE_OPTIONS ?? '{}') as Options;
const request = Buffer.from(
  `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\n\r\n`,
);
const HEADER_END = Buffer.from('\r\n\r\n');
/**
 * Requests sent at the same rate before measuring, not recorded: the first ones pay for JIT
 * compilation and lazy loading in both processes, a stall that would land in the tail.
 */
const WARMUP_MS = 1_000;
const warmupCount = Math.floor((options.ratePerSecond * WARMUP_MS) / 1000);
const total = Math.floor((options.ratePerSecond * options.durationMs) / 1000);
const latenciesMs = new Float64Array(total);
let recorded = 0;
let completed = 0;
let errors = 0;

interface Connection {
  socket: Socket;
  busy: boolean;
  scheduledAt: number;
  /** Whether this request's latency counts (false during the warm-up). */
  record: boolean;
  buffer: Buffer;
  expected: number;
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const idle: Connection[] = [];
const backlog: Array<[scheduledAt: number, record: boolean]> = [];

function open(): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const socket = connect(options.port, options.host);
    socket.setNoDelay(true);
    const connection: Connection = {
      socket,
      busy: false,
      scheduledAt: 0,
      record: false,
      buffer: Buffer.alloc(0),
      expected: -1,
    };
    socket.once('connect', () => resolve(connection));
    socket.once('error', reject);
    socket.on('data', (chunk) => onData(connection, chunk));
    socket.on('close', () => {
      if (connection.busy) errors++;
    });
  });
}

function onData(connection: Connection, chunk: Buffer): void {
  connection.buffer =
    connection.buffer.length === 0 ? chunk : Buffer.concat([connection.buffer, chunk]);
  if (connection.expected < 0) {
    const end = connection.buffer.indexOf(HEADER_END);
    if (end < 0) return;
    const head = connection.buffer.subarray(0, end).toString('latin1');
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!head.startsWith('HTTP/1.1 2') && !head.startsWith('HTTP/1.1 3')) errors++;
    connection.expected = end + 4 + Number(length?.[1] ?? 0);
  }
  if (connection.buffer.length < connection.expected) return;

  completed++;
  if (connection.record && recorded < total) {
    latenciesMs[recorded++] = now() - connection.scheduledAt;
  }
  connection.buffer = connection.buffer.subarray(connection.expected);
  connection.expected = -1;
  connection.busy = false;
  const next = backlog.shift();
  if (next === undefined) idle.push(connection);
  else send(connection, next[0], next[1]);
}

function send(connection: Connection, scheduledAt: number, record: boolean): void {
  connection.busy = true;
  connection.scheduledAt = scheduledAt;
  connection.record = record;
  connection.socket.write(request);
}

async function main(): Promise<void> {
  for (let i = 0; i < options.connections; i++) idle.push(await open());

  const intervalMs = 1000 / options.ratePerSecond;
  const start = now() + 5;
  const toIssue = warmupCount + total;
  let issued = 0;
  const deadline = start + WARMUP_MS + options.durationMs + 10_000;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const current = now();
      while (issued < toIssue && start + issued * intervalMs <= current) {
        const scheduledAt = start + issued * intervalMs;
        const record = issued >= warmupCount;
        issued++;
        const connection = idle.pop();
        if (connection) send(connection, scheduledAt, record);
        else backlog.push([scheduledAt, record]);
      }
      if ((issued >= toIssue && completed >= toIssue) || current > deadline) {
        resolve();
        return;
      }
      if (issued < toIssue && start + issued * intervalMs - now() < 1) setImmediate(tick);
      else setTimeout(tick, 0);
    };
    tick();
  });

  const elapsedMs = now() - start - WARMUP_MS;
  const samples = Array.from(latenciesMs.subarray(0, recorded)).sort((a, b) => a - b);
  const at = (q: number) =>
    samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)];
  process.stdout.write(
    `${JSON.stringify({
      p50: at(0.5),
      p99: at(0.99),
      p999: at(0.999),
      max: samples[samples.length - 1],
      count: recorded,
      scheduled: total,
      errors,
      achievedPerSecond: (recorded / elapsedMs) * 1000,
    })}\n`,
  );
  for (const connection of [...idle]) connection.socket.destroy();
  process.exit(0);
}

void main();

#!/usr/bin/env node
// `npm start`: the whole product on one machine. Installs the dependencies when node_modules is
// missing, starts an origin and an edge agent as child processes with their data under ./data,
// loads the project's examples into the tenant `demo` as one commit, and stops both on Ctrl-C.
// Running it again continues from the same data and commits nothing new.
//
// Only Node.js built-ins are used here: this script runs before the dependencies exist.
//
// Environment (all optional):
//   LCM_ORIGIN_PORT   origin port, default 7400
//   LCM_AGENT_PORT    agent read API port, default 7401
//   LCM_DATA          data folder, default ./data (origin database, tokens, logs; agent in agent/)
//   LCM_ADMIN_TOKEN   admin token of the origin, instead of the one it generates

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LCM_BIN = join(ROOT, 'bin', 'lcm.js');
const EXAMPLES_DIR = join(ROOT, 'examples', 'config');
const EXAMPLE_SECRETS_DIR = join(ROOT, 'examples', 'secrets');
const TENANT = 'demo';
const HOST = '127.0.0.1';
const ORIGIN_PORT = portFromEnv('LCM_ORIGIN_PORT', 7400);
const AGENT_PORT = portFromEnv('LCM_AGENT_PORT', 7401);
const DATA_DIR = resolve(process.cwd(), process.env.LCM_DATA || 'data');
const AGENT_TOKEN_FILE = join(DATA_DIR, 'agent-token.json');
const AGENT_SECRET_TOKEN_FILE = join(DATA_DIR, 'agent-secret.token');
const AGENT_SECRET_TOKEN_BYTES = 24;
const ORIGIN_URL = `http://${HOST}:${ORIGIN_PORT}`;
const AGENT_URL = `http://${HOST}:${AGENT_PORT}`;

const READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const STOP_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 10_000;

/** Children still running, stopped in reverse start order. */
const children = [];
let stopping = false;
/** True once both parts run and the examples are loaded. */
let ready = false;

// Never leave an origin or agent behind when this script dies on an error.
process.on('exit', () => {
  for (const entry of children) if (!entry.exited) entry.child.kill('SIGKILL');
});

main().catch((error) => {
  console.error(`npm start failed: ${error.message}`);
  stopAll(1);
});

async function main() {
  ensureDependencies();
  mkdirSync(DATA_DIR, { recursive: true });
  await assertPortFree(ORIGIN_PORT, 'LCM_ORIGIN_PORT');
  await assertPortFree(AGENT_PORT, 'LCM_AGENT_PORT');

  const origin = startChild('origin', [
    'origin',
    '--port',
    String(ORIGIN_PORT),
    '--host',
    HOST,
    '--data',
    DATA_DIR,
  ]);
  await waitFor('origin', origin, () => isHealthy(`${ORIGIN_URL}/healthz`));
  const adminToken = readAdminToken();
  const api = originApi(adminToken);

  await api('PUT', `/v1/tenants/${TENANT}`, {});
  const agentToken = await ensureAgentToken(api);

  const agent = startChild(
    'agent',
    [
      'agent',
      '--origin',
      `ws://${HOST}:${ORIGIN_PORT}`,
      '--tenants',
      TENANT,
      '--port',
      String(AGENT_PORT),
      '--data',
      join(DATA_DIR, 'agent'),
    ],
    { LCM_AGENT_TOKEN: agentToken, LCM_AGENT_SECRET_TOKEN: ensureAgentSecretToken() },
  );
  await waitFor('agent', agent, () => isHealthy(`${AGENT_URL}/healthz`));

  const loaded = loadExamples(adminToken);
  const tenant = await api('GET', `/v1/tenants/${TENANT}`);
  await waitFor('agent', agent, () => agentHasRevision(tenant.headRevision));

  ready = true;
  printBanner(loaded, tenant.headRevision, origin.child.pid, agent.child.pid);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => stopAll(0));
}

/** Runs `npm ci` (or `npm install` without a lock file) when the dependencies are missing. */
function ensureDependencies() {
  const needed = ['tsx', 'commander', 'hono', '@libsql/client', 'ws', 'yaml'];
  const missing = needed.filter(
    (name) => !existsSync(join(ROOT, 'node_modules', name, 'package.json')),
  );
  if (missing.length === 0) return;

  const hasLock = existsSync(join(ROOT, 'package-lock.json'));
  const command = hasLock
    ? ['ci', '--no-audit', '--no-fund']
    : ['install', '--no-audit', '--no-fund'];
  console.log(`node_modules is incomplete (no ${missing[0]}): running npm ${command[0]} first`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, command, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm ${command[0]} failed`);
}

/** Fails when something listens on `port` already, such as the parts of an earlier run. */
function assertPortFree(port, variable) {
  return new Promise((resolveCheck, reject) => {
    const probe = createServer();
    probe.once('error', (error) => {
      const reason =
        error.code === 'EADDRINUSE'
          ? `port ${port} is in use (another npm start still running?); stop it, or set ${variable}`
          : `cannot listen on port ${port}: ${error.message}`;
      reject(new Error(reason));
    });
    probe.listen(port, HOST, () => probe.close(() => resolveCheck()));
  });
}

/** Starts `lcm <args>` in its own process group, its output going to data/<name>.log. */
function startChild(name, args, env = {}) {
  const logPath = join(DATA_DIR, `${name}.log`);
  const log = openSync(logPath, 'a');
  const child = spawn(process.execPath, [LCM_BIN, ...args], {
    cwd: ROOT,
    // Its own process group: Ctrl-C reaches this script only, which stops the children in order.
    detached: process.platform !== 'win32',
    env: { ...process.env, ...env },
    stdio: ['ignore', log, log],
  });
  const pidPath = join(DATA_DIR, `${name}.pid`);
  writeFileSync(pidPath, `${child.pid}\n`);
  const entry = { name, child, logPath, exited: false };
  child.once('exit', (code, signal) => {
    entry.exited = true;
    rmSync(pidPath, { force: true });
    if (stopping) return;
    if (!ready) {
      console.error(`${name} stopped during start-up (code ${code}, signal ${signal}); its log:`);
      console.error(tailOf(logPath));
      stopAll(1);
      return;
    }
    // Once running, one part may stop (the walk-through stops the origin on purpose) while the
    // other keeps serving: an agent answers from its replica without its origin.
    const how = signal ? `signal ${signal}` : `code ${code}`;
    console.log(`${name} stopped (${how}); log: ${shown(logPath)}`);
    if (children.every((other) => other.exited)) process.exit(code === 0 || signal ? 0 : 1);
    console.log('the other part keeps running; Ctrl-C stops it');
  });
  children.push(entry);
  return entry;
}

/** Polls `check` until it is true, failing when the child exits or time runs out. */
async function waitFor(name, entry, check) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (entry.exited) throw new Error(`${name} exited; see ${shown(entry.logPath)}`);
    if (await check().catch(() => false)) return;
    await sleep(POLL_INTERVAL_MS);
  }
  throw new Error(`${name} was not ready within ${READY_TIMEOUT_MS} ms; see ${entry.logPath}`);
}

async function isHealthy(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  return response.ok;
}

async function agentHasRevision(revision) {
  const response = await fetch(`${AGENT_URL}/v1/status`, {
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  if (!response.ok) return false;
  const status = await response.json();
  return (status.tenants?.[TENANT]?.revision ?? -1) >= revision;
}

function readAdminToken() {
  if (process.env.LCM_ADMIN_TOKEN) return process.env.LCM_ADMIN_TOKEN;
  return readFileSync(join(DATA_DIR, 'admin.token'), 'utf8').trim();
}

/** A tiny client of the origin API with the admin token. */
function originApi(token) {
  return async (method, path, body) => {
    const response = await fetch(`${ORIGIN_URL}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) {
      const error = new Error(`${method} ${path} answered ${response.status}: ${text}`);
      error.status = response.status;
      throw error;
    }
    return text ? JSON.parse(text) : null;
  };
}

/**
 * The agent's token: the one saved in data/agent-token.json by an earlier run while the origin
 * still knows it, else a new `agent` token for the demo tenant, saved for the next run.
 */
async function ensureAgentToken(api) {
  if (existsSync(AGENT_TOKEN_FILE)) {
    const saved = JSON.parse(readFileSync(AGENT_TOKEN_FILE, 'utf8'));
    const tokens = await api('GET', '/v1/tokens');
    const list = Array.isArray(tokens) ? tokens : (tokens.items ?? []);
    if (list.some((token) => token.id === saved.id)) return saved.token;
  }
  const created = await api('POST', '/v1/tokens', { role: 'agent', tenants: [TENANT] });
  writeFileSync(AGENT_TOKEN_FILE, `${JSON.stringify(created)}\n`, { mode: 0o600 });
  return created.token;
}

/**
 * Applies examples/config, and the secret in examples/secrets, to the demo tenant as one commit,
 * through `lcm apply --add-only --secrets`:
 * keys that exist already, perhaps changed by the person trying the walk-through, stay as they
 * are, so a second run commits nothing.
 */
function loadExamples(adminToken) {
  const result = spawnSync(
    process.execPath,
    [
      ...[LCM_BIN, 'apply', '-f', EXAMPLES_DIR, '--secrets', EXAMPLE_SECRETS_DIR],
      ...['--tenant', TENANT, '--add-only', '--json'],
    ],
    {
      cwd: ROOT,
      env: { ...process.env, LCM_ORIGIN: ORIGIN_URL, LCM_TOKEN: adminToken, LCM_TOKEN_FILE: '' },
      encoding: 'utf8',
    },
  );
  if (result.status !== 0) {
    throw new Error(`loading the examples failed:\n${result.stderr || result.stdout}`);
  }
  return JSON.parse(result.stdout);
}

/**
 * The agent's local secret token, which lets a consumer on this machine reveal secrets at the
 * agent: made once and kept in data/agent-secret.token (owner-only).
 */
function ensureAgentSecretToken() {
  if (existsSync(AGENT_SECRET_TOKEN_FILE)) {
    return readFileSync(AGENT_SECRET_TOKEN_FILE, 'utf8').trim();
  }
  const token = randomBytes(AGENT_SECRET_TOKEN_BYTES).toString('base64url');
  writeFileSync(AGENT_SECRET_TOKEN_FILE, `${token}\n`, { mode: 0o600 });
  return token;
}

function printBanner(loaded, headRevision, originPid, agentPid) {
  const adminTokenFile = join(DATA_DIR, 'admin.token');
  const usesDefaultToken =
    !process.env.LCM_ADMIN_TOKEN &&
    adminTokenFile === resolve(process.cwd(), 'data', 'admin.token');
  const originFlag = ORIGIN_PORT === 7400 ? '' : ` --origin ${ORIGIN_URL}`;
  const tokenFlag =
    usesDefaultToken || process.env.LCM_ADMIN_TOKEN ? '' : ` --token-file ${shown(adminTokenFile)}`;
  const tokenNote = process.env.LCM_ADMIN_TOKEN
    ? 'LCM_ADMIN_TOKEN (from the environment; export LCM_TOKEN with it for lcm)'
    : `${shown(adminTokenFile)}${usesDefaultToken ? '   (lcm run from here uses it by default)' : ''}`;
  const examples = loaded.committed
    ? `loaded ${loaded.adds.length} example keys as revision ${loaded.revision}`
    : `examples already loaded (nothing committed)`;

  console.log(`
LLM-Config-Manager is running.
  origin       ${ORIGIN_URL}   (pid ${originPid} in ${shown(join(DATA_DIR, 'origin.pid'))}, log ${shown(join(DATA_DIR, 'origin.log'))})
  edge agent   ${AGENT_URL}   (pid ${agentPid} in ${shown(join(DATA_DIR, 'agent.pid'))}, log ${shown(join(DATA_DIR, 'agent.log'))})
  admin token  ${tokenNote}
  tenant ${TENANT} at revision ${headRevision}: ${examples}

Try next:
  npx --no-install lcm get --agent ${AGENT_URL} --tenant ${TENANT} routers/default
  npx --no-install lcm patch${originFlag}${tokenFlag} --tenant ${TENANT} routers/default '{"retries":{"max_attempts":3}}'
  npx --no-install lcm history${originFlag}${tokenFlag} --tenant ${TENANT} routers/default

Ctrl-C stops both.`);
}

/** A path relative to the working directory when it lies inside it, else absolute. */
function shown(path) {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/** Stops the children, newest first (the agent, then the origin), and exits. */
async function stopAll(exitCode) {
  if (stopping) {
    for (const entry of children) if (!entry.exited) entry.child.kill('SIGKILL');
    return;
  }
  stopping = true;
  for (const entry of [...children].reverse()) {
    if (entry.exited) continue;
    entry.child.kill('SIGTERM');
    const stopped = await Promise.race([
      new Promise((resolveExit) => entry.child.once('exit', () => resolveExit(true))),
      sleep(STOP_TIMEOUT_MS).then(() => false),
    ]);
    if (!stopped) entry.child.kill('SIGKILL');
    console.log(`${entry.name} stopped`);
  }
  process.exit(exitCode);
}

function portFromEnv(name, fallback) {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    console.error(`${name} must be a port number (1-65535), not ${text}`);
    process.exit(2);
  }
  return port;
}

function tailOf(path) {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

function sleep(ms) {
  return new Promise((resolveSleep) => setTimeout(resolveSleep, ms));
}

import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultPlan, type ServerFault } from './fault-plan.ts';

// A local stand-in for HashiCorp Vault that implements only what our Vault provider calls,
// following Vault's documented HTTP API: Transit encrypt, decrypt and rewrap, AppRole login, and
// token lookup-self and renew-self. Behind it is real AES-256-GCM with per-version key material,
// and for derived keys a per-context key from HKDF-SHA256. It is not Vault: it is what lets the
// provider be tested on machines where Vault cannot run.

/** One request as the server saw it, for tests that check what the client really sends. */
export interface RecordedVaultRequest {
  method: string;
  path: string;
  token: string | undefined;
  body: Record<string, unknown> | undefined;
}

/** Settings of the local Vault Transit server. */
export interface VaultTransitServerOptions {
  /** A token that never expires, like a dev root token. */
  rootToken?: string;
  /** AppRole credentials the login endpoint accepts. */
  approle?: { roleId: string; secretId: string };
  /** TTL of tokens issued by login and renewal, seconds. */
  tokenTtlSeconds?: number;
  /** Mount path of the Transit engine. */
  transitMount?: string;
}

interface TransitKey {
  derived: boolean;
  versions: Buffer[];
}

interface IssuedToken {
  expiresAt: number | null;
}

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** The running server. */
export interface VaultTransitServer {
  /** Base address, e.g. `http://127.0.0.1:43121`. */
  url: string;
  /** Every request received, oldest first. */
  requests: RecordedVaultRequest[];
  /** Faults applied to coming Transit requests. */
  faults: FaultPlan;
  /** Adds a new version to a key, as `POST transit/keys/:name/rotate` does in Vault. */
  rotateKey(name: string): void;
  /** The latest version of a key, 0 when it does not exist. */
  keyVersion(name: string): number;
  /** Makes a token invalid at once, as revocation or expiry would. */
  revokeToken(token: string): void;
  /** Tokens issued so far by login. */
  issuedTokens(): string[];
  close(): Promise<void>;
}

/** Starts a local Vault Transit server on 127.0.0.1 and a free port. */
export async function startVaultTransitServer(
  options: VaultTransitServerOptions = {},
): Promise<VaultTransitServer> {
  const mount = options.transitMount ?? 'transit';
  const ttlSeconds = options.tokenTtlSeconds ?? 3600;
  const tokens = new Map<string, IssuedToken>();
  const issued: string[] = [];
  const keys = new Map<string, TransitKey>();
  const requests: RecordedVaultRequest[] = [];
  const faults = new FaultPlan();
  if (options.rootToken !== undefined) tokens.set(options.rootToken, { expiresAt: null });

  const validToken = (token: string | undefined) => {
    if (token === undefined) return false;
    const entry = tokens.get(token);
    return entry !== undefined && (entry.expiresAt === null || entry.expiresAt > Date.now());
  };

  const issue = () => {
    const token = `hvs.${randomBytes(18).toString('base64url')}`;
    tokens.set(token, { expiresAt: Date.now() + ttlSeconds * 1000 });
    issued.push(token);
    return token;
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const tokenHeader = request.headers['x-vault-token'];
    const token = typeof tokenHeader === 'string' ? tokenHeader : undefined;
    const body = await readJson(request);
    requests.push({ method: request.method ?? '', path, token, body });

    if (request.method === 'POST' && path === '/v1/auth/approle/login') {
      const approle = options.approle;
      if (
        approle === undefined ||
        body?.role_id !== approle.roleId ||
        body?.secret_id !== approle.secretId
      ) {
        return send(response, 400, { errors: ['invalid role or secret ID'] });
      }
      const clientToken = issue();
      return send(response, 200, authAnswer(clientToken, ttlSeconds));
    }

    if (!validToken(token)) return send(response, 403, { errors: ['permission denied'] });

    if (request.method === 'GET' && path === '/v1/auth/token/lookup-self') {
      const entry = tokens.get(token!)!;
      const ttl = entry.expiresAt === null ? 0 : Math.ceil((entry.expiresAt - Date.now()) / 1000);
      return send(response, 200, dataAnswer({ ttl, renewable: entry.expiresAt !== null }));
    }
    if (request.method === 'POST' && path === '/v1/auth/token/renew-self') {
      const entry = tokens.get(token!)!;
      if (entry.expiresAt === null) {
        return send(response, 400, { errors: ['lease is not renewable'] });
      }
      entry.expiresAt = Date.now() + ttlSeconds * 1000;
      return send(response, 200, authAnswer(token!, ttlSeconds));
    }

    const match = new RegExp(`^/v1/${mount}/(encrypt|decrypt|rewrap)/([A-Za-z0-9._-]+)$`).exec(
      path,
    );
    if (request.method !== 'POST' || match === null) {
      return send(response, 404, { errors: [] });
    }

    const fault = faults.take();
    if (fault !== undefined && (await applyFault(fault, response))) return;
    const [, operation, name] = match;
    return transit(operation!, name!, body ?? {}, response);
  };

  const transit = (
    operation: string,
    name: string,
    body: Record<string, unknown>,
    response: ServerResponse,
  ) => {
    const context = typeof body.context === 'string' ? body.context : undefined;
    let key = keys.get(name);

    if (operation === 'encrypt' && key === undefined) {
      // Transit's encrypt creates a missing key (an upsert), derived when a context is given.
      key = { derived: context !== undefined, versions: [randomBytes(32)] };
      keys.set(name, key);
    }
    if (key === undefined) return send(response, 400, { errors: ['encryption key not found'] });
    if (key.derived && (context === undefined || context === '')) {
      return send(response, 400, {
        errors: ["missing 'context' for key derivation; the key was created using a derived key"],
      });
    }
    const contextBytes = key.derived ? Buffer.from(context!, 'base64') : Buffer.alloc(0);

    try {
      if (operation === 'encrypt') {
        const plaintext = decodeBase64(body.plaintext, 'plaintext');
        const ciphertext = seal(key, key.versions.length, contextBytes, plaintext);
        return send(response, 200, dataAnswer({ ciphertext, key_version: key.versions.length }));
      }
      const plaintext = open(key, contextBytes, body.ciphertext);
      if (operation === 'decrypt') {
        return send(response, 200, dataAnswer({ plaintext: plaintext.toString('base64') }));
      }
      const ciphertext = seal(key, key.versions.length, contextBytes, plaintext);
      return send(response, 200, dataAnswer({ ciphertext, key_version: key.versions.length }));
    } catch (error) {
      return send(response, 400, { errors: [(error as Error).message] });
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => send(response, 500, { errors: ['internal error'] }));
  });
  await listen(server);
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    rotateKey(name) {
      const key = keys.get(name);
      if (key === undefined) throw new Error(`no transit key ${name}`);
      key.versions.push(randomBytes(32));
    },
    keyVersion: (name) => keys.get(name)?.versions.length ?? 0,
    revokeToken: (token) => void tokens.delete(token),
    issuedTokens: () => [...issued],
    close: () => closeServer(server),
  };
}

function keyMaterial(key: TransitKey, version: number, context: Buffer): Buffer {
  const material = key.versions[version - 1]!;
  if (!key.derived) return material;
  return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), context, 32));
}

function seal(key: TransitKey, version: number, context: Buffer, plaintext: Buffer): string {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keyMaterial(key, version, context), nonce);
  const sealed = Buffer.concat([
    nonce,
    cipher.update(plaintext),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return `vault:v${version}:${sealed.toString('base64')}`;
}

function open(key: TransitKey, context: Buffer, ciphertext: unknown): Buffer {
  const match = typeof ciphertext === 'string' ? /^vault:v(\d+):(.+)$/.exec(ciphertext) : null;
  if (match === null) throw new Error('invalid ciphertext: no prefix');
  const version = Number(match[1]);
  if (version < 1 || version > key.versions.length) throw new Error('invalid key version');

  const sealed = Buffer.from(match[2]!, 'base64');
  if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new Error('invalid ciphertext length');
  const decipher = createDecipheriv(
    'aes-256-gcm',
    keyMaterial(key, version, context),
    sealed.subarray(0, NONCE_BYTES),
  );
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch {
    throw new Error('cipher: message authentication failed');
  }
}

function decodeBase64(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new Error(`failed to base64-decode ${field}`);
  }
  return Buffer.from(value, 'base64');
}

function dataAnswer(data: Record<string, unknown>) {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
  };
}

function authAnswer(clientToken: string, ttlSeconds: number) {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: {
      client_token: clientToken,
      accessor: randomUUID(),
      policies: ['default', 'lcm-transit'],
      lease_duration: ttlSeconds,
      renewable: true,
    },
  };
}

async function applyFault(fault: ServerFault, response: ServerResponse): Promise<boolean> {
  if (fault.delayMs !== undefined) await new Promise((r) => setTimeout(r, fault.delayMs));
  if (response.destroyed) return true;
  if (fault.garbage) {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"data": {"ciphertext": 42, "plaintext": "%%%not-base64%%%"}}');
    return true;
  }
  if (fault.status !== undefined) {
    send(response, fault.status, { errors: ['local server fault'] });
    return true;
  }
  return false;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return undefined;
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.destroyed || response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
}

async function listen(server: Server): Promise<void> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

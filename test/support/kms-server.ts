import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultPlan, type ServerFault } from './fault-plan.ts';

// A local stand-in for AWS KMS that implements only what our KMS provider calls, following
// KMS's documented wire protocol: AWS JSON 1.1 over `POST /`, the operation named by
// `X-Amz-Target: TrentService.<Operation>`, requests signed with Signature Version 4. It checks
// the Authorization header's shape and credential scope and recomputes the signature, and it
// encrypts with real AES-256-GCM, the encryption context bound as additional data, so that a
// context off by one character fails as it does in KMS. It is not KMS: it is what lets the
// provider be tested on machines where KMS cannot be reached.

/** One request as the server saw it, for tests that check what the client really sends. */
export interface RecordedKmsRequest {
  target: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown> | undefined;
}

/** Settings of the local KMS server. */
export interface KmsServerOptions {
  region?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** The running server. */
export interface KmsServer {
  /** Endpoint to give the SDK, e.g. `http://127.0.0.1:43122`. */
  url: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Every request received, oldest first. */
  requests: RecordedKmsRequest[];
  /** Faults applied to coming requests. */
  faults: FaultPlan;
  /** Creates a symmetric key and returns its ARN. */
  createKey(): string;
  close(): Promise<void>;
}

const ACCOUNT = '111122223333';
const BLOB_MAGIC = 0x4c;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const AUTHORIZATION_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([A-Z0-9]+)\/(\d{8})\/([a-z0-9-]+)\/kms\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/;

class KmsFailure extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Starts a local KMS server on 127.0.0.1 and a free port. */
export async function startKmsServer(options: KmsServerOptions = {}): Promise<KmsServer> {
  const region = options.region ?? 'eu-west-1';
  const credentials = {
    accessKeyId: options.accessKeyId ?? 'AKIALOCALKMSTEST0001',
    secretAccessKey: options.secretAccessKey ?? randomBytes(30).toString('base64'),
  };
  const keys = new Map<string, Buffer>();
  const requests: RecordedKmsRequest[] = [];
  const faults = new FaultPlan();

  const arnOf = (id: string) => `arn:aws:kms:${region}:${ACCOUNT}:key/${id}`;
  const keyIdOf = (keyId: unknown): string => {
    if (typeof keyId !== 'string') throw new KmsFailure('ValidationException', 'KeyId is required');
    const id = keyId.startsWith('arn:') ? keyId.split('/').pop()! : keyId;
    if (!keys.has(id) || (keyId.startsWith('arn:') && keyId !== arnOf(id))) {
      throw new KmsFailure('NotFoundException', `Key '${keyId}' does not exist`);
    }
    return id;
  };

  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    GenerateDataKey(body) {
      const id = keyIdOf(body.KeyId);
      const bytes = body.KeySpec === 'AES_256' ? 32 : body.KeySpec === 'AES_128' ? 16 : undefined;
      if (bytes === undefined) throw new KmsFailure('ValidationException', 'KeySpec is required');
      const plaintext = randomBytes(bytes);
      const blob = seal(keys, id, plaintext, contextOf(body.EncryptionContext));
      return { KeyId: arnOf(id), Plaintext: plaintext.toString('base64'), CiphertextBlob: blob };
    },
    Encrypt(body) {
      const id = keyIdOf(body.KeyId);
      const plaintext = blobBytes(body.Plaintext, 'Plaintext');
      const blob = seal(keys, id, plaintext, contextOf(body.EncryptionContext));
      return { KeyId: arnOf(id), CiphertextBlob: blob, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },
    Decrypt(body) {
      const { id, plaintext } = open(keys, body.CiphertextBlob, contextOf(body.EncryptionContext));
      if (body.KeyId !== undefined && keyIdOf(body.KeyId) !== id) {
        throw new KmsFailure('IncorrectKeyException', 'The key ID in the request does not match');
      }
      return {
        KeyId: arnOf(id),
        Plaintext: plaintext.toString('base64'),
        EncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
    ReEncrypt(body) {
      const source = open(keys, body.CiphertextBlob, contextOf(body.SourceEncryptionContext));
      if (body.SourceKeyId !== undefined && keyIdOf(body.SourceKeyId) !== source.id) {
        throw new KmsFailure('IncorrectKeyException', 'The source key ID does not match');
      }
      const destination = keyIdOf(body.DestinationKeyId);
      const context = contextOf(body.DestinationEncryptionContext);
      return {
        CiphertextBlob: seal(keys, destination, source.plaintext, context),
        KeyId: arnOf(destination),
        SourceKeyId: arnOf(source.id),
        SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT',
      };
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const raw = await readBody(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    requests.push({ target, headers: { ...request.headers }, body });

    try {
      if (request.method !== 'POST' || request.url !== '/') {
        throw new KmsFailure('UnknownOperationException', 'only POST / is served', 404);
      }
      if (request.headers['content-type'] !== 'application/x-amz-json-1.1') {
        throw new KmsFailure('SerializationException', 'Content-Type must be x-amz-json-1.1');
      }
      checkSignature(request, raw, region, credentials);

      const operation = /^TrentService\.([A-Za-z]+)$/.exec(target)?.[1];
      const run = operation === undefined ? undefined : operations[operation];
      if (run === undefined) throw new KmsFailure('UnknownOperationException', target);
      if (body === undefined) throw new KmsFailure('SerializationException', 'body is not JSON');

      const fault = faults.take();
      if (fault !== undefined && (await applyFault(fault, response))) return;
      send(response, 200, run(body));
    } catch (error) {
      if (error instanceof KmsFailure) {
        send(response, error.status, { __type: error.type, message: error.message });
      } else {
        send(response, 500, { __type: 'KMSInternalException', message: 'internal error' });
      }
    }
  };

  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    region,
    credentials,
    requests,
    faults,
    createKey() {
      const id = randomUUID();
      keys.set(id, randomBytes(32));
      return arnOf(id);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Checks a Signature Version 4 Authorization header: its shape, that the credential scope names
 * this server's access key, the request's date, this region and the `kms` service, and that the
 * signature is the one the secret key gives for this very request.
 */
function checkSignature(
  request: IncomingMessage,
  body: Buffer,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): void {
  const authorization = request.headers.authorization;
  if (authorization === undefined) {
    throw new KmsFailure('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  const match = AUTHORIZATION_PATTERN.exec(authorization);
  if (match === null) {
    throw new KmsFailure('IncompleteSignatureException', 'Authorization header is malformed');
  }
  const [, accessKeyId, date, scopeRegion, signedHeaderList, signature] = match;
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  if (accessKeyId !== credentials.accessKeyId) {
    throw new KmsFailure('UnrecognizedClientException', 'The security token is invalid');
  }
  if (!amzDate.startsWith(date!) || scopeRegion !== region) {
    throw new KmsFailure('InvalidSignatureException', 'Credential scope does not match');
  }
  const signedHeaders = signedHeaderList!.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
    throw new KmsFailure('InvalidSignatureException', 'host and x-amz-date must be signed');
  }

  const canonicalHeaders = signedHeaders
    .map((name) => `${name}:${headerValue(request, name)}\n`)
    .join('');
  const canonicalRequest = [
    request.method,
    '/',
    '',
    canonicalHeaders,
    signedHeaderList,
    sha256Hex(body),
  ].join('\n');
  const scope = `${date}/${region}/kms/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');

  let signingKey = hmac(`AWS4${credentials.secretAccessKey}`, date!);
  for (const part of [region, 'kms', 'aws4_request']) signingKey = hmac(signingKey, part);
  if (hmac(signingKey, stringToSign).toString('hex') !== signature) {
    throw new KmsFailure('InvalidSignatureException', 'The request signature does not match');
  }
}

function headerValue(request: IncomingMessage, name: string): string {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text.trim().replace(/\s+/g, ' ');
}

function contextOf(context: unknown): Buffer {
  if (context === undefined) return Buffer.from('{}');
  if (context === null || typeof context !== 'object' || Array.isArray(context)) {
    throw new KmsFailure('ValidationException', 'EncryptionContext must be a map');
  }
  const entries = Object.entries(context as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return Buffer.from(JSON.stringify(entries));
}

function seal(keys: Map<string, Buffer>, id: string, plaintext: Buffer, aad: Buffer): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', keys.get(id)!, iv);
  cipher.setAAD(aad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  const idBytes = Buffer.from(id, 'ascii');
  return Buffer.concat([Buffer.from([BLOB_MAGIC, idBytes.length]), idBytes, iv, sealed]).toString(
    'base64',
  );
}

function open(
  keys: Map<string, Buffer>,
  blobField: unknown,
  aad: Buffer,
): { id: string; plaintext: Buffer } {
  const blob = blobBytes(blobField, 'CiphertextBlob');
  const invalid = () => new KmsFailure('InvalidCiphertextException', '');
  if (blob.length < 2 || blob[0] !== BLOB_MAGIC) throw invalid();
  const idEnd = 2 + blob[1]!;
  const id = blob.subarray(2, idEnd).toString('ascii');
  const key = keys.get(id);
  if (key === undefined || blob.length < idEnd + IV_BYTES + TAG_BYTES) throw invalid();

  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(idEnd, idEnd + IV_BYTES));
  decipher.setAAD(aad);
  decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
  try {
    const plaintext = Buffer.concat([
      decipher.update(blob.subarray(idEnd + IV_BYTES, blob.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return { id, plaintext };
  } catch {
    throw invalid();
  }
}

function blobBytes(value: unknown, field: string): Buffer {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) {
    throw new KmsFailure('ValidationException', `${field} must be base64`);
  }
  return Buffer.from(value, 'base64');
}

async function applyFault(fault: ServerFault, response: ServerResponse): Promise<boolean> {
  if (fault.delayMs !== undefined) await new Promise((r) => setTimeout(r, fault.delayMs));
  if (response.destroyed) return true;
  if (fault.garbage) {
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
    response.end('<html>not a KMS answer</html>');
    return true;
  }
  if (fault.status !== undefined) {
    send(response, fault.status, { __type: 'KMSInternalException', message: 'local fault' });
    return true;
  }
  return false;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.destroyed || response.headersSent) return;
  response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
  response.end(JSON.stringify(body));
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

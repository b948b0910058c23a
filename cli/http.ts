import { CliError, kindOfStatus } from './cli-error.ts';

/** How long one request may take before the CLI gives up on it. */
export const REQUEST_TIMEOUT_MS = 60_000;

/** One HTTP request to the origin or an agent. */
export interface HttpRequest {
  method?: string;
  /** Full URL. */
  url: string;
  token?: string;
  headers?: Record<string, string>;
  /** A string or byte body is sent as it is; anything else is sent as JSON. */
  body?: unknown;
  contentType?: string;
  timeoutMs?: number;
  /** Statuses that are answers, not failures (304 for a conditional read, say). */
  accept?: number[];
  signal?: AbortSignal;
}

/** An answer, with the body read as text. */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

/**
 * Sends one request and reads the whole answer. A status of 400 or more becomes a
 * {@link CliError} carrying the server's error code and message; a connection that fails becomes
 * a `server` failure naming the URL.
 */
export async function httpRequest(request: HttpRequest): Promise<HttpResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  if (request.token) headers.authorization = `Bearer ${request.token}`;

  let body: string | Uint8Array | undefined;
  if (request.body !== undefined) {
    const raw = typeof request.body === 'string' || request.body instanceof Uint8Array;
    body = raw ? (request.body as string | Uint8Array) : JSON.stringify(request.body);
    headers['content-type'] = request.contentType ?? 'application/json';
  }

  const timeout = AbortSignal.timeout(request.timeoutMs ?? REQUEST_TIMEOUT_MS);
  const signal = request.signal ? AbortSignal.any([timeout, request.signal]) : timeout;

  let response: Response;
  let text: string;
  try {
    response = await fetch(request.url, { method: request.method ?? 'GET', headers, body, signal });
    text = await response.text();
  } catch (error) {
    throw transportError(request.url, error);
  }

  const { status } = response;
  if (status >= 400 && !request.accept?.includes(status)) {
    throw statusError(request, status, text);
  }
  return { status, headers: response.headers, text };
}

function transportError(url: string, error: unknown): CliError {
  const reason = error as { name?: string; cause?: { code?: string }; message?: string };
  const where = new URL(url).origin;
  if (reason.name === 'TimeoutError') {
    return new CliError('server', `${where} did not answer in time`, { cause: error });
  }
  if (reason.name === 'AbortError') {
    return new CliError('server', `the request to ${where} was cancelled`, { cause: error });
  }
  const code = reason.cause?.code ? ` (${reason.cause.code})` : '';
  return new CliError('server', `cannot reach ${where}${code}`, { cause: error });
}

function statusError(request: HttpRequest, status: number, text: string): CliError {
  let code: string | undefined;
  let message = `${request.method ?? 'GET'} ${new URL(request.url).pathname} answered ${status}`;
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.code === 'string') code = parsed.error.code;
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // A body that is not the product's error shape keeps the generic message.
  }
  return new CliError(kindOfStatus(status), message, { code });
}

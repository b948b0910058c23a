import type { OriginProcess } from './origin-process.ts';

/** An HTTP answer read whole. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON; undefined when it is not JSON. */
  body: unknown;
}

/** A request to the origin: JSON bodies are serialized unless `raw` is given. */
export interface ApiRequest {
  body?: unknown;
  /** Bytes or text sent as they are. */
  raw?: string | Uint8Array;
  /** Content-Type; `application/json` by default when there is a body. */
  type?: string;
  /** Token to send; the admin token by default, `null` to send none. */
  token?: string | null;
  headers?: Record<string, string>;
}

/** A small fetch-based client for origin tests, bound to one origin process. */
export function originApi(origin: Pick<OriginProcess, 'url' | 'adminToken'>) {
  return async (method: string, path: string, request: ApiRequest = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { ...request.headers };
    const token = request.token === undefined ? origin.adminToken : request.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;

    let body: string | Uint8Array | undefined = request.raw;
    if (body === undefined && request.body !== undefined) body = JSON.stringify(request.body);
    if (body !== undefined) headers['content-type'] = request.type ?? 'application/json';

    const response = await fetch(`${origin.url}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, text, body: parsed };
  };
}

/** The `error.code` of an error answer. */
export function errorCode(response: ApiResponse): string | undefined {
  return (response.body as { error?: { code?: string } } | undefined)?.error?.code;
}

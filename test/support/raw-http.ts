import { request } from 'node:http';

/** An answer to {@link requestPathAsIs}, read whole. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body parsed as JSON; undefined when it is not JSON. */
  body: unknown;
}

/**
 * Sends one HTTP request with `path` on the wire exactly as given (like `curl --path-as-is`):
 * fetch and `http.request(url)` resolve `.` and `..` segments before sending.
 */
export function requestPathAsIs(
  baseUrl: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<RawAnswer> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers: options.headers });
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
      });
      response.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body });
      });
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

import { ERROR_CODES } from '../../core/index.ts';

type Operation = { summary: string; responses: Record<string, string> };

const tenantParam = { name: 'tenant', in: 'path', required: true, schema: { type: 'string' } };
const keyParam = { name: 'key', in: 'path', required: true, schema: { type: 'string' } };

/** Every operation of the origin API, by path and method, with its success and error answers. */
const OPERATIONS: Record<string, Record<string, Operation>> = {
  '/healthz': { get: { summary: 'Liveness', responses: { 200: 'alive' } } },
  '/readyz': { get: { summary: 'Readiness', responses: { 200: 'ready', 503: 'unavailable' } } },
  '/metrics': { get: { summary: 'Prometheus metrics', responses: { 200: 'text exposition' } } },
  '/v1/tenants': { get: { summary: 'List tenants in scope', responses: { 200: 'tenants' } } },
  '/v1/tenants/{tenant}': {
    put: { summary: 'Create a tenant', responses: { 201: 'created', 200: 'existed' } },
    get: { summary: 'Read a tenant', responses: { 200: 'tenant', 404: 'not_found' } },
  },
  '/v1/tenants/{tenant}/entries': {
    get: {
      summary: 'List entries by prefix, in key order (prefix, limit, cursor)',
      responses: { 200: '{items, next}' },
    },
  },
  '/v1/tenants/{tenant}/entries/{key}': {
    get: {
      summary: 'Read a value (at head, ?revision=N or ?snapshot=NAME)',
      responses: {
        200: 'the value, ETag, X-Config-Revision',
        304: 'not modified',
        404: 'not_found',
      },
    },
    put: {
      summary: 'Write a value (If-Match, If-None-Match: *)',
      responses: { 200: '{key, revision, hash}', 412: 'revision_mismatch' },
    },
    patch: {
      summary: 'Patch a value: application/json-patch+json or application/merge-patch+json',
      responses: { 200: '{key, revision, hash}', 409: 'patch_conflict', 422: 'invalid_patch' },
    },
    delete: { summary: 'Delete a key', responses: { 200: '{key, revision}', 404: 'not_found' } },
  },
  '/v1/tenants/{tenant}/commits': {
    post: {
      summary: 'Commit several changes at one revision, all or nothing',
      responses: { 200: '{revision, changes}', 412: 'revision_mismatch' },
    },
  },
  '/v1/tenants/{tenant}/history/{key}': {
    get: { summary: 'Versions of a key, newest first', responses: { 200: 'history' } },
  },
  '/v1/tenants/{tenant}/diff/{key}': {
    get: { summary: 'RFC 6902 patch from ?from=A to ?to=B', responses: { 200: 'patch' } },
  },
  '/v1/tenants/{tenant}/rollback/{key}': {
    post: {
      summary: 'Restore the value of {revision} as a new revision',
      responses: { 200: 'ok' },
    },
  },
  '/v1/tenants/{tenant}/snapshots': {
    post: { summary: 'Name a revision', responses: { 201: 'created', 409: 'conflict' } },
    get: { summary: 'List snapshots', responses: { 200: 'snapshots' } },
  },
  '/v1/tenants/{tenant}/changes': {
    get: {
      summary: 'Change records after ?after=R, in revision order',
      responses: { 200: '{epoch, changes, next}', 410: 'compacted' },
    },
  },
  '/v1/tenants/{tenant}/compact': {
    post: { summary: 'Compact the change log now (admin)', responses: { 200: '{horizon}' } },
  },
  '/v1/tenants/{tenant}/secrets/{key}': {
    get: {
      summary:
        'Secret metadata; the plaintext with ?reveal=true for tokens allowed to reveal ' +
        '(&version=previous during an overlap; ?revision=N or ?snapshot=NAME)',
      responses: { 200: 'metadata [and value]', 403: 'forbidden', 404: 'not_found' },
    },
    put: {
      summary: 'Write a secret {value, rotate?: {overlapSeconds}, rotation?}, sealed at the origin',
      responses: { 200: '{key, revision, version}', 503: 'kek_unavailable' },
    },
  },
  '/v1/tenants/{tenant}/keys': {
    get: { summary: 'Data key versions and rotation progress', responses: { 200: 'keys' } },
  },
  '/v1/tenants/{tenant}/keys/rotate': {
    post: {
      summary: 'New data key version; secrets re-encrypted in the background (admin)',
      responses: { 202: 'rotation status', 503: 'kek_unavailable' },
    },
  },
  '/v1/keys/rewrap': {
    post: {
      summary: 'Re-wrap every data key under the current key-encryption key (admin)',
      responses: { 200: '{rewrapped, total, kekId}', 503: 'kek_unavailable' },
    },
  },
  '/v1/tokens': {
    post: { summary: 'Create a token (admin); shown once', responses: { 201: '{id, token}' } },
    get: { summary: 'List tokens (admin)', responses: { 200: 'tokens' } },
  },
  '/v1/tokens/{id}': { delete: { summary: 'Revoke a token (admin)', responses: { 200: 'ok' } } },
  '/v1/agents': { get: { summary: 'Connected agents (admin)', responses: { 200: 'agents' } } },
};

/** The OpenAPI 3.1 document served at `/openapi.json`. */
export function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, operations] of Object.entries(OPERATIONS)) {
    paths[path] = {};
    for (const [method, operation] of Object.entries(operations)) {
      const parameters = [
        ...(path.includes('{tenant}') ? [tenantParam] : []),
        ...(path.includes('{key}') ? [keyParam] : []),
      ];
      const responses = Object.fromEntries(
        Object.entries(operation.responses).map(([status, description]) => [
          status,
          { description },
        ]),
      );
      paths[path][method] = {
        summary: operation.summary,
        parameters,
        responses: { ...responses, default: { $ref: '#/components/responses/Error' } },
        ...(path.startsWith('/v1') && { security: [{ bearer: [] }] }),
      };
    }
  }

  return {
    openapi: '3.1.0',
    info: { title: 'LLM-Config-Manager origin', version: '1' },
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      responses: {
        Error: {
          description: 'An error with a stable code',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: {
            error: {
              type: 'object',
              required: ['code', 'message'],
              properties: {
                code: { type: 'string', enum: Object.keys(ERROR_CODES) },
                message: { type: 'string' },
                requestId: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
}

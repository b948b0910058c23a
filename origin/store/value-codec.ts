import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * gzip level for stored versions: 6 is zlib's default balance; on the model catalog it keeps a
 * 1.1 MB version near 130 KB at a few milliseconds per write.
 */
const VERSION_GZIP_LEVEL = 6;

/** Compresses a value's JSON text for the versions table. */
export function packVersion(jsonText: string): Uint8Array {
  return gzipSync(jsonText, { level: VERSION_GZIP_LEVEL });
}

/** The JSON text of a stored version. The driver hands BLOBs back as ArrayBuffer. */
export function unpackVersion(blob: ArrayBuffer | Uint8Array): string {
  const bytes = blob instanceof Uint8Array ? blob : new Uint8Array(blob);
  return gunzipSync(bytes).toString('utf8');
}

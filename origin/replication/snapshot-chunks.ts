import type { Entry } from '../../core/index.ts';

/** Room kept in a chunk for the message around the entries, in bytes. */
const ENTRY_OVERHEAD_BYTES = 128;

/**
 * Splits a snapshot's entries into chunks of about `chunkBytes` each (an entry larger than that
 * gets a chunk of its own), so that no frame comes near the frame limit.
 */
export function chunkEntries(entries: Entry[], chunkBytes: number): Entry[][] {
  const chunks: Entry[][] = [];
  let current: Entry[] = [];
  let size = 0;

  for (const entry of entries) {
    const entryBytes = JSON.stringify(entry.value).length + entry.key.length + ENTRY_OVERHEAD_BYTES;
    if (current.length > 0 && size + entryBytes > chunkBytes) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += entryBytes;
  }
  chunks.push(current);
  return chunks;
}

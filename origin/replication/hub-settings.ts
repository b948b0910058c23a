import { DEFAULT_MAX_FRAME_BYTES } from '../../protocol/index.ts';

/** Settings of the replication hub; each has a default in {@link DEFAULT_HUB_SETTINGS}. */
export interface HubSettings {
  /** A connection silent this long is closed; pings go out every third of it. */
  heartbeatTimeoutMs: number;
  /** Commits closer together than this go out in one frame. */
  coalesceMs: number;
  /** Past this many bytes queued on a socket, the agent is caught up from the log instead. */
  highWaterBytes: number;
  /** Catch-up waits until the socket's queue is below this many bytes. */
  lowWaterBytes: number;
  /** Largest frame, in bytes, sent or accepted. */
  maxFrameBytes: number;
  /** Target size of one snapshot chunk, in bytes. */
  snapshotChunkBytes: number;
  /** Change records read from the log per catch-up page. */
  pageRecords: number;
  /** Reconnect delay the origin asks for when it shuts down, in ms. */
  retryAfterShutdownMs: number;
  /** Reconnect delay the origin asks for after refusing an agent, in ms. */
  retryAfterErrorMs: number;
  /**
   * How often the heads of carried tenants are read for commits made by other origin processes
   * on the same database, in ms; 0 turns this off (one origin per database).
   */
  peerPollMs: number;
  /**
   * How often the tokens of connected agents are checked again, in ms, so that a token revoked
   * through another origin on the same database also cuts this origin's agents; 0 turns it off.
   */
  tokenRecheckMs: number;
}

/** The hub's defaults. */
export const DEFAULT_HUB_SETTINGS: HubSettings = {
  heartbeatTimeoutMs: 30_000,
  coalesceMs: 2,
  highWaterBytes: 8 * 1024 * 1024,
  lowWaterBytes: 1024 * 1024,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  snapshotChunkBytes: 4 * 1024 * 1024,
  pageRecords: 500,
  retryAfterShutdownMs: 500,
  retryAfterErrorMs: 5_000,
  peerPollMs: 500,
  tokenRecheckMs: 5_000,
};

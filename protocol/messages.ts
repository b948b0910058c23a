import { z } from 'zod';
import {
  assertJsonPatch,
  assertJsonValue,
  type ErrorCode,
  isEntryKey,
  isErrorCode,
  isTenantId,
  type JsonPatch,
  type JsonValue,
} from '../core/index.ts';

// The schemas below are the protocol: every decoded frame must match one of them exactly
// (strict objects, no unknown members), whatever msgpack turned the bytes into.

const tenantId = z.string().max(63).refine(isTenantId, 'not a tenant id');
const entryKey = z.string().max(512).refine(isEntryKey, 'not an entry key');
const revision = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const positiveInt = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
const epoch = z.string().min(1).max(128);
const contentHash = z.string().regex(/^[0-9a-f]{64}$/, 'not a content hash');
const millis = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const entryKind = z.enum(['config', 'secret']);

const jsonValue = z.custom<JsonValue>((value) => passes(() => assertJsonValue(value)), {
  message: 'not a JSON value within limits',
});
const jsonPatch = z.custom<JsonPatch>((patch) => passes(() => assertJsonPatch(patch)), {
  message: 'not a safe RFC 6902 patch',
});
const errorCode = z.custom<ErrorCode>((code) => isErrorCode(code), {
  message: 'not a known error code',
});

function passes(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false;
  }
}

/** What an agent already holds of one tenant, sent in its hello. */
export const tenantCursorSchema = z.strictObject({
  tenant: tenantId,
  /** The last revision applied; 0 when the agent holds nothing of the tenant. */
  revision,
  /** The store epoch that revision belongs to; null when the agent holds nothing. */
  epoch: epoch.nullable(),
});

/** Agent → origin, first frame: who the agent is and what it holds. */
export const helloSchema = z.strictObject({
  type: z.literal('hello'),
  /** Protocol versions the agent speaks; the origin picks one or refuses. */
  protocolVersions: z.array(positiveInt).min(1).max(16),
  /** A stable id the agent keeps in its replica across restarts. */
  agentId: z.string().min(1).max(128),
  /**
   * The agent's public key (base64 SPKI), so that the origin can wrap tenant data keys to it;
   * null while the agent has none.
   */
  agentPublicKey: z.string().max(8192).nullable(),
  /** One cursor per tenant the agent wants. */
  tenants: z.array(tenantCursorSchema).min(1).max(1024),
});

/** Per tenant, how the origin will bring the agent up to date. */
export const tenantPlanSchema = z.strictObject({
  tenant: tenantId,
  /** `resume`: change records follow from the agent's cursor; `snapshot`: a full copy follows. */
  mode: z.enum(['resume', 'snapshot']),
  /** The tenant's head revision at the origin when the plan was made. */
  headRevision: revision,
});

/** Origin → agent, answer to hello. */
export const welcomeSchema = z.strictObject({
  type: z.literal('welcome'),
  protocolVersion: positiveInt,
  epoch,
  /** A connection silent for this long is closed by either side. */
  heartbeatTimeoutMs: positiveInt,
  tenants: z.array(tenantPlanSchema).max(1024),
});

/** One entry of a snapshot. */
export const snapshotEntrySchema = z.strictObject({
  key: entryKey,
  kind: entryKind,
  value: jsonValue,
  revision: positiveInt,
  hash: contentHash,
});

/** Origin → agent: one chunk of a tenant snapshot; the chunk with `last` completes it. */
export const snapshotChunkSchema = z.strictObject({
  type: z.literal('snapshot'),
  tenant: tenantId,
  epoch,
  /** The tenant revision the whole snapshot reflects. */
  revision,
  /** 0, 1, 2 ... in order; chunk 0 starts a new snapshot. */
  chunk: z.number().int().min(0).max(1_000_000),
  entries: z.array(snapshotEntrySchema),
  last: z.boolean(),
});

/** One key's change inside a commit. */
export const deltaChangeSchema = z
  .strictObject({
    key: entryKey,
    op: z.enum(['put', 'patch', 'delete']),
    kind: entryKind,
    /** RFC 6902 operations from the previous value (configs). */
    patch: jsonPatch.optional(),
    /** The whole new value (secrets, or when a patch would be larger). */
    value: jsonValue.optional(),
    /** Content hash of the new value; null for a delete. */
    hash: contentHash.nullable(),
  })
  .refine(
    (change) =>
      change.op === 'delete'
        ? change.hash === null && change.patch === undefined && change.value === undefined
        : change.hash !== null && (change.patch === undefined) !== (change.value === undefined),
    'a delete has no patch, value or hash; a put or patch has a hash and one of patch or value',
  );

/** One commit of one tenant: every change it made, applied whole or not at all. */
export const deltaCommitSchema = z.strictObject({
  tenant: tenantId,
  revision: positiveInt,
  /** Commit time at the origin, milliseconds since the Unix epoch. */
  at: millis,
  changes: z.array(deltaChangeSchema).min(1),
});

/** Origin → agent: one or more commits, oldest first. */
export const deltaSchema = z.strictObject({
  type: z.literal('delta'),
  epoch,
  commits: z.array(deltaCommitSchema).min(1),
});

/** Agent → origin: the revisions the agent has durably applied. */
export const ackSchema = z.strictObject({
  type: z.literal('ack'),
  tenants: z
    .array(z.strictObject({ tenant: tenantId, revision }))
    .min(1)
    .max(1024),
});

/** Agent → origin: please send a fresh snapshot of this tenant. */
export const resyncSchema = z.strictObject({
  type: z.literal('resync'),
  tenant: tenantId,
  /** Why, in words, for the origin's log. */
  reason: z.string().max(512),
});

/** Either way: a heartbeat. */
export const pingSchema = z.strictObject({ type: z.literal('ping'), at: millis });

/** Either way: the answer to a heartbeat. */
export const pongSchema = z.strictObject({ type: z.literal('pong'), at: millis });

/** Either way: something went wrong; usually followed by a close. */
export const errorSchema = z.strictObject({
  type: z.literal('error'),
  code: errorCode,
  message: z.string().max(1024),
  /** The tenant concerned, when there is one. */
  tenant: tenantId.optional(),
  /** The origin's hint: wait at least this long before reconnecting. */
  retryAfterMs: millis.optional(),
});

/**
 * Origin → agent: tenant data keys wrapped to the agent's public key, so that it can open the
 * tenant's secrets. The secrets work fills these in; replication only carries them.
 */
export const keysSchema = z.strictObject({
  type: z.literal('keys'),
  tenant: tenantId,
  dataKeys: z
    .array(z.strictObject({ version: positiveInt, wrapped: z.instanceof(Uint8Array) }))
    .max(1024),
});

/** Every message of the protocol, told apart by `type`. */
export const messageSchema = z.discriminatedUnion('type', [
  helloSchema,
  welcomeSchema,
  snapshotChunkSchema,
  deltaSchema,
  ackSchema,
  resyncSchema,
  pingSchema,
  pongSchema,
  errorSchema,
  keysSchema,
]);

/** What an agent holds of one tenant. */
export type TenantCursor = z.infer<typeof tenantCursorSchema>;
/** The agent's first frame. */
export type HelloMessage = z.infer<typeof helloSchema>;
/** How one tenant will be brought up to date. */
export type TenantPlan = z.infer<typeof tenantPlanSchema>;
/** The origin's answer to a hello. */
export type WelcomeMessage = z.infer<typeof welcomeSchema>;
/** One entry of a snapshot chunk. */
export type SnapshotEntry = z.infer<typeof snapshotEntrySchema>;
/** One chunk of a tenant snapshot. */
export type SnapshotChunkMessage = z.infer<typeof snapshotChunkSchema>;
/** One key's change in a commit. */
export type DeltaChange = z.infer<typeof deltaChangeSchema>;
/** One commit, applied whole or not at all. */
export type DeltaCommit = z.infer<typeof deltaCommitSchema>;
/** One or more commits, oldest first. */
export type DeltaMessage = z.infer<typeof deltaSchema>;
/** Revisions the agent applied durably. */
export type AckMessage = z.infer<typeof ackSchema>;
/** An agent's request for a fresh snapshot. */
export type ResyncMessage = z.infer<typeof resyncSchema>;
/** A heartbeat. */
export type PingMessage = z.infer<typeof pingSchema>;
/** The answer to a heartbeat. */
export type PongMessage = z.infer<typeof pongSchema>;
/** An error, with the product's error code. */
export type ErrorMessage = z.infer<typeof errorSchema>;
/** Tenant data keys wrapped to one agent. */
export type KeysMessage = z.infer<typeof keysSchema>;
/** Any protocol message. */
export type Message = z.infer<typeof messageSchema>;
/** The `type` of a protocol message. */
export type MessageType = Message['type'];

/** Messages an agent may send to the origin. */
export const AGENT_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set([
  'hello',
  'ack',
  'resync',
  'ping',
  'pong',
  'error',
]);

/** Messages the origin may send to an agent. */
export const ORIGIN_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set([
  'welcome',
  'snapshot',
  'delta',
  'ping',
  'pong',
  'error',
  'keys',
]);

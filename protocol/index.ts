export { FrameCodec } from './codec.ts';
export { scanFrame } from './frame-scan.ts';
export {
  DEFAULT_FRAME_LIMITS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_FRAME_DEPTH,
  DEFAULT_MAX_STRING_BYTES,
  type FrameLimits,
} from './limits.ts';
export {
  type AckMessage,
  AGENT_MESSAGE_TYPES,
  type DeltaChange,
  type DeltaCommit,
  type DeltaMessage,
  type ErrorMessage,
  type HelloMessage,
  type KeysMessage,
  type Message,
  type MessageType,
  messageSchema,
  ORIGIN_MESSAGE_TYPES,
  type PingMessage,
  type PongMessage,
  type ResyncMessage,
  type SnapshotChunkMessage,
  type SnapshotEntry,
  type TenantCursor,
  type TenantPlan,
  type WelcomeMessage,
} from './messages.ts';
export { negotiateVersion, PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './version.ts';

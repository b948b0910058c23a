export { LcmError } from '../../core/index.ts';
export {
  ConfigClient,
  type ConfigClientOptions,
  type ConfigRead,
  type ConfigWatch,
  DEFAULT_CLIENT_WATCH_TIMEOUT_MS,
} from './config-client.ts';

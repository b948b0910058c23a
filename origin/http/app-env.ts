import type { Logger } from 'pino';
import type { AccessGrant } from '../auth/token-grant.ts';
import type { TokenStore } from '../auth/token-store.ts';
import type { OriginConfig } from '../config.ts';
import type { OriginMetrics } from '../metrics.ts';
import type { ReplicationHub } from '../replication/index.ts';
import type { OriginStore } from '../store/origin-store.ts';

/** What route handlers of the origin can reach. */
export interface OriginServices {
  config: OriginConfig;
  store: OriginStore;
  tokens: TokenStore;
  metrics: OriginMetrics;
  logger: Logger;
  /** The replication hub, once attached after the server listens. */
  hub(): ReplicationHub | undefined;
  /** False once shutdown began or before the store is ready. */
  ready(): boolean;
}

/** Hono environment of the origin app: per-request variables. */
export interface AppEnv {
  Variables: {
    /** Id of this request, echoed in `X-Request-Id` and in error bodies. */
    requestId: string;
    /** The authenticated token; set on every `/v1` route. */
    grant: AccessGrant;
  };
}

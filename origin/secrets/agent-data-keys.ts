import { encodeWrappedAgentDek, wrapDekForAgent } from '../../core/index.ts';
import type { DataKeyManager } from '../keys/data-key-manager.ts';

/** One tenant data key wrapped to one agent, as the protocol's `keys` frame carries it. */
export interface AgentDataKey {
  version: number;
  /** Bytes of the wrapped key (see `encodeWrappedAgentDek`). */
  wrapped: Uint8Array;
}

/**
 * What the replication hub asks of the secrets subsystem: a tenant's data keys wrapped to an
 * agent's public key, and word of new data key versions so that connected agents get them
 * before any secret sealed under them.
 */
export interface AgentDataKeySource {
  /**
   * Every data key version of `tenant` an agent may need (all but retired ones), each wrapped to
   * `agentPublicKey` for `agentId` only. The hub calls this only for tenants the agent's token
   * grants.
   */
  wrappedFor(tenant: string, agentId: string, agentPublicKey: string): Promise<AgentDataKey[]>;
  /**
   * Sets the function the hub uses to push a new version to its connected agents of a tenant;
   * the returned promise settles once it has been sent to each of them.
   */
  setPublisher(publish: (tenant: string, version: number) => Promise<void>): void;
}

/** The {@link AgentDataKeySource} over the origin's data key manager. */
export function agentDataKeySource(keys: DataKeyManager): AgentDataKeySource {
  return {
    async wrappedFor(tenant, agentId, agentPublicKey) {
      const versions = (await keys.versions(tenant)).filter((info) => info.state !== 'retired');
      const wrapped: AgentDataKey[] = [];
      for (const info of versions) {
        const raw = await keys.rawDataKey(tenant, info.version);
        const sealed = await wrapDekForAgent(raw, agentPublicKey, {
          tenant,
          dekVersion: info.version,
          agentId,
        });
        wrapped.push({ version: info.version, wrapped: encodeWrappedAgentDek(sealed) });
      }
      return wrapped;
    },
    setPublisher(publish) {
      keys.setPublisher(publish);
    },
  };
}

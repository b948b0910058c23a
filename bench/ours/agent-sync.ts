import { waitFor } from '../support/processes.ts';

/** The agent's `/v1/status` for one tenant, or null while it does not answer. */
export async function agentTenantStatus(
  agentUrl: string,
  tenant: string,
): Promise<{ connected: boolean; revision: number } | null> {
  const response = await fetch(`${agentUrl}/v1/status`).catch(() => null);
  if (response?.status !== 200) return null;
  const status = (await response.json()) as {
    connected: boolean;
    tenants: Record<string, { revision: number }>;
  };
  return { connected: status.connected, revision: status.tenants[tenant]?.revision ?? 0 };
}

/** Waits until the agent is connected and holds `tenant` at `revision` or later. */
export async function waitForRevision(
  agentUrl: string,
  tenant: string,
  revision: number,
  timeoutMs: number,
  intervalMs = 10,
): Promise<void> {
  await waitFor(
    `${agentUrl} to hold ${tenant} at revision ${revision}`,
    async () => {
      const status = await agentTenantStatus(agentUrl, tenant);
      return status?.connected === true && status.revision >= revision;
    },
    timeoutMs,
    intervalMs,
  );
}

/** Every key the agent lists for `tenant`. */
export async function agentKeyCount(agentUrl: string, tenant: string): Promise<number> {
  const response = await fetch(`${agentUrl}/v1/tenants/${tenant}/entries`);
  const body = (await response.json()) as { items: unknown[] };
  return body.items.length;
}

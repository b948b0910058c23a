import { Counter, Gauge, type Registry } from 'prom-client';

/** One agent's progress on one tenant, as the per-agent gauges report it at each scrape. */
export interface AgentTenantProgress {
  agentId: string;
  tenant: string;
  appliedRevision: number;
  lagRevisions: number;
  lagMs: number;
}

/** The replication hub's metrics, registered in the origin's registry. */
export class HubMetrics {
  readonly agentsConnected: Gauge;
  readonly bytesSent: Counter;
  readonly framesSent: Counter;
  readonly snapshotsSent: Counter;
  readonly slowAgentFallbacks: Counter;
  readonly protocolErrors: Counter;
  readonly appliedRevision: Gauge;
  readonly lagRevisions: Gauge;
  readonly lagSeconds: Gauge;

  /**
   * `progress` lists every connected agent's tenants; the per-agent gauges are filled from it at
   * each scrape, so a stuck agent's lag keeps growing and a gone agent leaves no series behind.
   */
  constructor(registry: Registry, progress: () => AgentTenantProgress[]) {
    const registers = [registry];
    const fill = (gauge: Gauge, value: (row: AgentTenantProgress) => number) => {
      gauge.reset();
      for (const row of progress())
        gauge.set({ agent: row.agentId, tenant: row.tenant }, value(row));
    };
    this.agentsConnected = new Gauge({
      name: 'lcm_replication_agents_connected',
      help: 'Agents connected and past their hello',
      registers,
    });
    this.bytesSent = new Counter({
      name: 'lcm_replication_sent_bytes_total',
      help: 'Bytes of protocol frames sent to agents',
      registers,
    });
    this.framesSent = new Counter({
      name: 'lcm_replication_frames_sent_total',
      help: 'Protocol frames sent to agents, by message type',
      labelNames: ['type'],
      registers,
    });
    this.snapshotsSent = new Counter({
      name: 'lcm_replication_snapshots_sent_total',
      help: 'Tenant snapshots sent to agents',
      labelNames: ['tenant'],
      registers,
    });
    this.slowAgentFallbacks = new Counter({
      name: 'lcm_replication_slow_agent_fallbacks_total',
      help: 'Times an agent fell behind and was switched from live frames to catch-up from the log',
      registers,
    });
    this.protocolErrors = new Counter({
      name: 'lcm_replication_protocol_errors_total',
      help: 'Agent frames rejected or connections refused, by error code',
      labelNames: ['code'],
      registers,
    });
    this.appliedRevision = new Gauge({
      name: 'lcm_replication_agent_applied_revision',
      help: 'Revision an agent acknowledged as applied',
      labelNames: ['agent', 'tenant'],
      registers,
      collect() {
        fill(this, (row) => row.appliedRevision);
      },
    });
    this.lagRevisions = new Gauge({
      name: 'lcm_replication_agent_lag_revisions',
      help: 'Revisions between the tenant head and what an agent acknowledged',
      labelNames: ['agent', 'tenant'],
      registers,
      collect() {
        fill(this, (row) => row.lagRevisions);
      },
    });
    this.lagSeconds = new Gauge({
      name: 'lcm_replication_agent_lag_seconds',
      help: 'Age of the oldest commit an agent has not acknowledged yet',
      labelNames: ['agent', 'tenant'],
      registers,
      collect() {
        fill(this, (row) => row.lagMs / 1000);
      },
    });
  }
}

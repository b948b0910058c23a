import { Counter, Gauge, type Registry } from 'prom-client';

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

  constructor(registry: Registry) {
    const registers = [registry];
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
    });
    this.lagRevisions = new Gauge({
      name: 'lcm_replication_agent_lag_revisions',
      help: 'Revisions between the tenant head and what an agent acknowledged',
      labelNames: ['agent', 'tenant'],
      registers,
    });
    this.lagSeconds = new Gauge({
      name: 'lcm_replication_agent_lag_seconds',
      help: 'Age of the oldest commit an agent has not acknowledged yet',
      labelNames: ['agent', 'tenant'],
      registers,
    });
  }
}

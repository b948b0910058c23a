import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The agent's Prometheus metrics, in a registry of its own. */
export class AgentMetrics {
  readonly registry = new Registry();

  /** The revision applied, per tenant. */
  readonly appliedRevision = new Gauge({
    name: 'lcm_agent_applied_revision',
    help: 'Last tenant revision applied to the replica',
    labelNames: ['tenant'],
    registers: [this.registry],
  });

  /** Revisions the agent is behind the origin's head as last announced. */
  readonly lagRevisions = new Gauge({
    name: 'lcm_agent_lag_revisions',
    help: 'Revisions between the origin head last announced and the revision applied',
    labelNames: ['tenant'],
    registers: [this.registry],
  });

  /** Time from a commit at the origin to its application here. */
  readonly lagSeconds = new Gauge({
    name: 'lcm_agent_lag_seconds',
    help: 'Seconds between the last applied commit at the origin and its application here',
    labelNames: ['tenant'],
    registers: [this.registry],
  });

  readonly framesReceived = new Counter({
    name: 'lcm_agent_frames_received_total',
    help: 'Protocol frames received from the origin, by message type',
    labelNames: ['type'],
    registers: [this.registry],
  });

  readonly bytesReceived = new Counter({
    name: 'lcm_agent_received_bytes_total',
    help: 'Bytes of protocol frames received from the origin',
    registers: [this.registry],
  });

  readonly reconnects = new Counter({
    name: 'lcm_agent_reconnects_total',
    help: 'Connections to the origin opened after the first one',
    registers: [this.registry],
  });

  readonly snapshots = new Counter({
    name: 'lcm_agent_snapshots_total',
    help: 'Tenant snapshots received and swapped in',
    labelNames: ['tenant'],
    registers: [this.registry],
  });

  readonly protocolErrors = new Counter({
    name: 'lcm_agent_protocol_errors_total',
    help: 'Frames rejected: undecodable, invalid, a gap in revisions or a hash mismatch',
    labelNames: ['code'],
    registers: [this.registry],
  });

  readonly connected = new Gauge({
    name: 'lcm_agent_connected',
    help: '1 while the agent holds a live connection to the origin',
    registers: [this.registry],
  });

  readonly readDuration = new Histogram({
    name: 'lcm_agent_read_duration_seconds',
    help: 'Time to answer a local entry read',
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.01, 0.05],
    registers: [this.registry],
  });
}

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Latency buckets for origin requests, in seconds: from a cached read to a large commit. */
const HTTP_LATENCY_BUCKETS_SECONDS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** The Prometheus metrics of one origin process, in a registry of its own. */
export class OriginMetrics {
  /** The process's registry; replication adds its metrics here too. */
  readonly registry: Registry;
  /** Requests by method, route pattern and status. */
  readonly httpRequests: Counter<'method' | 'route' | 'status'>;
  /** Request latency by method and route pattern. */
  readonly httpDuration: Histogram<'method' | 'route'>;
  /** Durable commits by tenant. */
  readonly commits: Counter<'tenant'>;
  /** Head revision by tenant. */
  readonly headRevision: Gauge<'tenant'>;

  constructor() {
    this.registry = new Registry();
    collectDefaultMetrics({ register: this.registry, prefix: 'lcm_origin_' });
    this.httpRequests = new Counter({
      name: 'lcm_origin_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.httpDuration = new Histogram({
      name: 'lcm_origin_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: HTTP_LATENCY_BUCKETS_SECONDS,
      registers: [this.registry],
    });
    this.commits = new Counter({
      name: 'lcm_origin_commits_total',
      help: 'Commits made durable, by tenant.',
      labelNames: ['tenant'],
      registers: [this.registry],
    });
    this.headRevision = new Gauge({
      name: 'lcm_origin_head_revision',
      help: 'Head revision of each tenant.',
      labelNames: ['tenant'],
      registers: [this.registry],
    });
  }
}

import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataKeyEvent } from '../keys/data-key-manager.ts';
import type { RotationStatus } from '../keys/data-key-rotation.ts';

/**
 * Prometheus metrics of the secrets subsystem. Labels name providers, operations and tenants,
 * never keys or values.
 */
export class SecretsMetrics {
  /** Key provider calls by operation and outcome. */
  readonly kekRequests: Counter<'provider' | 'operation' | 'outcome'>;
  /** Reads served from a data key past its TTL because the provider was down. */
  readonly staleDataKeys: Counter<'tenant'>;
  /** Secrets still to re-encrypt in a running data key rotation, by tenant. */
  readonly reencryptRemaining: Gauge<'tenant'>;

  constructor(
    registry: Registry,
    private readonly provider: string,
  ) {
    this.kekRequests = new Counter({
      name: 'lcm_origin_kek_requests_total',
      help: 'Key provider calls (generate, unwrap, rewrap), by provider, operation and outcome.',
      labelNames: ['provider', 'operation', 'outcome'],
      registers: [registry],
    });
    this.staleDataKeys = new Counter({
      name: 'lcm_origin_dek_stale_served_total',
      help: 'Data keys served past their cache TTL while the key provider was unavailable.',
      labelNames: ['tenant'],
      registers: [registry],
    });
    this.reencryptRemaining = new Gauge({
      name: 'lcm_origin_secret_reencrypt_remaining',
      help: 'Secrets still to re-encrypt in the running data key rotation, by tenant.',
      labelNames: ['tenant'],
      registers: [registry],
    });
  }

  /** Counts a data key manager event. */
  onDataKeyEvent(event: DataKeyEvent): void {
    if (event.type === 'provider_call') {
      const outcome = event.ok ? 'ok' : 'error';
      this.kekRequests.inc({ provider: this.provider, operation: event.operation, outcome });
    } else if (event.type === 'stale_data_key_served') {
      this.staleDataKeys.inc({ tenant: event.tenant });
    }
  }

  /** Records a rotation's progress. */
  onRotation(status: RotationStatus): void {
    const remaining = status.state === 'done' ? 0 : Math.max(0, status.total - status.done);
    this.reencryptRemaining.set({ tenant: status.tenant }, remaining);
  }
}

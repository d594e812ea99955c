/**
 * Prometheus metrics of the event bridge, in a registry of its own (several bridges can run in one process, e.g.
 * in tests). Served on `/metrics` by `server.ts`.
 *
 * Source: prom-client 15 (Registry, Counter, Gauge, Histogram); Prometheus naming conventions (`_total` for
 * counters, base units: seconds).
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../runtime/idle';

/** How one queued delivery ended. */
export type DeliveryOutcome =
  /** the function answered 2xx */
  | 'delivered'
  /** the function answered a status that is not retried (4xx bad input, 500 handler bug): logged and dropped */
  | 'rejected'
  /** the retry budget (`maxRetries`) ran out */
  | 'gave_up'
  /** the bridge stopped before the delivery finished (a restart lists everything again) */
  | 'abandoned'
  /** no URL is configured for the function */
  | 'no_target';

/** The bridge's metrics. */
export interface BridgeMetrics {
  readonly registry: Registry;
  /** changes seen by the informers, by `resource` (postgresql, operator-configmap, node) and `action` */
  readonly events: Counter<'resource' | 'action'>;
  /** finished deliveries, by `function` and `outcome` ({@link DeliveryOutcome}) */
  readonly deliveries: Counter<'function' | 'outcome'>;
  /** changes merged into a delivery already queued for the same object (bursts), by `function` */
  readonly coalesced: Counter<'function'>;
  /** attempts that failed and were retried, by `function` and `reason` (network, 429, 503, ...) */
  readonly retries: Counter<'function' | 'reason'>;
  /** deliveries waiting (not yet sent) */
  readonly queueDepth: Gauge;
  /** deliveries being sent, retries included */
  readonly inFlight: Gauge;
  /** seconds from the first change a delivery carries being seen to the function's 2xx answer, by `function` */
  readonly latency: Histogram<'function'>;
  /** informer restarts after a watch or list error, by `informer` */
  readonly informerRestarts: Counter<'informer'>;
}

/**
 * @param defaultMetrics also collect prom-client's process metrics (CPU, RSS, event loop lag); default true
 * @returns fresh metrics in a new registry
 */
export function createBridgeMetrics(defaultMetrics = true): BridgeMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (defaultMetrics) collectProcessMetrics(registry, 'bridge_');
  return {
    registry,
    events: new Counter({
      name: 'bridge_events_total',
      help: 'Changes seen by the informers',
      labelNames: ['resource', 'action'],
      registers,
    }),
    deliveries: new Counter({
      name: 'bridge_deliveries_total',
      help: 'Finished deliveries by function and outcome',
      labelNames: ['function', 'outcome'],
      registers,
    }),
    coalesced: new Counter({
      name: 'bridge_coalesced_total',
      help: 'Changes merged into an already queued delivery of the same object',
      labelNames: ['function'],
      registers,
    }),
    retries: new Counter({
      name: 'bridge_delivery_retries_total',
      help: 'Failed delivery attempts that were retried',
      labelNames: ['function', 'reason'],
      registers,
    }),
    queueDepth: new Gauge({ name: 'bridge_queue_depth', help: 'Deliveries waiting to be sent', registers }),
    inFlight: new Gauge({
      name: 'bridge_deliveries_in_flight',
      help: 'Deliveries being sent, retries included',
      registers,
    }),
    latency: new Histogram({
      name: 'bridge_delivery_latency_seconds',
      help: 'Time from a change being seen to the function answering 2xx',
      labelNames: ['function'],
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    informerRestarts: new Counter({
      name: 'bridge_informer_restarts_total',
      help: 'Informer restarts after a list or watch error',
      labelNames: ['informer'],
      registers,
    }),
  };
}

/**
 * @returns the current value of a counter for the given labels (0 when never incremented); for tests and reports
 */
export async function counterValue(counter: Counter<string>, labels: Record<string, string>): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
    .reduce((sum, v) => sum + v.value, 0);
}

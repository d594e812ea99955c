/**
 * What keeps an idle process asleep: a function host or the bridge with nothing to do wakes for no timer of its
 * own. Three timers used to wake it about twelve times a minute:
 *
 * - prom-client's event loop delay histogram (`perf_hooks.monitorEventLoopDelay`) samples on a libuv timer at its
 *   resolution. Its percentiles are dropped; `nodejs_eventloop_lag_seconds`, measured when `/metrics` is scraped,
 *   stays.
 * - Node's HTTP server checks its connections every `connectionsCheckingInterval` (30 s) to enforce
 *   `headersTimeout` and `requestTimeout`, whether or not a connection is open. A per-socket idle timeout
 *   (`server.timeout`), which runs only while a socket is open, takes its place.
 * - the periodic sync's cron (`lib/bridge/cron.ts`) slept in steps of at most 30 s; it now sleeps until its tick.
 *
 * Sources: Node.js `http.createServer` options (`connectionsCheckingInterval`, `requestTimeout`,
 * `headersTimeout`), `server.timeout`, `perf_hooks.monitorEventLoopDelay`; prom-client 15 `collectDefaultMetrics`.
 */
import type http from 'node:http';
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** The longest delay a Node.js timer takes (2^31 - 1 ms, about 24.8 days): "never" for a timer. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** prom-client's default metrics that only its event loop delay histogram feeds (names without prefix). */
const SAMPLED_LAG_METRICS = ['min', 'max', 'mean', 'stddev', 'p50', 'p90', 'p99'].map(
  (figure) => `nodejs_eventloop_lag_${figure}_seconds`,
);

/**
 * Registers prom-client's process metrics (CPU, memory, handles, GC, event loop lag at scrape time) without the
 * sampled event loop delay figures, whose timer would wake the process.
 * @param prefix prefix of every metric name, e.g. `bridge_`
 */
export function collectProcessMetrics(registry: Registry, prefix = ''): void {
  collectDefaultMetrics({ register: registry, prefix, eventLoopMonitoringPrecision: MAX_TIMER_MS });
  for (const name of SAMPLED_LAG_METRICS) registry.removeSingleMetric(`${prefix}${name}`);
}

/**
 * `http.createServer` options that start no connection-checking timer: the header and request timeouts it enforces
 * are off, so pair it with {@link closeIdleSockets}.
 */
export const QUIET_SERVER_OPTIONS: http.ServerOptions = {
  connectionsCheckingInterval: MAX_TIMER_MS,
  headersTimeout: 0,
  requestTimeout: 0,
};

/**
 * Closes a connection that stays silent for `ms` (Node's per-socket timeout: armed only while the socket is open).
 * @param ms longer than the slowest answer the server gives (a function's own timeout)
 */
export function closeIdleSockets(server: http.Server, ms: number): void {
  server.setTimeout(ms, (socket) => socket.destroy());
}

/**
 * Per-cluster metrics in the style of kube-state-metrics: computed on each scrape from the live `postgresql`
 * objects and their pods (no state kept between scrapes), one series per cluster, labelled `namespace` and
 * `cluster`. A fresh prom-client Registry per scrape, so a deleted cluster's series go with it.
 *
 * The metrics (all gauges; names per https://prometheus.io/docs/practices/naming/):
 * - `postgres_operator_cluster_info{team,version}` 1;
 * - `postgres_operator_cluster_status{status}` 1 for the cluster's Zalando status, 0 for the others (Creating,
 *   Updating, Running, CreateFailed, UpdateFailed, SyncFailed, Invalid), as kube-state-metrics' `*_status_phase`;
 * - `postgres_operator_cluster_pods_wanted` (`numberOfInstances`), `_pods` (existing), `_pods_ready` (Ready
 *   condition True), `_pods_outdated` (flagged for a rolling update: on an older pod template);
 * - `postgres_operator_cluster_rollout{state}` 1 for the `RollingUpdate` condition's state (`none`, `Done`, or its
 *   reason while True: `InProgress`, `Waiting`, `Stalled`, `WaitingForSlot`, `WaitingForMaintenanceWindow`,
 *   `Paused`, `Blocked`), and `_rollout_paused` 0/1;
 * - `postgres_operator_cluster_last_successful_sync_timestamp_seconds`: since when its syncs succeed (the last
 *   transition of `Degraded` to False; absent while Degraded);
 * - `postgres_operator_cluster_roles_synced` 0/1 (the `RolesSynced` condition; absent before the role step ran);
 * - `postgres_operator_cluster_sync_failing` 0/1: the last sync failed (`Degraded` True);
 * - `postgres_operator_cluster_condition{condition,status}` 1 per condition, as kube-state-metrics' `*_condition`.
 * A failed sync is a state here, not a count: the functions keep no counter (a `_total` would reset with every
 * function instance); `changes(postgres_operator_cluster_sync_failing[1h])` counts them on the Prometheus side.
 */
import { Gauge, Registry } from 'prom-client';
import type { ClusterSummary } from './shape';

/** Zalando's status values (`ClusterStatus*` in pkg/apis/acid.zalan.do/v1/const.go). */
export const CLUSTER_STATUSES = [
  'Creating',
  'Updating',
  'Running',
  'CreateFailed',
  'UpdateFailed',
  'SyncFailed',
  'Invalid',
] as const;

/** Every metric name this module writes (the Grafana dashboard's queries are checked against it). */
export const CLUSTER_METRIC_NAMES = [
  'postgres_operator_cluster_info',
  'postgres_operator_cluster_status',
  'postgres_operator_cluster_pods_wanted',
  'postgres_operator_cluster_pods',
  'postgres_operator_cluster_pods_ready',
  'postgres_operator_cluster_pods_outdated',
  'postgres_operator_cluster_rollout',
  'postgres_operator_cluster_rollout_paused',
  'postgres_operator_cluster_last_successful_sync_timestamp_seconds',
  'postgres_operator_cluster_roles_synced',
  'postgres_operator_cluster_sync_failing',
  'postgres_operator_cluster_condition',
] as const;

type MetricName = (typeof CLUSTER_METRIC_NAMES)[number];

const HELP: Record<MetricName, string> = {
  postgres_operator_cluster_info: 'A postgresql cluster, with its team and PostgreSQL version',
  postgres_operator_cluster_status: "The cluster's Zalando status (1 for the current one)",
  postgres_operator_cluster_pods_wanted: 'Pods the manifest asks for (numberOfInstances)',
  postgres_operator_cluster_pods: 'Pods of the cluster that exist',
  postgres_operator_cluster_pods_ready: 'Pods of the cluster whose Ready condition is True',
  postgres_operator_cluster_pods_outdated: 'Pods flagged for a rolling update (on an older pod template)',
  postgres_operator_cluster_rollout: "The rolling update's state (1 for the current one)",
  postgres_operator_cluster_rollout_paused: 'The rolling update is paused by annotation',
  postgres_operator_cluster_last_successful_sync_timestamp_seconds:
    'Unix time since which the syncs succeed (the Degraded condition last turned False)',
  postgres_operator_cluster_roles_synced: 'Roles and databases match the manifest (RolesSynced condition)',
  postgres_operator_cluster_sync_failing: 'The last sync failed (Degraded condition True)',
  postgres_operator_cluster_condition: 'A status condition of the cluster (1 per condition and status)',
};

/**
 * @param clusters the summaries of the clusters to report (`clusterSummary`)
 * @returns a registry holding this scrape's metrics; `await registry.metrics()` is the text exposition
 */
export function clusterMetrics(clusters: readonly ClusterSummary[]): Registry {
  const registry = new Registry();
  const gauge = (name: MetricName, extra: string[] = []) =>
    new Gauge({ name, help: HELP[name], labelNames: ['namespace', 'cluster', ...extra], registers: [registry] });
  const info = gauge('postgres_operator_cluster_info', ['team', 'version']);
  const status = gauge('postgres_operator_cluster_status', ['status']);
  const wanted = gauge('postgres_operator_cluster_pods_wanted');
  const pods = gauge('postgres_operator_cluster_pods');
  const ready = gauge('postgres_operator_cluster_pods_ready');
  const outdated = gauge('postgres_operator_cluster_pods_outdated');
  const rollout = gauge('postgres_operator_cluster_rollout', ['state']);
  const paused = gauge('postgres_operator_cluster_rollout_paused');
  const lastSync = gauge('postgres_operator_cluster_last_successful_sync_timestamp_seconds');
  const roles = gauge('postgres_operator_cluster_roles_synced');
  const failing = gauge('postgres_operator_cluster_sync_failing');
  const condition = gauge('postgres_operator_cluster_condition', ['condition', 'status']);
  for (const c of clusters) {
    const key = { namespace: c.namespace, cluster: c.name };
    info.set({ ...key, team: c.team, version: c.version }, 1);
    for (const value of CLUSTER_STATUSES) status.set({ ...key, status: value }, c.status === value ? 1 : 0);
    wanted.set(key, c.wantedPods);
    pods.set(key, c.pods);
    ready.set(key, c.readyPods);
    outdated.set(key, c.outdatedPods);
    rollout.set({ ...key, state: c.rollout }, 1);
    paused.set(key, c.paused ? 1 : 0);
    if (c.lastSuccessfulSync !== undefined) lastSync.set(key, c.lastSuccessfulSync);
    const rolesSynced = c.conditions.find((x) => x.type === 'RolesSynced');
    if (rolesSynced) roles.set(key, rolesSynced.status === 'True' ? 1 : 0);
    const degraded = c.conditions.find((x) => x.type === 'Degraded');
    failing.set(key, degraded?.status === 'True' ? 1 : 0);
    for (const x of c.conditions) condition.set({ ...key, condition: x.type, status: x.status }, 1);
  }
  return registry;
}

/**
 * The operator API's answers, shaped from live objects: pure functions of what was read (no client, no clock), so
 * the API function, the metrics and a UI compute the same views. The shapes are Zalando's operator v1.15.1's where
 * it has the path, with Go's field names as its JSON encoder writes them: `pkg/apiserver/apiserver.go`,
 * `pkg/controller/logs_and_api.go`, `pkg/cluster/types.go` ClusterStatus, `pkg/spec/types.go` LogEntry and
 * ControllerStatus under https://github.com/zalando/postgres-operator/tree/v1.15.1.
 */
import { isFlagged } from '../sync/pods/flags';
import { criticalOpPdbName, pdbName, replicaServiceName } from '../builders/names';
import type { OperatorConfig } from '../model/config';
import type { Condition } from '../model/postgresql';
import { ROLLING_UPDATE_PAUSED_ANNOTATION } from '../model/annotations';

/** A live object as read from the API server (any kind). */
export interface LiveObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  [key: string]: unknown;
}

/** A `postgresql` object as read (its spec unvalidated: the API shows what is stored). */
export interface PostgresqlObject extends LiveObject {
  spec?: {
    teamId?: string;
    numberOfInstances?: number;
    postgresql?: { version?: string };
    volume?: { size?: string };
    databases?: Record<string, string> | null;
    [key: string]: unknown;
  };
  status?: unknown;
}

/** A cluster's namespace and name. */
export interface ClusterKey {
  namespace: string;
  name: string;
}

const nameOf = (o: LiveObject): string => o.metadata?.name ?? '';
const namespaceOf = (o: LiveObject): string => o.metadata?.namespace ?? '';
const byKey = (a: LiveObject, b: LiveObject) =>
  namespaceOf(a).localeCompare(namespaceOf(b)) || nameOf(a).localeCompare(nameOf(b));

/** @returns the object's `status` when it is the structured status this operator writes, else undefined */
export function structuredStatus(
  object: PostgresqlObject,
): { PostgresClusterStatus?: string; conditions?: Condition[]; warnings?: string[] } | undefined {
  const status = object.status;
  return status && typeof status === 'object' && !Array.isArray(status)
    ? (status as { PostgresClusterStatus?: string; conditions?: Condition[] })
    : undefined;
}

/** @returns Zalando's status string of a `postgresql` object (`Running`, ...), `''` when it has none */
export function clusterStatusText(object: PostgresqlObject): string {
  if (typeof object.status === 'string') return object.status;
  return structuredStatus(object)?.PostgresClusterStatus ?? '';
}

/** @returns the condition of that type on the object's status, if any */
export function conditionOf(object: PostgresqlObject, type: string): Condition | undefined {
  return structuredStatus(object)?.conditions?.find((c) => c.type === type);
}

/**
 * `GET /clusters/`: cluster names by team, the team lower-cased as Zalando keys it (`controller/postgresql.go`
 * addCluster). A cluster without a `teamId` is under `""`. Names in namespace, then name order.
 */
export function teamClusters(objects: readonly PostgresqlObject[]): Record<string, string[]> {
  const teams: Record<string, string[]> = {};
  for (const object of [...objects].sort(byKey)) {
    const team = (object.spec?.teamId ?? '').toLowerCase();
    (teams[team] ??= []).push(nameOf(object));
  }
  return teams;
}

/**
 * `GET /clusters/{team}/`: the names of that team's clusters (the team matched as Zalando does, after lower-casing
 * the manifests' `teamId`; the path's team is taken as written).
 * @returns the names, or undefined when the team has none (Zalando: "could not find clusters for the team")
 */
export function clustersOfTeam(objects: readonly PostgresqlObject[], team: string): string[] | undefined {
  return teamClusters(objects)[team];
}

/**
 * `GET /databases/`: each cluster's database names (`spec.databases` keys), sorted, keyed by cluster name as Zalando
 * does (two clusters of one name in two namespaces share a key; the later namespace wins). Clusters without
 * databases are left out, as Zalando leaves them out.
 */
export function clusterDatabases(objects: readonly PostgresqlObject[]): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const object of [...objects].sort(byKey)) {
    const names = Object.keys(object.spec?.databases ?? {}).sort();
    if (names.length > 0) result[nameOf(object)] = names;
  }
  return result;
}

/**
 * @returns the time (unix seconds) since which the cluster's syncs succeed: the last transition of its `Degraded`
 *   condition to False; undefined when it is Degraded or has no such condition. The status is written only when it
 *   changes (a sync that changes nothing writes nothing), so no later sync time is stored anywhere.
 */
export function lastSuccessfulSyncSeconds(object: PostgresqlObject): number | undefined {
  const degraded = conditionOf(object, 'Degraded');
  if (degraded?.status !== 'False' || !degraded.lastTransitionTime) return undefined;
  const ms = Date.parse(degraded.lastTransitionTime);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/**
 * `GET /status/`: Zalando's ControllerStatus. `LastSyncTime` (unix seconds) is the latest
 * {@link lastSuccessfulSyncSeconds} of the clusters (0 when none); `WorkerQueueSize` is empty: there are no
 * workers, each event is a function call.
 */
export function controllerStatus(objects: readonly PostgresqlObject[]): {
  LastSyncTime: number;
  Clusters: number;
  WorkerQueueSize: Record<string, number>;
} {
  const times = objects.map(lastSuccessfulSyncSeconds).filter((t): t is number => t !== undefined);
  return { LastSyncTime: times.length > 0 ? Math.max(...times) : 0, Clusters: objects.length, WorkerQueueSize: {} };
}

/** The children of one cluster as read by kind and name (`Kind/name`, e.g. `Service/acid-minimal`). */
export type ClusterChildren = ReadonlyMap<string, unknown>;

/**
 * `GET /clusters/{namespace}/{cluster}/`: Zalando's ClusterStatus. The objects are the live ones (null when
 * missing). `CurrentProcess` is the rollout or sync in progress as the status conditions say (`RollingUpdate` True,
 * else `Progressing` True), with the time it began; `Worker` is 0 (no workers); `Error` is the failure message of a
 * `Degraded` cluster, else null. `Status` is the object's whole status (Zalando's string and the conditions).
 */
export function clusterStatusView(
  object: PostgresqlObject,
  children: ClusterChildren,
  config: OperatorConfig,
): Record<string, unknown> {
  const name = nameOf(object);
  const child = (kind: string, childName: string) => children.get(`${kind}/${childName}`) ?? null;
  const rolling = conditionOf(object, 'RollingUpdate');
  const progressing = conditionOf(object, 'Progressing');
  const current = rolling?.status === 'True' ? rolling : progressing?.status === 'True' ? progressing : undefined;
  const degraded = conditionOf(object, 'Degraded');
  return {
    Team: object.spec?.teamId ?? '',
    Cluster: name,
    Namespace: namespaceOf(object),
    MasterService: child('Service', name),
    ReplicaService: child('Service', replicaServiceName(name)),
    MasterEndpoint: child('Endpoints', name),
    ReplicaEndpoint: child('Endpoints', replicaServiceName(name)),
    StatefulSet: child('StatefulSet', name),
    PrimaryPodDisruptionBudget: child('PodDisruptionBudget', pdbName(config, name)),
    CriticalOpPodDisruptionBudget: child('PodDisruptionBudget', criticalOpPdbName(name)),
    CurrentProcess: {
      Name: current ? `${current.type}: ${current.reason ?? ''}` : '',
      StartTime: current?.lastTransitionTime ?? '0001-01-01T00:00:00Z',
    },
    Worker: 0,
    Status: object.status ?? {},
    Spec: object.spec ?? {},
    Error: degraded?.status === 'True' ? (degraded.message ?? degraded.reason ?? 'degraded') : null,
  };
}

/** A core/v1 Event as read (the fields the log view uses). */
export interface EventObject extends LiveObject {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  eventTime?: string | null;
  involvedObject?: { kind?: string; name?: string; namespace?: string; uid?: string };
  source?: { component?: string };
  reportingComponent?: string;
}

/** One line of `GET /clusters/{namespace}/{cluster}/logs/`: Zalando's LogEntry, plus the Event's reason and count. */
export interface LogEntry {
  Time: string;
  /** logrus' level names: `info` for a Normal Event, `warning` for a Warning */
  Level: string;
  /** `namespace/name`, as Zalando's NamespacedName marshals */
  ClusterName: string;
  Worker: number;
  Message: string;
  Reason: string;
  Count: number;
}

/** @returns when an Event last happened (lastTimestamp, else eventTime, else firstTimestamp, else creation) */
export function eventTime(event: EventObject): string {
  return event.lastTimestamp ?? event.eventTime ?? event.firstTimestamp ?? event.metadata?.creationTimestamp ?? '';
}

/**
 * `GET /clusters/{namespace}/{cluster}/logs/`: the cluster's recent steps as its Events say them (every step a sync,
 * a rollout or a drain takes is recorded as an Event about the `postgresql` object), oldest first, at most `limit`
 * (the newest). Zalando keeps a ring buffer of log lines in memory (`ring_log_lines`, 100); here the Events are the
 * record, kept by the API server for its event TTL (one hour by default).
 */
export function clusterLogs(events: readonly EventObject[], cluster: ClusterKey, limit = 100): LogEntry[] {
  return events
    .filter(
      (e) =>
        e.involvedObject?.kind === 'postgresql' &&
        e.involvedObject.name === cluster.name &&
        (e.involvedObject.namespace ?? namespaceOf(e)) === cluster.namespace,
    )
    .map((e) => ({
      Time: eventTime(e),
      Level: e.type === 'Warning' ? 'warning' : 'info',
      ClusterName: `${cluster.namespace}/${cluster.name}`,
      Worker: 0,
      Message: e.message ?? '',
      Reason: e.reason ?? '',
      Count: e.count ?? 1,
    }))
    .sort((a, b) => a.Time.localeCompare(b.Time))
    .slice(-limit);
}

/** Config keys whose values are credentials: shown as `<redacted>` by `GET /config/`. */
const SECRET_KEY = /(secret|password|api_key|access_key|account_key|token|credentials)/i;

/**
 * `GET /config/`: `{controller, operator}` as Zalando answers it. `operator` is the parsed operator config under
 * Zalando's ConfigMap key names, with credentials (keys naming a secret, password, API key, access key or token)
 * replaced by `<redacted>` (Zalando shows them). `controller` says where the config was read and what is watched.
 */
export function configView(
  config: OperatorConfig,
  controller: { ConfigMapName: ClusterKey; Namespace: string; WatchedNamespaces: string[] | '*'; Warnings: string[] },
): { controller: Record<string, unknown>; operator: Record<string, unknown> } {
  const operator: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config).sort(([a], [b]) => a.localeCompare(b))) {
    const empty = value === '' || value === undefined || value === null;
    operator[key] = SECRET_KEY.test(key) && !empty ? '<redacted>' : value;
  }
  return {
    controller: {
      ConfigMapName: { Namespace: controller.ConfigMapName.namespace, Name: controller.ConfigMapName.name },
      Namespace: controller.Namespace,
      WatchedNamespaces: controller.WatchedNamespaces,
      Warnings: controller.Warnings,
    },
    operator,
  };
}

/** A pod as read (the fields the summaries use). */
export interface PodObject extends LiveObject {
  status?: { phase?: string; conditions?: Array<{ type?: string; status?: string }> };
}

/** @returns whether the pod's `Ready` condition is True (`hasReadyCondition` of lib/k8s/pods.ts, for untyped pods) */
export function isPodReady(pod: PodObject): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** One cluster at a glance: the fleet table of a UI and the per-cluster metrics read these. */
export interface ClusterSummary {
  namespace: string;
  name: string;
  team: string;
  /** `spec.postgresql.version` */
  version: string;
  /** `spec.numberOfInstances` */
  wantedPods: number;
  /** pods of the cluster whose Ready condition is True */
  readyPods: number;
  /** pods of the cluster that exist */
  pods: number;
  /** pods flagged for a rolling update (on an older pod template) */
  outdatedPods: number;
  /** `spec.volume.size` */
  volume: string;
  /** Zalando's status string */
  status: string;
  conditions: Condition[];
  /** `RollingUpdate` condition: `none` when no rollout ever ran, else its reason (`InProgress`, `Paused`, ...) or `Done` */
  rollout: string;
  /** the `acid.zalan.do/rolling-update-paused` annotation is `true` */
  paused: boolean;
  /** unix seconds, see {@link lastSuccessfulSyncSeconds} */
  lastSuccessfulSync?: number;
}

/**
 * @param pods the cluster's pods (selected by its labels)
 * @returns the summary of one cluster
 */
export function clusterSummary(object: PostgresqlObject, pods: readonly PodObject[]): ClusterSummary {
  const rolling = conditionOf(object, 'RollingUpdate');
  const last = lastSuccessfulSyncSeconds(object);
  return {
    namespace: namespaceOf(object),
    name: nameOf(object),
    team: object.spec?.teamId ?? '',
    version: String(object.spec?.postgresql?.version ?? ''),
    wantedPods: Number(object.spec?.numberOfInstances ?? 0),
    readyPods: pods.filter(isPodReady).length,
    pods: pods.length,
    outdatedPods: pods.filter(isFlagged).length,
    volume: String(object.spec?.volume?.size ?? ''),
    status: clusterStatusText(object),
    conditions: structuredStatus(object)?.conditions ?? [],
    rollout: !rolling ? 'none' : rolling.status === 'True' ? (rolling.reason ?? 'InProgress') : 'Done',
    paused: object.metadata?.annotations?.[ROLLING_UPDATE_PAUSED_ANNOTATION] === 'true',
    ...(last !== undefined ? { lastSuccessfulSync: last } : {}),
  };
}

/**
 * @param clusterLabel the config's `cluster_name_label` (pods carry `<label>: <cluster name>`)
 * @returns the pods of each cluster, keyed `namespace/name`
 */
export function podsByCluster(pods: readonly PodObject[], clusterLabel: string): Map<string, PodObject[]> {
  const result = new Map<string, PodObject[]>();
  for (const pod of pods) {
    const cluster = pod.metadata?.labels?.[clusterLabel];
    if (!cluster) continue;
    const key = `${namespaceOf(pod)}/${cluster}`;
    result.set(key, [...(result.get(key) ?? []), pod]);
  }
  return result;
}

/** Zalando's WorkerStatus of a busy worker. */
export interface WorkerStatus {
  CurrentCluster: { Namespace: string; Name: string };
  CurrentProcess: { Name: string; StartTime: string };
}

/**
 * `GET /workers/{id}/status`: Zalando answers `"idle"`, or the cluster and process its worker is on (its e2e tests
 * wait for `/workers/all/status` to be `{"0":"idle"}` as "the operator is in sync"). Here there is one worker, `0`:
 * busy while a cluster is progressing (its `RollingUpdate` or `Progressing` condition True), on the first such
 * cluster in namespace and name order.
 */
export function workerStatus(objects: readonly PostgresqlObject[]): 'idle' | WorkerStatus {
  for (const object of [...objects].sort(byKey)) {
    const busy = [conditionOf(object, 'RollingUpdate'), conditionOf(object, 'Progressing')].find(
      (c) => c?.status === 'True',
    );
    if (busy)
      return {
        CurrentCluster: { Namespace: namespaceOf(object), Name: nameOf(object) },
        CurrentProcess: {
          Name: `${busy.type}: ${busy.reason ?? ''}`,
          StartTime: busy.lastTransitionTime ?? '0001-01-01T00:00:00Z',
        },
      };
  }
  return 'idle';
}

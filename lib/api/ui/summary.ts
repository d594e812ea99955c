/**
 * What the UI shows, computed from the live objects read for one request: a row of the fleet table per
 * `postgresql` object, and the cluster page (children and their state, pods with their Patroni role and lag, the
 * rolling update's steps, the Events, connection details without secrets). Pure: the objects (and, for the lag,
 * Patroni's `GET /cluster` answer) come in; nothing is read here.
 *
 * Sources: Kubernetes API reference (apps/v1 StatefulSetStatus, core/v1 Pod status and conditions, core/v1 Event,
 * policy/v1 PodDisruptionBudgetStatus); Zalando docs, reference/operator_parameters.md (`pod_role_label`,
 * `cluster_name_label`); Patroni REST API `GET /cluster` (members' role, state and lag in bytes).
 */
import type { KubeObject } from '../../k8s/client';
import { ROLLING_UPDATE_ANNOTATION } from '../../builders/statefulset';
import { ROLLING_UPDATE_PAUSED_ANNOTATION, SYNC_NOW_ANNOTATION } from '../../model/annotations';
import { storedStatus } from '../../plan/cluster-status';
import { findRolloutCondition } from '../../plan/rollout-condition';
import type { PatroniCluster } from '../../patroni/types';

/** One condition as shown: the meta/v1 Condition fields the table needs. */
export interface ConditionView {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}

/** Where a cluster's rolling update stands. */
export interface RolloutView {
  /** pods flagged `zalando-postgres-operator-rolling-update-required: "true"` (still on an older template) */
  podsOnOldTemplate: number;
  /** pods of the cluster */
  pods: number;
  /** `acid.zalan.do/rolling-update-paused: "true"` is set */
  paused: boolean;
  /** the `RollingUpdate` condition's reason and message, when a rollout ever ran */
  reason?: string;
  message?: string;
  active: boolean;
}

/** One row of the fleet table. */
export interface FleetRow {
  team: string;
  namespace: string;
  name: string;
  version: string;
  podsReady: number;
  podsWanted: number;
  volume: string;
  /** Zalando's `PostgresClusterStatus` (`Running`, `Creating`, ...), `Deleting`, or `Unknown` before the first sync */
  status: string;
  conditions: ConditionView[];
  rollout: RolloutView;
  /** a `sync-now` annotation waits to be honoured */
  syncRequested: boolean;
}

/** Label names of the operator config the summaries depend on. */
export interface LabelNames {
  /** `cluster_name_label`, default `cluster-name` */
  clusterName: string;
  /** `pod_role_label`, default `spilo-role` */
  podRole: string;
}

export const DEFAULT_LABEL_NAMES: LabelNames = { clusterName: 'cluster-name', podRole: 'spilo-role' };

/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read field by field, any kind */
const annotation = (object: KubeObject, key: string): string | undefined => object.metadata?.annotations?.[key];

/** @returns whether a pod's Ready condition is True (core/v1 PodCondition) */
export function podReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');
}

/** @returns the pods of one cluster among pods of a namespace, by `cluster_name_label` */
export function podsOf(pods: readonly KubeObject[], cluster: KubeObject, labels: LabelNames): KubeObject[] {
  return pods.filter(
    (pod) =>
      pod.metadata?.namespace === cluster.metadata?.namespace &&
      pod.metadata?.labels?.[labels.clusterName] === cluster.metadata?.name,
  );
}

/** @returns the rollout of a cluster from its object and its pods */
export function rolloutView(cluster: KubeObject, pods: readonly KubeObject[]): RolloutView {
  const condition = findRolloutCondition(storedStatus(cluster)?.conditions);
  return {
    podsOnOldTemplate: pods.filter((pod) => annotation(pod, ROLLING_UPDATE_ANNOTATION) === 'true').length,
    pods: pods.length,
    paused: annotation(cluster, ROLLING_UPDATE_PAUSED_ANNOTATION) === 'true',
    active: condition?.status === 'True',
    ...(condition?.reason ? { reason: condition.reason } : {}),
    ...(condition?.message ? { message: condition.message } : {}),
  };
}

/**
 * @param cluster the `postgresql` object as read
 * @param statefulSet its StatefulSet (named as the cluster), when there is one
 * @param pods the cluster's pods
 * @returns the fleet table's row
 */
export function fleetRow(
  cluster: KubeObject,
  statefulSet: KubeObject | undefined,
  pods: readonly KubeObject[],
): FleetRow {
  const status = storedStatus(cluster);
  const spec = cluster.spec ?? {};
  return {
    team: String(spec.teamId ?? ''),
    namespace: cluster.metadata?.namespace ?? '',
    name: cluster.metadata?.name ?? '',
    version: String(spec.postgresql?.version ?? ''),
    podsReady: statefulSet?.status?.readyReplicas ?? pods.filter(podReady).length,
    podsWanted: typeof spec.numberOfInstances === 'number' ? spec.numberOfInstances : 0,
    volume: String(spec.volume?.size ?? ''),
    status: cluster.metadata?.deletionTimestamp ? 'Deleting' : (status?.PostgresClusterStatus ?? 'Unknown'),
    conditions: (status?.conditions ?? []).map((c) => ({
      type: c.type,
      status: c.status,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
      ...(c.lastTransitionTime ? { lastTransitionTime: c.lastTransitionTime } : {}),
    })),
    rollout: rolloutView(cluster, pods),
    syncRequested: annotation(cluster, SYNC_NOW_ANNOTATION) !== undefined,
  };
}

/** One child object and a short state text. */
export interface ChildView {
  kind: string;
  name: string;
  state: string;
}

/** One pod of the cluster. */
export interface PodView {
  name: string;
  /** the pod's role label (`master`, `replica`), else Patroni's role, else empty */
  role: string;
  ready: boolean;
  phase: string;
  node: string;
  ip: string;
  onOldTemplate: boolean;
  /** Patroni's member state (`running`, `streaming`, ...), when Patroni answered */
  patroniState?: string;
  /** bytes behind the leader as Patroni reports it; `unknown` when Patroni did not answer or does not know */
  lag: number | string;
}

/** One Event as shown in the timeline. */
export interface EventView {
  time: string;
  type: string;
  reason: string;
  object: string;
  message: string;
  count: number;
}

/** Connection details: hosts and Secret names, never a password. */
export interface ConnectionView {
  host: string;
  replicaHost: string;
  port: number;
  databases: string[];
  /** each manifest user and the Secret holding its password (the Secret is not read) */
  users: Array<{ name: string; secret?: string }>;
}

/** The cluster page. */
export interface ClusterPage extends FleetRow {
  children: ChildView[];
  pods: PodView[];
  /** rollout and switchover Events, oldest first */
  steps: EventView[];
  /** every Event about the cluster or its children, newest first */
  events: EventView[];
  connection: ConnectionView;
  /** the manifest's spec, for reading */
  spec: unknown;
  /** a problem reading part of the page (e.g. not allowed to list Secrets), shown instead of that part */
  notes: string[];
}

/** @returns a short state text for a child object of a known kind */
export function childState(object: KubeObject): string {
  const s = object.status ?? {};
  switch (object.kind) {
    case 'StatefulSet':
    case 'Deployment':
      return `${s.readyReplicas ?? 0}/${object.spec?.replicas ?? 0} ready`;
    case 'Service':
      return [object.spec?.type ?? 'ClusterIP', object.spec?.clusterIP].filter(Boolean).join(' ');
    case 'Endpoints': {
      const addresses = (object.subsets ?? []).flatMap((subset: any) => subset.addresses ?? []);
      return addresses.length ? addresses.map((a: any) => a.ip).join(', ') : 'no addresses';
    }
    case 'PodDisruptionBudget':
      return `minAvailable ${object.spec?.minAvailable ?? '-'}, ${s.disruptionsAllowed ?? 0} disruptions allowed`;
    case 'Secret':
      return `${object.type ?? 'Opaque'}, ${Object.keys(object.data ?? {}).length} keys`;
    case 'PersistentVolumeClaim':
      return [s.phase, s.capacity?.storage].filter(Boolean).join(' ');
    case 'CronJob':
      return `schedule ${object.spec?.schedule ?? '?'}${object.spec?.suspend ? ' (suspended)' : ''}`;
    default:
      return '';
  }
}

/** Event reasons that are steps of a rolling update or a switchover. */
const STEP_REASON = /^(RollingUpdate|Switchover|WaitingFor|Waiting$|StatefulSetRecreated|PodAnnotationsUpdated)/;

/** @returns an Event as shown (time: lastTimestamp, eventTime or creation, in that order) */
export function eventView(event: KubeObject): EventView {
  const involved = event.involvedObject ?? event.regarding ?? {};
  return {
    time: event.lastTimestamp ?? event.eventTime ?? event.metadata?.creationTimestamp ?? '',
    type: event.type ?? 'Normal',
    reason: event.reason ?? '',
    object: `${involved.kind ?? ''}/${involved.name ?? ''}`,
    message: event.message ?? event.note ?? '',
    count: event.count ?? 1,
  };
}

/** What the cluster page is made from. */
export interface ClusterInputs {
  cluster: KubeObject;
  /** every child read (StatefulSet, Services, Endpoints, Secrets, PDB, PVCs, pooler Deployments, CronJob) */
  children: readonly KubeObject[];
  pods: readonly KubeObject[];
  /** Events of the namespace; those about the cluster, its children and pods are kept */
  events: readonly KubeObject[];
  /** Patroni's `GET /cluster` from one of the pods, when it answered */
  patroni?: PatroniCluster;
  labels: LabelNames;
  /** `cluster_domain`, default `cluster.local` */
  clusterDomain: string;
  notes?: string[];
}

/** @returns the cluster page */
export function clusterPage(inputs: ClusterInputs): ClusterPage {
  const { cluster, children, pods, labels } = inputs;
  const name = cluster.metadata?.name ?? '';
  const namespace = cluster.metadata?.namespace ?? '';
  const statefulSet = children.find((c) => c.kind === 'StatefulSet' && c.metadata?.name === name);
  const members = new Map((inputs.patroni?.members ?? []).map((m) => [m.name, m]));
  const related = new Set([
    `postgresql/${name}`,
    ...children.map((c) => `${c.kind}/${c.metadata?.name}`),
    ...pods.map((p) => `Pod/${p.metadata?.name}`),
  ]);
  const events = inputs.events
    .map(eventView)
    .filter((e) => related.has(e.object))
    .sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  const secrets = children.filter((c) => c.kind === 'Secret');
  const spec = cluster.spec ?? {};
  return {
    ...fleetRow(cluster, statefulSet, pods),
    children: children
      .map((c) => ({ kind: c.kind ?? '', name: c.metadata?.name ?? '', state: childState(c) }))
      .sort((a, b) => (a.kind + a.name < b.kind + b.name ? -1 : 1)),
    pods: pods
      .map((pod): PodView => {
        const member = members.get(pod.metadata?.name ?? '');
        return {
          name: pod.metadata?.name ?? '',
          role: pod.metadata?.labels?.[labels.podRole] ?? member?.role ?? '',
          ready: podReady(pod),
          phase: pod.status?.phase ?? '',
          node: pod.spec?.nodeName ?? '',
          ip: pod.status?.podIP ?? '',
          onOldTemplate: annotation(pod, ROLLING_UPDATE_ANNOTATION) === 'true',
          ...(member ? { patroniState: member.state } : {}),
          lag: member
            ? (member.lag ?? (member.role === 'leader' || member.role === 'master' ? 0 : 'unknown'))
            : 'unknown',
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : 1)),
    steps: events.filter((e) => STEP_REASON.test(e.reason)).reverse(),
    events,
    connection: {
      host: `${name}.${namespace}.svc.${inputs.clusterDomain}`,
      replicaHost: `${name}-repl.${namespace}.svc.${inputs.clusterDomain}`,
      port: 5432,
      databases: Object.keys(spec.databases ?? {}).sort(),
      users: Object.keys(spec.users ?? {})
        .sort()
        .map((user) => {
          const secret = secrets.find((s) => s.metadata?.name?.startsWith(`${user.replace(/_/g, '-')}.${name}.`));
          return { name: user, ...(secret ? { secret: secret.metadata!.name! } : {}) };
        }),
    },
    spec,
    notes: inputs.notes ?? [],
  };
}
/* eslint-enable @typescript-eslint/no-explicit-any */

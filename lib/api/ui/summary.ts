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
import { isFlagged } from '../../sync/pods/flags';
import { SYNC_NOW_ANNOTATION } from '../../model/annotations';
import type { PatroniCluster } from '../../patroni/types';
import {
  isPodReady,
  clusterSummary,
  conditionOf,
  eventTime,
  type ClusterSummary,
  type EventObject,
  type PodObject,
  type PostgresqlObject,
} from '../shape';

/**
 * One row of the fleet table: the API's cluster summary (lib/api/shape.ts, the same one the metrics read), with the
 * rolling update's message and whether a `sync-now` waits to be honoured.
 */
export interface FleetRow extends ClusterSummary {
  /** the `RollingUpdate` condition's message (which pod is next, what it waits for) */
  rolloutMessage?: string;
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

/* eslint-disable @typescript-eslint/no-explicit-any -- objects are read field by field, any kind */

/**
 * @param cluster the `postgresql` object as read
 * @param pods its pods
 * @returns the fleet table's row
 */
export function fleetRow(cluster: PostgresqlObject, pods: readonly PodObject[]): FleetRow {
  const message = conditionOf(cluster, 'RollingUpdate')?.message;
  return {
    ...clusterSummary(cluster, pods),
    ...(message ? { rolloutMessage: message } : {}),
    syncRequested: cluster.metadata?.annotations?.[SYNC_NOW_ANNOTATION] !== undefined,
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
  /** the pods (the summary's `pods` is their count) */
  podViews: PodView[];
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

/** @returns an Event as shown (time as the API's log says it: lastTimestamp, eventTime, firstTimestamp, creation) */
export function eventView(event: KubeObject): EventView {
  const involved = event.involvedObject ?? event.regarding ?? {};
  return {
    time: eventTime(event as EventObject),
    type: event.type ?? 'Normal',
    reason: event.reason ?? '',
    object: `${involved.kind ?? ''}/${involved.name ?? ''}`,
    message: event.message ?? event.note ?? '',
    count: event.count ?? 1,
  };
}

/** What the cluster page is made from. */
export interface ClusterInputs {
  cluster: PostgresqlObject;
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
  const spec: any = cluster.spec ?? {};
  return {
    ...fleetRow(cluster, pods as PodObject[]),
    children: children
      .map((c) => ({ kind: c.kind ?? '', name: c.metadata?.name ?? '', state: childState(c) }))
      .sort((a, b) => (a.kind + a.name < b.kind + b.name ? -1 : 1)),
    podViews: pods
      .map((pod): PodView => {
        const member = members.get(pod.metadata?.name ?? '');
        return {
          name: pod.metadata?.name ?? '',
          role: pod.metadata?.labels?.[labels.podRole] ?? member?.role ?? '',
          ready: isPodReady(pod as PodObject),
          phase: pod.status?.phase ?? '',
          node: pod.spec?.nodeName ?? '',
          ip: pod.status?.podIP ?? '',
          onOldTemplate: isFlagged(pod),
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

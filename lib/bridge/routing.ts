/**
 * Which function a change goes to, read from the triggers in `lib/registry/functions.ts`, plus the two decisions the
 * registry cannot express: a Node update is only worth a call when the node *starts* going away, and a
 * postgresql update annotated `acid.zalan.do/sync-now` skips the coalescing delay.
 *
 * Sources: Kubernetes "Taints and Tolerations" (`node.kubernetes.io/unschedulable`), `kubectl cordon`
 * (`spec.unschedulable`), Cluster Autoscaler FAQ (`ToBeDeletedByClusterAutoscaler` taint), Karpenter disruption
 * docs (`karpenter.sh/disrupted` taint), Zalando operator parameters (`node_readiness_label`).
 */
import { FUNCTIONS, type ResourceAction } from '../registry/functions';
import type { KubernetesObject, V1Node } from '@kubernetes/client-node';
import type { KubeObject } from '../k8s/client';
import { SYNC_NOW_ANNOTATION } from '../model/annotations';
import { DRAIN_TAINTS, goingAwayReasons as nodeReasons } from '../plan/node-drain';

/**
 * The resources the bridge watches, named as in the registry's resource triggers; `statefulset` and `postgresteam`
 * are the bridge's own: a change of a cluster's StatefulSet readiness goes to `on-update` of the cluster (see
 * {@link StatefulSetTracker}), a PostgresTeam change to `on-update` of the clusters it concerns
 * (`postgres-teams.ts`).
 */
export type WatchedResource = 'postgresql' | 'operator-configmap' | 'node' | 'statefulset' | 'postgresteam';

/** The function a cluster's StatefulSet readiness change goes to. */
export const READINESS_TARGET = 'on-update';

/** The function that syncs every cluster at once: the cron's, and the bridge's for clusters it lists again. */
export const FLEET_SYNC_TARGET = 'periodic-sync';

/**
 * @returns whether an operator synced the `postgresql` object before (it has a status): its `add` comes from a list
 *   (the bridge starting, an informer restarting), not from its creation, so the fleet sync's diff covers it
 */
export function wasSynced(object: KubeObject): boolean {
  return (object as { status?: unknown }).status !== undefined;
}

/** One change seen by an informer. For `delete`, `object` is the last state the informer knew. */
export interface ObjectChange {
  resource: WatchedResource;
  action: ResourceAction;
  object: KubeObject;
}

/** A delivery to make for a change. */
export interface Route {
  /** the function's registry name, e.g. `on-update` */
  target: string;
  /** an update: may be merged with later updates of the same object while it waits (adds and deletes never are) */
  mergeable: boolean;
  /** deliver without the coalescing delay */
  urgent: boolean;
  /** why a Node is going away (only for `on-node-drain`) */
  reasons?: string[];
}

/** The annotation that asks for an immediate sync of a postgresql object (the handler removes it). */
export { SYNC_NOW_ANNOTATION };

/** Taints that say a node is about to be drained or removed. */
export const GOING_AWAY_TAINTS: readonly string[] = DRAIN_TAINTS;

/** @returns the registry names of the functions triggered by this resource and action, in registry order */
export function functionsFor(resource: WatchedResource, action: ResourceAction): string[] {
  return FUNCTIONS.filter(
    (f) => f.trigger.type === 'resource' && f.trigger.resource === resource && f.trigger.actions.includes(action),
  ).map((f) => f.name);
}

/**
 * @returns the per-object queue key: `resource/namespace/name` (`resource//name` for cluster-scoped objects); a
 *   StatefulSet shares its cluster's key (same namespace and name), so its readiness change merges with the
 *   cluster's own waiting update
 */
export function objectKey(resource: WatchedResource, object: KubeObject): string {
  const queue = resource === 'statefulset' ? 'postgresql' : resource;
  return `${queue}/${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

/** @returns whether a postgresql object carries the sync-now annotation (any value) */
export function wantsSyncNow(object: KubernetesObject): boolean {
  const annotations = object.metadata?.annotations;
  return annotations !== undefined && Object.hasOwn(annotations, SYNC_NOW_ANNOTATION);
}

/** What the bridge remembers of a Node to see it start going away. */
export interface NodeSnapshot {
  unschedulable: boolean;
  /** keys of the going-away taints present */
  taints: string[];
  labels: Record<string, string>;
}

/** @returns the parts of a Node that matter for draining */
export function nodeSnapshot(node: V1Node): NodeSnapshot {
  const taints = (node.spec?.taints ?? []).map((t) => t.key ?? '').filter((key) => GOING_AWAY_TAINTS.includes(key));
  return { unschedulable: node.spec?.unschedulable === true, taints, labels: { ...(node.metadata?.labels ?? {}) } };
}

/**
 * @param readinessLabels the operator config's `node_readiness_label` (label → required value)
 * @returns why the node is going away (empty when it is not): `unschedulable`, `taint <key>`,
 *   `missing label <key>=<value>`
 */
export function goingAwayReasons(node: NodeSnapshot, readinessLabels: Readonly<Record<string, string>>): string[] {
  return nodeReasons(
    {
      spec: { unschedulable: node.unschedulable, taints: node.taints.map((key) => ({ key })) },
      metadata: { labels: node.labels },
    },
    readinessLabels,
  );
}

/**
 * Remembers every Node's last state, because the informer has already replaced its cached object when it calls
 * the update callback. A node "starts going away" when it had no going-away reason before a change and has one
 * after: a cordon followed by the node controller's unschedulable taint is one drain, not two.
 */
export class NodeTracker {
  private readonly nodes = new Map<string, NodeSnapshot>();

  constructor(private readinessLabels: Readonly<Record<string, string>> = {}) {}

  /** Uses new readiness labels from now on (the previous states are judged by the new labels too). */
  setReadinessLabels(labels: Readonly<Record<string, string>>): void {
    this.readinessLabels = labels;
  }

  /**
   * Records a change of a Node.
   * @returns the reasons when this change makes the node start going away, or when the node is first seen (an
   *   add, e.g. the initial list after a restart) already going away: a drain that began while the bridge was down
   *   is delivered at least once. Undefined otherwise; deletes never fire.
   */
  observe(action: ResourceAction, node: V1Node): string[] | undefined {
    const name = node.metadata?.name ?? '';
    if (action === 'delete') {
      this.nodes.delete(name);
      return undefined;
    }
    const before = this.nodes.get(name);
    const after = nodeSnapshot(node);
    this.nodes.set(name, after);
    const reasonsAfter = goingAwayReasons(after, this.readinessLabels);
    if (reasonsAfter.length === 0) return undefined;
    if (before === undefined) return reasonsAfter;
    return goingAwayReasons(before, this.readinessLabels).length > 0 ? undefined : reasonsAfter;
  }
}

/**
 * The last fingerprint seen of each namespaced object, because the informer has already replaced its cached object
 * when it calls back: what a tracker compares a change with.
 */
class LastSeen {
  private readonly seen = new Map<string, string>();

  /**
   * Records the object's new fingerprint (or forgets it on delete).
   * @returns the fingerprint seen before, undefined the first time (or on delete)
   */
  record(action: ResourceAction, object: KubeObject, fingerprint: string): string | undefined {
    const key = `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
    const before = this.seen.get(key);
    if (action === 'delete') this.seen.delete(key);
    else this.seen.set(key, fingerprint);
    return before;
  }
}

/** The parts of a StatefulSet's status that say how many of a cluster's pods exist and are Ready. */
const readinessOf = (sts: KubeObject): string => {
  const status = (sts as { status?: Record<string, unknown> }).status ?? {};
  return JSON.stringify([status.observedGeneration, status.replicas, status.readyReplicas]);
};

/**
 * What the bridge keeps of a StatefulSet (the `keep` of its informer): identity, labels and the fields of
 * `readinessOf`. Nothing else of it is read (the event it causes names the cluster only), and the informer holds
 * every StatefulSet for as long as the bridge runs.
 */
export function statefulSetReadinessView(sts: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion, generation, labels, deletionTimestamp } = sts.metadata ?? {};
  const status = (sts as { status?: Record<string, unknown> }).status ?? {};
  return {
    apiVersion: sts.apiVersion,
    kind: sts.kind,
    metadata: { name, namespace, uid, resourceVersion, generation, labels, deletionTimestamp },
    status: {
      observedGeneration: status.observedGeneration,
      replicas: status.replicas,
      readyReplicas: status.readyReplicas,
    },
  };
}

/**
 * Remembers the readiness of every cluster's StatefulSet (selected by the operator config's `cluster_labels`), so
 * that a change of it is delivered to `on-update` of the cluster of the same name, whose status then follows its
 * pods (`Running` within the coalescing window of the last pod turning Ready) without polling. Only readiness
 * counts: the operator's own writes to the StatefulSet (spec, annotations) are not work for it. Every event the
 * bridge sends says so (`readinesswatch`), so the functions do not ask to be called again while pods start.
 */
export class StatefulSetTracker {
  private readonly seen = new LastSeen();

  constructor(private clusterLabels: Readonly<Record<string, string>> = { application: 'spilo' }) {}

  /** Uses new cluster labels from now on (`cluster_labels`). */
  setClusterLabels(labels: Readonly<Record<string, string>>): void {
    this.clusterLabels = labels;
  }

  /**
   * Records a change of a StatefulSet.
   * @returns whether it changes the readiness of a cluster's pods: an update whose observed generation, replicas
   *   or ready replicas differ from the last seen (an add, e.g. the initial list, only records them)
   */
  observe(action: ResourceAction, sts: KubeObject): boolean {
    const labels = sts.metadata?.labels ?? {};
    if (action !== 'delete' && !Object.entries(this.clusterLabels).every(([k, v]) => labels[k] === v)) return false;
    const after = readinessOf(sts);
    const before = this.seen.record(action, sts, after);
    return action === 'update' && before !== undefined && before !== after;
  }
}

/** What of a `postgresql` object asks for work: its spec (generation), labels, annotations and deletion. */
const intentOf = (object: KubeObject): string => {
  const meta = object.metadata ?? {};
  return JSON.stringify([meta.generation, meta.labels ?? {}, meta.annotations ?? {}, meta.deletionTimestamp ?? null]);
};

/**
 * Remembers what each `postgresql` object asked for when last seen, so an update that changes none of it (the
 * operator's own status or finalizer write, coming back as an event) is not delivered as work: `on-update` would
 * read everything again and find nothing to do. The periodic sync still visits every cluster.
 */
export class ClusterTracker {
  private readonly seen = new LastSeen();

  /** @returns whether the change may ask for work: any add or delete, an update of spec, labels, annotations or deletion */
  observe(action: ResourceAction, object: KubeObject): boolean {
    const after = intentOf(object);
    const before = this.seen.record(action, object, after);
    return action !== 'update' || before !== after;
  }
}

/**
 * Decides the deliveries of one change. Node, StatefulSet and postgresql changes also update their trackers, so
 * call this exactly once per change, in the order the informer reports them.
 */
export function routeChange(
  change: ObjectChange,
  nodes: NodeTracker,
  statefulSets: StatefulSetTracker = new StatefulSetTracker(),
  clusters?: ClusterTracker,
): Route[] {
  if (change.resource === 'postgresql' && clusters && !clusters.observe(change.action, change.object)) return [];
  if (change.resource === 'statefulset') {
    if (!statefulSets.observe(change.action, change.object)) return [];
    return [{ target: READINESS_TARGET, mergeable: true, urgent: false }];
  }
  const targets = functionsFor(change.resource, change.action);
  const mergeable = change.action === 'update';
  if (change.resource === 'node') {
    const reasons = nodes.observe(change.action, change.object);
    if (!reasons) return [];
    return targets.map((target) => ({ target, mergeable: false, urgent: true, reasons }));
  }
  const urgent = !mergeable || (change.resource === 'postgresql' && wantsSyncNow(change.object));
  return targets.map((target) => ({ target, mergeable, urgent }));
}

/**
 * The plan preview's answer, shaped from what the sync's own plan computed (lib/plan/cluster.ts `planCluster`,
 * through `planPass` of lib/sync/cluster/sync-cluster.ts) and the pods the rolling update would flag
 * (lib/sync/pods/flags.ts `podsToFlag`). Pure: no second copy of the sync's decisions, only their presentation,
 * and the rollout duration arithmetic.
 */
import { appliedAction, type AppliedAction } from '../plan/cluster-events';
import type { ClusterPlanResult } from '../plan/cluster';
import { objectKey } from '../plan/plan';
import { fieldChanges, type FieldChange } from './plan-diff';

/** One write the sync would make: as the sync reports it (`AppliedAction`), plus the fields it changes. */
export interface PlannedWrite extends AppliedAction {
  fields: FieldChange[];
}

/** What a sync of one manifest would do. */
export interface ClusterPreview {
  namespace: string;
  name: string;
  /** the `postgresql` object exists already (the preview compares with its children) */
  exists: boolean;
  /** the writes to children, in the sync's order (created, updated, deleted; the StatefulSet's steps below) */
  actions: PlannedWrite[];
  /** how the StatefulSet change reaches the pods: a rolling update, a re-create, a volume resize, a scale-down */
  statefulSet: {
    rollingUpdate?: string;
    recreate?: string;
    volumeResize?: { from: string; to: string };
    scaleDown?: { from: number; to: number };
    podAnnotations?: { set: Record<string, string>; remove: string[] };
  };
  /** changes the sync refuses (a smaller volume, a scale-down removing the master), with why */
  refusals: unknown[];
  /** pods the sync would flag for a rolling update (`zalando-postgres-operator-rolling-update-required`) */
  podsToRecreate: string[];
  /**
   * whether the rolling update switches the master over: a flagged master with a replica to take over is recreated
   * last, after a Patroni switchover (Zalando's order); a single pod is restarted without one (downtime)
   */
  switchover: { happens: boolean; why: string };
  /** warnings the manifest gets (fields accepted but not acted on) */
  warnings: string[];
}

/** A pod as the preview reads it: its name and its role label. */
export interface PreviewPod {
  name: string;
  role?: string;
}

/**
 * @param observed the live children by `Kind/name`, as the plan saw them
 * @param flagged the pods `podsToFlag` picks (empty when the StatefulSet change has no rolling update)
 * @param pods every pod of the cluster
 * @returns the preview of one cluster's sync
 */
export function clusterPreview(
  key: { namespace: string; name: string; exists: boolean },
  plan: ClusterPlanResult,
  observed: ReadonlyMap<string, unknown>,
  flagged: readonly PreviewPod[],
  pods: readonly PreviewPod[],
  warnings: string[],
): ClusterPreview {
  const actions = plan.actions.map((action) => ({
    ...appliedAction(action),
    fields:
      action.change === 'deleted'
        ? []
        : fieldChanges(
            action.object as unknown as Record<string, unknown>,
            observed.get(objectKey(action.object)) as Record<string, unknown> | undefined,
          ),
  }));
  const { rollingUpdate, recreate, volumeResize, scaleDown, podAnnotations } = plan.statefulSet;
  const master = flagged.find((p) => p.role === 'master' || p.role === 'primary');
  const replicas = pods.filter(
    (p) => p !== master && p.role !== undefined && p.role !== 'master' && p.role !== 'primary',
  );
  const switchover = !master
    ? { happens: false, why: flagged.length > 0 ? 'no master pod is flagged' : 'no pod is recreated' }
    : replicas.length === 0
      ? { happens: false, why: `${master.name} is the only pod: it is restarted without a switchover` }
      : { happens: true, why: `${master.name} is the master: it is recreated last, after a switchover to a replica` };
  return {
    namespace: key.namespace,
    name: key.name,
    exists: key.exists,
    actions,
    statefulSet: {
      ...(rollingUpdate ? { rollingUpdate } : {}),
      ...(recreate ? { recreate } : {}),
      ...(volumeResize ? { volumeResize } : {}),
      ...(scaleDown ? { scaleDown } : {}),
      ...(podAnnotations ? { podAnnotations } : {}),
    },
    refusals: plan.refusals,
    podsToRecreate: flagged.map((p) => p.name),
    switchover,
    warnings,
  };
}

/** A cluster whose pods a config rollout restarts, and how many. */
export interface RolloutCluster {
  namespace: string;
  name: string;
  pods: number;
}

/** The expected duration of a fleet rollout, and the order the slots take the clusters in. */
export interface RolloutEstimate {
  clustersAtOnce: number;
  podSeconds: number;
  clusterDelaySeconds: number;
  /** seconds from the first pod restarted to the last cluster done */
  expectedSeconds: number;
  /** the clusters each slot rolls, in order (`namespace/name`) */
  slots: string[][];
}

/**
 * How long a rollout of these clusters takes when `rollout_clusters_at_once` clusters roll at a time: each cluster
 * takes a slot for `pods × podSeconds` (one pod recreated and Ready at a time), then the slot waits
 * `rollout_cluster_delay` before its next cluster; clusters take the slot that frees first, in the order given.
 * @param podSeconds seconds one pod takes to be recreated and Ready (an estimate the caller gives; 60 by default in
 *   the API)
 */
export function rolloutEstimate(
  clusters: readonly RolloutCluster[],
  clustersAtOnce: number,
  podSeconds: number,
  clusterDelaySeconds: number,
): RolloutEstimate {
  const slotCount = Math.max(1, Math.min(clustersAtOnce, clusters.length || 1));
  const free = Array.from({ length: slotCount }, () => 0);
  const done = Array.from({ length: slotCount }, () => 0);
  const slots: string[][] = Array.from({ length: slotCount }, () => []);
  for (const cluster of clusters) {
    let slot = 0;
    for (let i = 1; i < slotCount; i++) if (free[i]! < free[slot]!) slot = i;
    const end = free[slot]! + cluster.pods * podSeconds;
    done[slot] = end;
    free[slot] = end + clusterDelaySeconds;
    slots[slot]!.push(`${cluster.namespace}/${cluster.name}`);
  }
  return {
    clustersAtOnce,
    podSeconds,
    clusterDelaySeconds,
    expectedSeconds: Math.max(0, ...done),
    slots: slots.filter((s) => s.length > 0),
  };
}
